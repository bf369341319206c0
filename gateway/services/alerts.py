"""Alerts: raised from indexed chain events and from verifications, and listed.

Who reads which alert: an alert with a ``holder`` only that holder; a restricted alert (one
that names a pack's clear GTIN and serial and who scanned it) only its audience, the members
entitled to that pack (its holder, its lot's owner, the product's owner); any other alert
every member. Regulators and auditors read them all. Webhooks apply the same rule
(``gateway/services/webhooks.py``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.projection import AppliedEvent
from gateway.schemas import AlertKind, AlertOut, Severity
from gateway.services.background import BackgroundLoop
from gateway.services.readmodel import UnitRow, custody_unit
from ledger_client.events import (
    ChainEvent,
    ExceptionOpened,
    LotStatusChanged,
    MemberKeyRotated,
    PacksFlagged,
    project,
)
from ledger_client.owners import prefix_heads
from ledger_client.rules import MAX_LEVEL
from ledger_client.types import (
    DecommissionReason,
    ExceptionKind,
    LotStatus,
    PackStatus,
    UnitStatus,
)

log = get_logger("rxledger.alerts")
MULTI_SITE_WINDOW = 30 * 24 * 3600


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def raise_alert(
    conn: Connection,
    key: str,
    kind: AlertKind,
    severity: str,
    message: str,
    subject: str,
    holder: str | None = None,
    data: dict[str, object] | None = None,
    audience: Iterable[str] | None = None,
    block_number: int | None = None,
) -> bool:
    """Store an alert unless one with ``key`` exists; return True if it is new.

    With ``audience`` the alert is restricted to those members (and regulators and auditors);
    ``block_number`` is the block of the event that raised it, if an event did.
    """
    if conn.execute(select(m.Alert.id).where(m.Alert.key == key)).first() is not None:
        return False
    alert_id = conn.execute(
        insert(m.Alert)
        .values(
            key=key,
            kind=kind.value,
            severity=severity,
            message=message,
            subject=subject,
            holder=holder,
            restricted=audience is not None,
            data=data or {},
            at=time.time(),
            block_number=block_number,
        )
        .returning(m.Alert.id)
    ).scalar_one()
    members = sorted(set(audience or ()))
    if members:
        conn.execute(
            insert(m.AlertAudience), [{"alert_id": alert_id, "address": a} for a in members]
        )
    return True


def visible_to(reader: str | None) -> ColumnElement[bool]:
    """SQL filter: the stored alerts ``reader`` (a member that does not see all) may read."""
    public = and_(m.Alert.holder.is_(None), m.Alert.restricted.is_(False))
    if reader is None:
        return public
    audience = select(m.AlertAudience.alert_id).where(m.AlertAudience.address == reader)
    return or_(public, m.Alert.holder == reader, m.Alert.id.in_(audience))


def may_read(alert: m.Alert, audience: set[str], reader: str) -> bool:
    """Python twin of :func:`visible_to` for one alert and its ``audience``."""
    if alert.holder is None and not alert.restricted:
        return True
    return alert.holder == reader or reader in audience


# ---------------------------------------------------------------------- custody helpers


def _top_unit_custodian(
    conn: Connection | Session, unit: bytes, rows: dict[bytes, UnitRow | None]
) -> str | None:
    """The custodian of what sits in ``unit``; ``rows`` caches the units read, across calls."""

    def load(unit_id: bytes) -> UnitRow | None:
        if unit_id not in rows:
            row = conn.execute(
                select(m.Unit.status, m.Unit.parent, m.Unit.custodian, m.Unit.pending_to).where(
                    m.Unit.unit_id == unit_id
                )
            ).first()
            parent = bytes(row[1]) if row is not None and row[1] is not None else None
            rows[unit_id] = None if row is None else UnitRow(row[0], parent, row[2], row[3])
        return rows[unit_id]

    top = custody_unit(unit, load)
    return top.custodian if top is not None else None


def holders_of_lot(conn: Connection | Session, lot_id: bytes) -> Counter[str]:
    """Return how many not-decommissioned packs of ``lot_id`` each member holds."""
    counts: Counter[str] = Counter()
    live = and_(m.Pack.lot_id == lot_id, m.Pack.status != int(PackStatus.DECOMMISSIONED))
    for custodian, n in conn.execute(
        select(m.Pack.custodian, func.count())
        .where(live, m.Pack.parent.is_(None))
        .group_by(m.Pack.custodian)
    ):
        if custodian:
            counts[custodian] += n
    rows: dict[bytes, UnitRow | None] = {}
    for parent, n in conn.execute(
        select(m.Pack.parent, func.count())
        .where(live, m.Pack.parent.is_not(None))
        .group_by(m.Pack.parent)
    ):
        holder = _top_unit_custodian(conn, bytes(parent), rows) if parent else None
        if holder:
            counts[holder] += n
    return counts


def units_held_by(conn: Connection | Session, holder: str) -> list[bytes]:
    """Return every unit whose top-level custodian is ``holder`` (nested ones included)."""
    frontier = list(
        conn.execute(
            select(m.Unit.unit_id).where(
                m.Unit.custodian == holder,
                m.Unit.parent.is_(None),
                m.Unit.status == int(UnitStatus.ACTIVE),
            )
        ).scalars()
    )
    found: list[bytes] = []
    for _ in range(MAX_LEVEL):  # top units, then each level nested in them
        if not frontier:
            break
        found.extend(frontier)
        frontier = list(
            conn.execute(select(m.Unit.unit_id).where(m.Unit.parent.in_(frontier))).scalars()
        )
    return found


def pack_parties(conn: Connection, pack_id: bytes, gtin: str) -> set[str]:
    """Return the members entitled to a pack's clear codes: its holder, its lot's owner, the
    product's directory owner and the owner of the GTIN's company prefix."""
    parties: set[str | None] = set()
    row = conn.execute(
        select(m.Pack.custodian, m.Pack.parent, m.Lot.owner)
        .join(m.Lot, m.Lot.lot_id == m.Pack.lot_id)
        .where(m.Pack.pack_id == pack_id)
    ).first()
    if row is not None:
        custodian, parent, lot_owner = row
        if parent is not None:
            custodian = _top_unit_custodian(conn, bytes(parent), {})
        parties |= {custodian, lot_owner}
    parties.add(conn.execute(select(m.Product.owner).where(m.Product.gtin == gtin)).scalar())
    parties.add(
        conn.execute(
            select(m.Prefix.owner)
            .where(m.Prefix.prefix.in_(prefix_heads(gtin)))
            .order_by(func.length(m.Prefix.prefix).desc())
            .limit(1)
        ).scalar()
    )
    return {p for p in parties if p}


# ---------------------------------------------------------------------- raised by events


class EventAlerts:
    """The alerts events raise, inside the indexing transaction ``conn``: a recall or
    quarantine reaching each holder of the lot's packs, a suspect or illegitimate flag, an
    exception opened against a member (for that member, at every gateway)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def apply(self, event: ChainEvent) -> None:
        """Raise the alerts of ``event``, if any."""
        match event:
            case LotStatusChanged() if event.status in (LotStatus.RECALLED, LotStatus.QUARANTINED):
                self._lot_stopped(event)
            case PacksFlagged() if event.flags:
                self._flagged(event)
            case MemberKeyRotated():
                self._key_rotated(event)
            case ExceptionOpened():
                self._exception_opened(event)

    def _exception_opened(self, e: ExceptionOpened) -> None:
        kind = ExceptionKind(e.kind).name.lower()
        raise_alert(
            self.conn,
            f"exception-opened:{e.id}",
            AlertKind.EXCEPTION_OPENED,
            "warning",
            f"exception {e.id} ({kind}) opened against you by {e.opener}: answer it",
            str(e.id),
            e.counterparty,
            {
                "exception_id": e.id,
                "kind": kind,
                "opener": e.opener,
                "items_hash": "0x" + e.items_hash.hex(),
                "evidence_hash": "0x" + e.evidence_hash.hex(),
                "tx_hash": "0x" + e.tx_hash.hex(),
            },
            block_number=e.block_number,
        )

    def _key_rotated(self, e: MemberKeyRotated) -> None:
        """A member's alerts follow it to its new key."""
        old, new = e.account, e.new_account
        self.conn.execute(update(m.Alert).where(m.Alert.holder == old).values(holder=new))
        self.conn.execute(
            update(m.AlertAudience).where(m.AlertAudience.address == old).values(address=new)
        )

    def _lot_stopped(self, e: LotStatusChanged) -> None:
        status = LotStatus(e.status).name.lower()
        lot_hex = "0x" + e.lot_id.hex()
        for holder, n in holders_of_lot(self.conn, e.lot_id).items():
            raise_alert(
                self.conn,
                f"lot-{status}:{lot_hex}:{holder}",
                AlertKind(f"lot_{status}"),
                "critical",
                f"lot {lot_hex[:12]}... is {status}: {n} of its packs are in your custody",
                lot_hex,
                holder,
                {"lot_id": lot_hex, "packs": n, "by": e.by, "tx_hash": "0x" + e.tx_hash.hex()},
                block_number=e.block_number,
            )

    def _flagged(self, e: PacksFlagged) -> None:
        kind = "illegitimate" if e.flags & 2 else "suspect"
        ids = ["0x" + i.hex() for i in e.pack_ids]
        raise_alert(
            self.conn,
            f"flag:0x{e.tx_hash.hex()}:{e.log_index}",
            AlertKind(f"pack_{kind}"),
            "critical",
            f"{len(ids)} pack(s) flagged {kind} by {e.by} (reason code {e.reason_code})",
            ids[0],
            None,
            {"pack_ids": ids[:100], "by": e.by, "tx_hash": "0x" + e.tx_hash.hex()},
            block_number=e.block_number,
        )


def on_indexed(conn: Connection, applied: Sequence[AppliedEvent]) -> None:
    """Indexer hook: raise the alerts of the events just applied, once the whole step is."""
    project((item.event for item in applied), EventAlerts(conn))


def withdraw_alert(conn: Connection, alert_id: int, key: str, reason: str) -> None:
    """Withdraw alert ``alert_id`` (key ``key``) for ``reason``: it stays listed, with when and
    why, a withdrawal notice goes to the streams and webhooks that had it, and it gives up
    its key so that the same cause raises it again."""
    now = time.time()
    conn.execute(
        update(m.Alert)
        .where(m.Alert.id == alert_id)
        .values(key=f"{key}~withdrawn:{alert_id}", withdrawn_at=now, withdrawn_reason=reason)
    )
    conn.execute(insert(m.AlertWithdrawal).values(alert_id=alert_id, at=now))


def withdraw_orphaned(conn: Connection, fork: int) -> None:
    """Indexer rollback hook: withdraw the alerts raised by events above block ``fork``, which
    left the chain."""
    rows = conn.execute(
        select(m.Alert.id, m.Alert.key, m.Alert.block_number).where(
            m.Alert.block_number > fork, m.Alert.withdrawn_at.is_(None)
        )
    ).all()
    for alert_id, key, block in rows:
        withdraw_alert(
            conn,
            alert_id,
            key,
            f"block {block}, whose event raised this alert, left the chain"
            f" (a reorganisation back to block {fork})",
        )
    if rows:
        log.warning("alerts withdrawn after a reorg", alerts=len(rows), fork_block=fork)


# ---------------------------------------------------------------------- verifications


@dataclass(frozen=True)
class VerificationNote:
    """A verification to record."""

    pack_id: bytes
    gtin: str
    serial: str
    status: str
    client: str
    by_dispenser: bool
    pack_status: int
    pack_reason: int
    at: float
    #: What the code printed: its lot and its expiry as YYMMDD (None: not printed).
    lot: str | None = None
    expiry: int | None = None


class VerificationRecorder(BackgroundLoop):
    """Buffers verifications and writes them in batches (every ``flush_seconds``), raising the
    clone alerts: a dispensed pack verified again, a pack verified by two dispensers."""

    def __init__(self, engine: Engine, flush_seconds: float) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self._buffer: list[VerificationNote] = []
        self._lock = threading.Lock()
        super().__init__("rxledger-recorder")

    def stop(self) -> None:
        """Flush what is left and stop."""
        super().stop()
        self.flush()

    def add(self, note: VerificationNote) -> None:
        """Queue one verification."""
        with self._lock:
            self._buffer.append(note)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - keep recording after a database hiccup
                log.warning("recording verifications failed", error=repr(exc))

    def flush(self) -> int:
        """Write the queued verifications now; return how many."""
        with self._lock:
            notes, self._buffer = self._buffer, []
        if not notes:
            return 0
        rows = [
            (
                n.pack_id,
                n.gtin,
                n.serial,
                n.status,
                n.client,
                n.pack_status,
                n.pack_reason,
                n.by_dispenser,
                n.at,
                n.lot,
                n.expiry,
            )
            for n in notes
        ]
        with self.engine.begin() as conn:
            # plain DB-API executemany: this runs beside request handling, so keep it short
            placeholders = ", ".join(
                ["?"] * 11 if conn.dialect.paramstyle == "qmark" else ["%s"] * 11
            )
            conn.exec_driver_sql(
                "INSERT INTO verifications (pack_id, gtin, serial, status, client, pack_status, "
                f"pack_reason, by_dispenser, at, lot, expiry) VALUES ({placeholders})",
                rows,
            )
            self._clone_checks(conn, notes)
        return len(notes)

    def _clone_checks(self, conn: Connection, notes: list[VerificationNote]) -> None:
        """One query for the whole batch: which packs did several dispensers verify?"""
        by_dispensers = {n.pack_id for n in notes if n.by_dispenser}
        clients: dict[bytes, set[str]] = {}
        if by_dispensers:
            oldest = min(n.at for n in notes) - MULTI_SITE_WINDOW
            for pid, client in conn.execute(
                select(m.VerificationRecord.pack_id, m.VerificationRecord.client)
                .where(
                    m.VerificationRecord.pack_id.in_(by_dispensers),
                    m.VerificationRecord.by_dispenser.is_(True),
                    m.VerificationRecord.at > oldest,
                )
                .distinct()
            ):
                clients.setdefault(bytes(pid), set()).add(client)
        for n in notes:
            self._clone_check(conn, n, clients.get(n.pack_id, set()))

    def _clone_check(self, conn: Connection, n: VerificationNote, dispensers: set[str]) -> None:
        """Raise the possible-clone alerts of one verification, restricted to the members
        entitled to the pack (they name its clear codes and the scanner)."""
        pack_hex = "0x" + n.pack_id.hex()
        who = f"(01){n.gtin}(21){n.serial}"
        if (
            n.pack_status == PackStatus.DECOMMISSIONED
            and n.pack_reason == DecommissionReason.DISPENSED
        ):
            raise_alert(
                conn,
                f"dispensed-verified:{pack_hex}:{n.client}",
                AlertKind.DISPENSED_PACK_VERIFIED,
                "critical",
                f"pack {who} was already dispensed and is being verified again by {n.client}:"
                " possible clone",
                pack_hex,
                None,
                {"pack_id": pack_hex, "gtin": n.gtin, "serial": n.serial, "client": n.client},
                pack_parties(conn, n.pack_id, n.gtin),
            )
        if n.by_dispenser:
            others = len(dispensers - {n.client})
            if others:
                raise_alert(
                    conn,
                    f"multi-site:{pack_hex}",
                    AlertKind.VERIFIED_AT_TWO_PLACES,
                    "warning",
                    f"pack {who} was verified by {others + 1} different dispensers: possible clone",
                    pack_hex,
                    None,
                    {"pack_id": pack_hex, "gtin": n.gtin, "serial": n.serial},
                    pack_parties(conn, n.pack_id, n.gtin),
                )


# ---------------------------------------------------------------------- listing


def alert_out(a: m.Alert) -> AlertOut:
    """Return the API form of a stored alert."""
    return AlertOut(
        id=a.id,
        kind=AlertKind(a.kind),
        severity=cast(Severity, a.severity),
        message=a.message,
        subject=a.subject,  # type: ignore[arg-type]
        holder=a.holder,
        at=_iso(a.at),
        data=a.data,
        withdrawn_at=_iso(a.withdrawn_at) if a.withdrawn_at is not None else None,
        withdrawn_reason=a.withdrawn_reason,
    )


def expiry_alerts(
    conn: Connection | Session, holder: str, days: int, now: float | None = None
) -> list[AlertOut]:
    """Return one alert per lot with packs in ``holder``'s custody expiring within ``days``."""
    now = time.time() if now is None else now
    horizon = now + days * 86400
    units = units_held_by(conn, holder)
    in_custody = or_(
        and_(m.Pack.parent.is_(None), m.Pack.custodian == holder),
        m.Pack.parent.in_(units) if units else false(),
    )
    rows = conn.execute(
        select(m.Lot.lot_id, m.Lot.expiry, m.Lot.expires_at, func.count())
        .join(m.Pack, m.Pack.lot_id == m.Lot.lot_id)
        .where(in_custody, m.Pack.status == int(PackStatus.ACTIVE), m.Lot.expires_at < horizon)
        .group_by(m.Lot.lot_id, m.Lot.expiry, m.Lot.expires_at)
    ).all()
    out = []
    for lot, expiry, expires_at, n in rows:
        lot_hex = "0x" + bytes(lot).hex()
        expired = expires_at < now
        out.append(
            AlertOut(
                kind=AlertKind.EXPIRED if expired else AlertKind.EXPIRY_SOON,
                severity="critical" if expired else "warning",
                message=(
                    f"{n} pack(s) of lot {lot_hex[:12]}... in your custody "
                    + ("have expired" if expired else f"expire on {_iso(expires_at)[:10]}")
                ),
                subject=lot_hex,
                holder=holder,
                at=_iso(now),
                data={
                    "lot_id": lot_hex,
                    "packs": n,
                    "expiry": f"{expiry:06d}",
                    "expires_at": expires_at,
                },
            )
        )
    return out


def list_alerts(
    engine: Engine,
    holder: str | None,
    see_all: bool,
    days: int,
    kinds: Iterable[AlertKind] = (),
    after_id: int = 0,
    limit: int = 100,
) -> list[AlertOut]:
    """Return the stored alerts ``holder`` may read (all of them if ``see_all``) and the expiry
    alerts of its custody."""
    kinds = list(kinds)
    with Session(engine) as conn:
        query = (
            select(m.Alert).where(m.Alert.id > after_id).order_by(m.Alert.id.desc()).limit(limit)
        )
        if not see_all:
            query = query.where(visible_to(holder))
        if kinds:
            query = query.where(m.Alert.kind.in_([k.value for k in kinds]))
        stored = [alert_out(a) for a in conn.execute(query).scalars()]
        computed = expiry_alerts(conn, holder, days) if holder and after_id == 0 else []
    if kinds:
        computed = [a for a in computed if a.kind in kinds]
    return computed + stored


def list_withdrawals(
    engine: Engine, reader: str | None, see_all: bool, after_id: int, limit: int = 1000
) -> list[tuple[int, AlertOut]]:
    """The withdrawals after ``after_id`` of alerts ``reader`` may read (every one if
    ``see_all``), oldest first: each withdrawal's id and the alert, as it is now."""
    with Session(engine) as conn:
        query = (
            select(m.AlertWithdrawal.id, m.Alert)
            .join(m.Alert, m.Alert.id == m.AlertWithdrawal.alert_id)
            .where(m.AlertWithdrawal.id > after_id)
            .order_by(m.AlertWithdrawal.id)
            .limit(limit)
        )
        if not see_all:
            query = query.where(visible_to(reader))
        return [(int(wid), alert_out(alert)) for wid, alert in conn.execute(query)]


def latest_withdrawal_id(engine: Engine) -> int:
    """The id of the newest alert withdrawal (0 when there is none)."""
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.coalesce(func.max(m.AlertWithdrawal.id), 0))).scalar_one()
        )


def latest_alert_id(engine: Engine) -> int:
    """The id of the newest stored alert (0 when there is none): a stream starts after it."""
    with engine.connect() as conn:
        return int(
            conn.execute(select(m.Alert.id).order_by(m.Alert.id.desc()).limit(1)).scalar() or 0
        )
