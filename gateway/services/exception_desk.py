"""The exceptions a member is party to, as this gateway's index holds them: each with its
answer deadline and age in the counterparty's business days (``GET /v1/exceptions``)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, or_, select

from gateway.db import models as m
from gateway.services.deadlines import MemberZones
from ledger_client.audit.deadlines import BusinessCalendar, answer_timing
from ledger_client.ids import hex_or_none
from ledger_client.types import ExceptionKind, ExceptionStatus, Resolver


def list_exceptions(
    conn: Connection,
    calendar: BusinessCalendar,
    store_path: Path | None,
    now: int,
    party: str | None,
    statuses: Collection[ExceptionStatus] = (),
    overdue_only: bool = False,
    limit: int = 100,
    name_of: Callable[[str], str | None] = lambda _a: None,
) -> list[dict[str, Any]]:
    """The exceptions ``party`` opened or must answer (None: every member's), newest first,
    with ``statuses`` only if given, and only those open past their deadline if
    ``overdue_only``; at most ``limit``. Deadlines and ages are as at ``now`` (the chain's
    time), counted as the deadline alerts count them."""
    query = select(m.ExceptionCase).order_by(
        m.ExceptionCase.opened_at.desc(), m.ExceptionCase.id.desc()
    )
    if party is not None:
        query = query.where(
            or_(m.ExceptionCase.opener == party, m.ExceptionCase.counterparty == party)
        )
    if overdue_only:
        statuses = [ExceptionStatus.OPEN]
    if statuses:
        query = query.where(m.ExceptionCase.status.in_([int(s) for s in statuses]))
    zones = MemberZones(conn, store_path)
    out: list[dict[str, Any]] = []
    for case in conn.execute(query).all():
        zone = zones.of(case.counterparty)
        status = ExceptionStatus(case.status)
        _due, timing = answer_timing(calendar, case, status == ExceptionStatus.OPEN, now, zone)
        if overdue_only and not timing["answer_overdue"]:
            continue
        out.append(
            {
                "id": case.id,
                "kind": ExceptionKind(case.kind).name,
                "status": status.name,
                "opener": case.opener,
                "opener_name": name_of(case.opener),
                "counterparty": case.counterparty,
                "counterparty_name": name_of(case.counterparty),
                "resolved_by": Resolver(case.resolved_by).name if case.resolved_by else None,
                **timing,
                "items_hash": hex_or_none(case.items_hash),
                "evidence_hash": hex_or_none(case.evidence_hash),
                "answer_evidence_hash": hex_or_none(case.answer_hash),
                "resolution_evidence_hash": hex_or_none(case.resolution_hash),
            }
        )
        if len(out) == limit:
            break
    return out
