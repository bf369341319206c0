"""Webhook subscriptions: register, list and remove a member's webhooks.

Delivery is ``gateway/services/webhooks.py``; the URL is vetted before :func:`add_subscription`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.schemas import SubscriptionOut


def add_subscription(
    engine: Engine, url: str, kinds: Sequence[str], owner: str, all_holders: bool
) -> SubscriptionOut:
    """Store an active webhook of ``owner`` for alerts of ``kinds`` (empty: all); with
    ``all_holders`` it receives every member's alerts (regulators and auditors)."""
    with engine.begin() as conn:
        sub_id = conn.execute(
            insert(m.Subscription)
            .values(
                url=url,
                kinds=list(kinds),
                owner=owner,
                all_holders=all_holders,
                active=True,
                created_at=time.time(),
            )
            .returning(m.Subscription.id)
        ).scalar_one()
    return SubscriptionOut(id=sub_id, url=url, kinds=list(kinds), owner=owner)


def subscriptions_of(engine: Engine, owner: str) -> list[SubscriptionOut]:
    """The webhooks of ``owner``."""
    with Session(engine) as session:
        rows = session.execute(
            select(m.Subscription).where(m.Subscription.owner == owner)
        ).scalars()
        return [SubscriptionOut(id=s.id, url=s.url, kinds=s.kinds, owner=s.owner) for s in rows]


def remove_subscription(engine: Engine, subscription_id: int, owner: str) -> bool:
    """Remove webhook ``subscription_id`` if ``owner`` has it; return whether it did."""
    with engine.begin() as conn:
        gone = conn.execute(
            delete(m.Subscription).where(
                m.Subscription.id == subscription_id, m.Subscription.owner == owner
            )
        ).rowcount
    return bool(gone)
