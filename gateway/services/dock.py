"""Receiving at the dock: sessions for expected inbound shipments, scans, and the two writes,
**Receive matched** and **Close** (which opens the exceptions), each signed with the
operator's key and done once.

Every write acts only on what the client says it saw: it sends the ids the page shows, and
the gateway refuses (409, with what the session shows now) unless they are what the session
shows. The same request sent again (a double submit, a retry after a lost answer) writes
nothing and answers what was done. Matching is :mod:`gateway.services.dock_match`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3 import Web3

from gateway.db import models as m
from gateway.schemas import (
    AlertKind,
    DockActionOut,
    DockActionResult,
    DockReport,
    DockScanResult,
    DockView,
    InboundShipment,
)
from gateway.services.alerts import raise_alert
from gateway.services.contents import known_codes, scanned_item
from gateway.services.dock_match import Match, in_transit_to, match, shipments_of
from gateway.services.dock_report import Step, evidence_document, normal, report_of, steps
from gateway.services.dock_view import SessionView, action_out
from gateway.services.oplock import OperatorLock
from gateway.services.readmodel import ReadModel
from ledger_client.errors import InvalidCodeError, RxLedgerError
from ledger_client.ids import hex_or_none, items_hash
from ledger_client.ledger import Ledger
from ledger_client.owners import CodeOwners
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import ExceptionKind

NameOf = Callable[[str | None], str | None]
_Row = TypeVar("_Row", m.DockScan, m.DockAction)


class DockError(RxLedgerError):
    """Raised when a dock request cannot be done; ``status`` is its HTTP status and
    ``extra`` what the client needs to redraw (the session as it is now)."""

    status = 400
    title = "Bad dock request"

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.extra = extra


class DockNotFoundError(DockError, LookupError):
    """Raised when no dock session (or shipment) of this operator has the given id."""

    status = 404
    title = "Not Found"


class DockConflictError(DockError):
    """Raised when a write names other items than the session shows, or the session is
    closed."""

    status = 409
    title = "The session has changed"


@dataclass
class Dock:
    """Receiving sessions of this gateway's operator."""

    engine: Engine
    readmodel: ReadModel
    operator: Ledger | None
    oplock: OperatorLock
    name_of: NameOf
    store: Path | None = None

    # ------------------------------------------------------------------ sessions

    def inbound(self, operator: str) -> list[InboundShipment]:
        """What each sender has in transit to ``operator``, by shipment transaction."""
        with Session(self.engine) as conn:
            moving = in_transit_to(conn, operator)
            txs = shipments_of(conn, set(moving))
            packs = {i for i in moving if conn.get(m.Pack, i) is not None}
        found: dict[str, InboundShipment] = {}
        for item, sender in sorted(moving.items(), key=lambda kv: kv[1]):
            entry = found.setdefault(
                sender,
                InboundShipment(
                    sender=sender, sender_name=self.name_of(sender), shipments={}, packs=0, units=0
                ),
            )
            tx = hex_or_none(txs.get(item)) or "unknown"
            entry.shipments[tx] = entry.shipments.get(tx, 0) + 1
            if item in packs:
                entry.packs += 1
            else:
                entry.units += 1
        return list(found.values())

    def open(self, operator: str, sender: str | None, shipment: str | None) -> DockView:
        """Open a session for what ``sender`` has in transit to ``operator``, or for what
        shipment transaction ``shipment`` sent it."""
        self.readmodel.refresh(self.readmodel.indexed_block())
        who = self._member(sender) if sender else None
        tx = bytes.fromhex(shipment[2:]) if shipment else None
        if tx is not None:
            with Session(self.engine) as conn:
                moving = in_transit_to(conn, operator)
                txs = shipments_of(conn, set(moving))
            senders = {moving[i] for i, t in txs.items() if t == tx}
            if not senders:
                raise DockNotFoundError(
                    f"no item of shipment {shipment} is in transit to {operator}"
                    " (as of the gateway's last indexed block)"
                )
            (by,) = senders
            if who is not None and who != by:
                raise DockError(f"shipment {shipment} was sent by {self._who(by)}, not {sender}")
            who = by
        if who is None:
            raise DockError("name the sender (member name or address) or the shipment")
        if who == operator:
            raise DockError(f"sender: {sender} is this gateway's operator: it receives from others")
        session_id = "dock-" + secrets.token_hex(8)
        with self.engine.begin() as conn:
            conn.execute(
                insert(m.DockSession).values(
                    id=session_id,
                    operator=operator,
                    sender=who,
                    shipment_tx=tx,
                    status="open",
                    created_at=time.time(),
                )
            )
        return self.view(session_id)

    def sessions(self) -> list[DockView]:
        """Every session of this gateway, newest first."""
        with Session(self.engine) as conn:
            ids = conn.execute(
                select(m.DockSession.id).order_by(m.DockSession.created_at.desc()).limit(100)
            ).scalars()
            return [self._view(conn, i) for i in list(ids)]

    def view(self, session_id: str) -> DockView:
        """The session as it is now."""
        with Session(self.engine) as conn:
            return self._view(conn, session_id)

    # ------------------------------------------------------------------ scans

    def scan(self, session_id: str, code: str, within: str | None) -> DockScanResult:
        """Record one scan (a repeat is counted once) and, for a pack, the case or pallet
        ``within`` it was found in (scanned before in the session; a unit scanned ``within``
        another is not recorded in it). A scan the chain does not have in transit to the
        operator is quarantined with the holder the chain names."""
        owners = self.readmodel.owners
        self.readmodel.refresh(self.readmodel.indexed_block())
        item_id, is_pack, clear = _read(code, owners, "code")
        within_id = None
        if within is not None:
            within_id, within_is_pack, within_clear = _read(within, owners, "within")
            if within_is_pack:
                raise DockError(f"within: {within_clear} is a pack, not a case or pallet")
        with Session(self.engine) as conn:
            session = self._session(conn, session_id)
            _require_open(session)
            if within_id is not None:
                units = conn.execute(
                    select(m.DockScan.id).where(
                        m.DockScan.session_id == session_id,
                        m.DockScan.item_id == within_id,
                    )
                ).first()
                if units is None:
                    raise DockError(
                        f"within: {within} was not scanned in this session: scan the case"
                        " or pallet before the packs found in it"
                    )
        if not is_pack:  # a case or pallet scanned while another is open opens itself
            within_id = None
        duplicate = not self._insert_scan(session_id, item_id, is_pack, code, clear, within_id)
        with Session(self.engine) as conn:
            session = self._session(conn, session_id)
            scans = self._rows(conn, m.DockScan, session_id)
            found = match(conn, session, scans, self._received(conn, session_id))
            row = next(s for s in scans if bytes(s.item_id) == item_id)
            verdict = found.outcomes[item_id]
            if verdict.outcome == "product_without_data" and not row.quarantined:
                conn.execute(
                    update(m.DockScan)
                    .where(m.DockScan.id == row.id)
                    .values(quarantined=True, last_holder=verdict.holder)
                )
                conn.commit()
            view = self._view(conn, session_id)
        scan = next(s for s in view.scans if s.item_id == "0x" + item_id.hex())
        return DockScanResult(scan=scan, duplicate=duplicate, session=view)

    def _insert_scan(
        self,
        session_id: str,
        item_id: bytes,
        is_pack: bool,
        code: str,
        clear: str,
        within: bytes | None,
    ) -> bool:
        """Store a scan; return False (and count the repeat) if the item was scanned before."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(m.DockScan).values(
                        session_id=session_id,
                        item_id=item_id,
                        kind="pack" if is_pack else "unit",
                        code=code,
                        clear=clear,
                        within=within,
                        repeats=0,
                        quarantined=False,
                        at=time.time(),
                    )
                )
            return True
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(
                    update(m.DockScan)
                    .where(m.DockScan.session_id == session_id, m.DockScan.item_id == item_id)
                    .values(repeats=m.DockScan.repeats + 1)
                )
            return False

    # ------------------------------------------------------------------ writes

    def receive(self, session_id: str, items: Sequence[str]) -> DockActionResult:
        """Receive on chain exactly ``items``, which must be what the session shows as
        receivable (or a receipt it already made: then nothing is written)."""
        wanted = sorted({_id(i) for i in items})
        if len(wanted) != len(items):
            raise DockError("items: an item is listed twice")
        ledger = self._ledger()
        with self.oplock.hold(), Session(self.engine) as conn:
            session = self._session(conn, session_id)
            done = self._action(conn, session_id, "receive", session.operator, wanted)
            if done is not None:
                return DockActionResult(
                    replayed=True, actions=[done], session=self._view(conn, session_id)
                )
            _require_open(session)
            found = self._match(conn, session)
            receivable = found.receivable()
            if wanted != receivable:
                raise DockConflictError(
                    "the items sent are not what the session shows as receivable now:"
                    f" {len(receivable)} item(s) are; draw the session again and confirm",
                    receivable=[hex_or_none(i) for i in receivable],
                )
            packs = [i for i in wanted if found.nodes[i].is_pack]
            units = [i for i in wanted if not found.nodes[i].is_pack]
            codes = {bytes(s.item_id): s.clear for s in found.scans}
            conn.commit()  # no database transaction stays open while the chain writes
            try:
                receipts = ledger.receive(packs=packs, units=units)
            except LedgerRevertError as exc:
                exc.codes = codes
                raise
            action = self._record(
                conn, session_id, "receive", session.operator, wanted,
                ["0x" + r.tx_hash.hex() for r in receipts],
            )  # fmt: skip
            conn.commit()
            return DockActionResult(
                replayed=False, actions=[action], session=self._view(conn, session_id)
            )

    def close(self, session_id: str, report: DockReport) -> DockActionResult:
        """Close the session with ``report``, which must be what it shows: open the
        exceptions (data without product against the sender, who is alerted; product without
        data against each holder the chain names; an aggregation error per opened unit that
        differs), each once; a close already done answers what it did."""
        asked = normal(report)
        ledger = self._ledger()
        with self.oplock.hold(), Session(self.engine) as conn:
            session = self._session(conn, session_id)
            if session.status == "closed":
                if session.plan != asked:
                    raise DockConflictError(
                        "the session is closed, with another report", report=session.plan
                    )
                view = self._view(conn, session_id)
                return DockActionResult(replayed=True, actions=view.actions, session=view)
            found = self._match(conn, session)
            shown = normal(report_of(found))
            if shown != asked:
                raise DockConflictError(
                    "the report sent is not what the session shows now: draw the session"
                    " again and confirm",
                    report=shown,
                )
            done = []
            for step in steps(session, found, self._codes(conn, found)):
                done.append(self._open_exception(conn, ledger, session, step))
            for item in found.quarantined():
                verdict = found.outcomes[item]
                conn.execute(
                    update(m.DockScan)
                    .where(m.DockScan.session_id == session_id, m.DockScan.item_id == item)
                    .values(quarantined=True, last_holder=verdict.holder)
                )
            conn.execute(
                update(m.DockSession)
                .where(m.DockSession.id == session_id)
                .values(status="closed", plan=asked, closed_at=time.time())
            )
            conn.commit()
            return DockActionResult(
                replayed=False, actions=done, session=self._view(conn, session_id)
            )

    def _open_exception(
        self, conn: Session, ledger: Ledger, session: m.DockSession, step: Step
    ) -> DockActionOut:
        """Open ``step``'s exception unless this session did (or the chain has it open)."""
        kind = step.kind.name.lower()
        items = sorted([*step.packs, *step.units])
        done = self._action(conn, session.id, kind, step.counterparty, items)
        if done is not None:
            return done
        text, digest = evidence_document(step.evidence)
        txs: list[str] = []
        conn.commit()  # no database transaction stays open while the chain writes
        try:
            case_id, receipt = ledger.open_exception(
                step.counterparty, step.kind, step.packs, step.units, digest
            )
            txs = ["0x" + receipt.tx_hash.hex()]
        except LedgerRevertError as exc:
            if exc.error != "ExceptionRegistryAlreadyOpen":
                raise
            case_id = int(exc.args_by_name["id"])  # opened before an answer was lost
        action = self._record(
            conn, session.id, kind, step.counterparty, items, txs, case_id, text, digest
        )
        if step.kind == ExceptionKind.DATA_WITHOUT_PRODUCT:
            self._alert_sender(conn, session, case_id, step)
        conn.commit()  # each exception is kept as soon as it is open: a retry skips it
        return action

    def _alert_sender(
        self, conn: Session, session: m.DockSession, case_id: int, step: Step
    ) -> None:
        """Tell the sender what did not arrive (its alerts, stream and webhooks)."""
        receiver = self._who(session.operator)
        missing = step.evidence["missing"]
        shown = ", ".join(str(i["code"] or i["id"]) for i in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise_alert(
            conn.connection(),
            f"dock-missing:{session.id}:{case_id}",
            AlertKind.SHIPMENT_ITEMS_MISSING,
            "warning",
            f"{receiver} did not receive {len(missing)} item(s) you shipped to it: {shown}{more};"
            f" exception #{case_id} (data_without_product) is open against you",
            session.id,
            session.sender,
            {
                "session": session.id,
                "receiver": session.operator,
                "exception_id": case_id,
                "shipment": hex_or_none(session.shipment_tx),
                "items": missing,
            },
        )

    # ------------------------------------------------------------------ reading

    def _view(self, conn: Session, session_id: str) -> DockView:
        session = self._session(conn, session_id)
        found = self._match(conn, session)
        view = SessionView(session, found, self._codes(conn, found), self.name_of)
        return view.render(
            self._rows(conn, m.DockAction, session_id), self.readmodel.indexed_block()
        )

    def _codes(self, conn: Session, found: Match) -> dict[bytes, str]:
        ids = set(found.nodes) | found.scanned
        return known_codes(conn, self.store, self.readmodel.owners, ids)

    def _match(self, conn: Session, session: m.DockSession) -> Match:
        self.readmodel.refresh(self.readmodel.indexed_block())
        return match(
            conn,
            session,
            self._rows(conn, m.DockScan, session.id),
            self._received(conn, session.id),
        )

    def _session(self, conn: Session, session_id: str) -> m.DockSession:
        row = conn.get(m.DockSession, session_id)
        if row is None:
            raise DockNotFoundError(f"no dock session {session_id} at this gateway")
        return row

    @staticmethod
    def _rows(conn: Session, table: type[_Row], session_id: str) -> list[_Row]:
        """The session's scans or actions, in the order they were recorded."""
        return list(
            conn.execute(
                select(table).where(table.session_id == session_id).order_by(table.id)
            ).scalars()
        )

    def _received(self, conn: Session, session_id: str) -> set[bytes]:
        return {
            _id(i)
            for a in self._rows(conn, m.DockAction, session_id)
            if a.kind == "receive"
            for i in a.items
        }

    def _action(
        self, conn: Session, session_id: str, kind: str, counterparty: str, items: list[bytes]
    ) -> DockActionOut | None:
        row = conn.execute(
            select(m.DockAction).where(
                m.DockAction.session_id == session_id,
                m.DockAction.kind == kind,
                m.DockAction.counterparty == counterparty,
                m.DockAction.items_hash == items_hash(items),
            )
        ).scalar()
        return action_out(row, self.name_of) if row is not None else None

    def _record(
        self,
        conn: Session,
        session_id: str,
        kind: str,
        counterparty: str,
        items: list[bytes],
        tx_hashes: list[str],
        exception_id: int | None = None,
        evidence: str | None = None,
        evidence_hash: bytes | None = None,
    ) -> DockActionOut:
        row = m.DockAction(
            session_id=session_id,
            kind=kind,
            counterparty=counterparty,
            items_hash=items_hash(items),
            items=[hex_or_none(i) for i in items],
            tx_hashes=tx_hashes,
            exception_id=exception_id,
            evidence=evidence,
            evidence_hash=evidence_hash,
            at=time.time(),
        )
        conn.add(row)
        conn.flush()
        return action_out(row, self.name_of)

    def _ledger(self) -> Ledger:
        if self.operator is None:
            raise DockError("this gateway has no operator key: it cannot write")
        return self.operator

    def _member(self, text: str) -> str:
        """The address of member ``text`` (a deployment name or an address)."""
        by_name = {name: addr for addr, name in self._names().items()}
        if text in by_name:
            return by_name[text]
        if Web3.is_address(text):
            address = Web3.to_checksum_address(text)
            if self.readmodel.member(address) is not None:
                return address
        raise DockError(f"sender: {text!r} is no member of this consortium (name or address)")

    def _names(self) -> dict[str, str]:
        return {r.address: self.name_of(r.address) or "" for r in self.readmodel.members()}

    def _who(self, address: str | None) -> str:
        return self.name_of(address) or address or "nobody"


def _read(text: str, owners: CodeOwners, field: str) -> tuple[bytes, bool, str]:
    try:
        return scanned_item(text, owners)
    except InvalidCodeError as exc:
        raise InvalidCodeError(f"{field}: {exc}") from None


def _id(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def _require_open(session: m.DockSession) -> None:
    if session.status != "open":
        raise DockConflictError(f"dock session {session.id} is closed: open a new one")
