"""A member's standing (roles, status, licence) and whether it may act: one rule for logins,
every authenticated request, relayed requests and webhook deliveries."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from gateway.db import models as m
from ledger_client.contracts import MemberStatus, Role

#: Roles that see every member's alerts.
SEE_ALL = Role.REGULATOR | Role.AUDITOR


@dataclass(frozen=True)
class Standing:
    """A member's roles, status and licence expiry (0: none), from the chain or the index."""

    roles: Role
    status: MemberStatus
    licence_expiry: int


#: The standing of an address the consortium never admitted.
STRANGER = Standing(Role(0), MemberStatus.NONE, 0)


def refusal(address: str, standing: Standing, now: float | None = None) -> str | None:
    """Why ``address`` may not act now, or None when it is an active member with a licence."""
    if standing.status == MemberStatus.NONE:
        return f"{address} is not a member of this RxLedger network"
    if standing.status != MemberStatus.ACTIVE:
        return f"member {address} is {standing.status.name.lower()}"
    now = time.time() if now is None else now
    if standing.licence_expiry and standing.licence_expiry < now:
        return f"member {address}'s licence expired"
    return None


def webhook_audience(conn: Connection | Session, owners: Iterable[str]) -> dict[str, bool]:
    """Which of ``owners`` may receive alerts now (per the index), and whether each may still
    see every member's (a regulator or auditor). Members not in the result receive nothing."""
    rows = conn.execute(
        select(m.Member.address, m.Member.roles, m.Member.status, m.Member.licence_expiry).where(
            m.Member.address.in_(set(owners))
        )
    )
    now = time.time()
    audience = {}
    for address, roles, status, licence_expiry in rows:
        standing = Standing(Role(roles), MemberStatus(status), int(licence_expiry))
        if refusal(address, standing, now) is None:
            audience[address] = bool(standing.roles & SEE_ALL)
    return audience
