"""Alerts for what falls due without an event: an exception not answered in time, and a
suspect-product investigation whose 3911-style notification is overdue.

The indexer calls :class:`DeadlineAlerts` in each step's transaction with the block time of
the step's last block (the chain's "now", so moving the chain's time moves the deadlines).

- **An exception not answered** within ``exception_answer_days`` business days
  (:mod:`ledger_client.audit.deadlines`; weekends and ``exception_holidays`` skipped, counted
  in the counterparty's time zone from the location master data of its GLN in the operator's
  EPCIS store, else UTC): an ``exception_overdue`` alert to both parties (and, as every
  alert, to regulators and auditors). It is withdrawn, with the reason, once the exception is
  answered or resolved.
- **An illegitimacy determination** (a ``PacksFlagged`` event raising ILLEGITIMATE) 24 hours
  old whose packs are still flagged: a ``notification_overdue`` alert to every member, as the
  flag's own alert. The chain holds no record of the notification's filing, so the alert
  stands until the investigation is closed (the flag cleared), and is then withdrawn.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from gateway.db import models as m
from gateway.schemas import AlertKind
from gateway.services.alerts import raise_alert, withdraw_alert
from ledger_client.audit.catalogue import time_zone_attribute
from ledger_client.audit.deadlines import BusinessCalendar, iso, zone_name
from ledger_client.audit.investigations import NOTIFICATION_SECONDS
from ledger_client.epcis.store import EventStore
from ledger_client.types import ExceptionKind, ExceptionStatus, PackFlag

EXCEPTION_KEY = "exception-overdue:"
NOTIFICATION_KEY = "notification-overdue:"


class DeadlineAlerts:
    """Raises and withdraws the deadline alerts as at the chain's time (an indexer time hook)."""

    def __init__(self, calendar: BusinessCalendar, store_path: Path | None = None) -> None:
        self.calendar = calendar
        self.store_path = store_path

    def __call__(self, conn: Connection, block: int, now: int) -> None:
        """Raise what fell due by ``now``, the time of ``block`` (a reorg below it withdraws
        them, and they are raised again when still due), and withdraw what was done."""
        self._exceptions(conn, block, now)
        self._notifications(conn, block, now)

    # ------------------------------------------------------------ exceptions

    def _exceptions(self, conn: Connection, block: int, now: int) -> None:
        zones = MemberZones(conn, self.store_path)
        for case in conn.execute(
            select(m.ExceptionCase).where(m.ExceptionCase.status == int(ExceptionStatus.OPEN))
        ).all():
            zone = zones.of(case.counterparty)
            due = self.calendar.due(case.opened_at, zone)
            if now < due:
                continue
            kind = ExceptionKind(case.kind).name.lower()
            where = zone_name(zone)
            raise_alert(
                conn,
                f"{EXCEPTION_KEY}{case.id}",
                AlertKind.EXCEPTION_OVERDUE,
                "warning",
                f"exception {case.id} ({kind}) opened by {case.opener} at "
                f"{iso(case.opened_at)} is not answered by {case.counterparty}: it was due at "
                f"{iso(due)} ({self.calendar.answer_days} business days, {where}"
                f"{'' if zone else ': no time zone in the location master data'})",
                str(case.id),
                None,
                {
                    "exception_id": case.id,
                    "kind": kind,
                    "opener": case.opener,
                    "counterparty": case.counterparty,
                    "opened_at": iso(case.opened_at),
                    "due_at": iso(due),
                    "business_days": self.calendar.answer_days,
                    "time_zone": where,
                    "age_business_days": self.calendar.age(case.opened_at, now, zone),
                },
                audience=[case.opener, case.counterparty],
                block_number=block,
            )
        raised = dict(
            conn.execute(
                select(m.Alert.subject, m.Alert.id).where(
                    m.Alert.kind == AlertKind.EXCEPTION_OVERDUE.value,
                    m.Alert.withdrawn_at.is_(None),
                )
            ).all()
        )
        if not raised:
            return
        for case in conn.execute(
            select(m.ExceptionCase).where(
                m.ExceptionCase.id.in_([int(s) for s in raised]),
                m.ExceptionCase.status != int(ExceptionStatus.OPEN),
            )
        ).all():
            step, at = (
                ("resolved", case.resolved_at)
                if case.status == ExceptionStatus.RESOLVED
                else ("answered", case.answered_at)
            )
            withdraw_alert(
                conn,
                raised[str(case.id)],
                f"{EXCEPTION_KEY}{case.id}",
                f"exception {case.id} was {step} at {iso(at)}",
            )

    # ------------------------------------------------------------ 3911 notifications

    def _notifications(self, conn: Connection, block: int, now: int) -> None:
        """One query over the packs still flagged illegitimate and the determinations that
        flagged them, 24 hours old or more."""
        open_alerts = dict(
            conn.execute(
                select(m.Alert.key, m.Alert.id).where(
                    m.Alert.kind == AlertKind.NOTIFICATION_OVERDUE.value,
                    m.Alert.withdrawn_at.is_(None),
                )
            ).all()
        )
        still = conn.execute(
            select(m.ChainEvent, m.EventItem.item_id)
            .join(m.EventItem, m.EventItem.event_id == m.ChainEvent.id)
            .join(m.Pack, m.Pack.pack_id == m.EventItem.item_id)
            .where(
                m.ChainEvent.name == "PacksFlagged",
                m.ChainEvent.block_time <= now - NOTIFICATION_SECONDS,
                m.EventItem.kind == "pack",
                m.Pack.flags.op("&")(int(PackFlag.ILLEGITIMATE)) != 0,
            )
            .order_by(m.ChainEvent.id)
        ).all()
        open_: dict[str, tuple[Any, list[str]]] = {}
        for row in still:
            flags = row.args.get("flags", 0)
            if isinstance(flags, int) and flags & PackFlag.ILLEGITIMATE:
                key = f"{NOTIFICATION_KEY}0x{bytes(row.tx_hash).hex()}:{row.log_index}"
                open_.setdefault(key, (row, []))[1].append("0x" + bytes(row.item_id).hex())
        for key, alert_id in open_alerts.items():
            if key not in open_:
                withdraw_alert(
                    conn,
                    alert_id,
                    key,
                    "the investigation is closed: no pack of the determination is still"
                    " flagged illegitimate",
                )
        for key, (event, packs) in open_.items():
            tx = "0x" + bytes(event.tx_hash).hex()
            due = event.block_time + NOTIFICATION_SECONDS
            raise_alert(
                conn,
                key,
                AlertKind.NOTIFICATION_OVERDUE,
                "critical",
                f"{len(packs)} pack(s) were determined illegitimate by {event.actor} at "
                f"{iso(event.block_time)}: the 3911-style notification was due at {iso(due)}"
                " (24 hours) and the investigation is still open",
                packs[0],
                None,
                {
                    "determination_tx": tx,
                    "determined_at": iso(event.block_time),
                    "due_at": iso(due),
                    "by": event.actor,
                    "pack_ids": packs[:100],
                },
                block_number=block,
            )


class MemberZones:
    """The time zone of each member's location, from the operator's EPCIS store (read once)."""

    def __init__(self, conn: Connection, store_path: Path | None) -> None:
        self.conn = conn
        self.store_path = store_path
        self._store: EventStore | None = None
        self._zones: dict[str, tzinfo | None] = {}

    def of(self, account: str) -> tzinfo | None:
        if account not in self._zones:
            self._zones[account] = self._read(account)
        return self._zones[account]

    def _read(self, account: str) -> tzinfo | None:
        if self.store_path is None or not self.store_path.is_file():
            return None
        gln = self.conn.execute(
            select(m.Member.gln).where(m.Member.address == account)
        ).scalar_one_or_none()
        if gln is None:
            return None
        with EventStore(self.store_path) as store:
            location = store.location(gln)
        name = time_zone_attribute(location["attributes"]) if location else None
        try:
            return ZoneInfo(name) if name else None
        except (ZoneInfoNotFoundError, ValueError):
            return None
