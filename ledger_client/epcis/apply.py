"""Apply the ledger operations of a mapped EPCIS document to the chain, as one member.

Operations run in document order, each anchoring its event hash. Nothing is written twice:
before sending, the executor looks for contract events that already anchored the same
event hash for the same ids (and, for lots, at the chain state), and sends only what is
missing. A failing operation is reported with the contract's decoded error and the others
still run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from web3.contract.contract import ContractFunction

from ledger_client import events as ev
from ledger_client.epcis import operations as ledger_ops
from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.mapping import EventReport, MappingReport
from ledger_client.epcis.tolerated import ValidationWarning
from ledger_client.errors import DuplicateInBatchError, RxLedgerError, UnknownPrefixError
from ledger_client.explain import code_map, explain
from ledger_client.gs1.dates import expiry_yymmdd, same_day
from ledger_client.gs1.epc import party_gln
from ledger_client.gs1.serial_entropy import assess_serials
from ledger_client.ids import lot_id, pack_id
from ledger_client.ledger import Ledger
from ledger_client.owners import CodeOwners
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import ZERO_HASH, LotStatus, PackStatus, Receipt, UnitStatus

__all__ = [
    "OperationResult",
    "EventResult",
    "ImportResult",
    "apply_report",
    "member_glns",
    "logistic_unit_id",
]

OperationStatus = Literal["applied", "skipped", "failed"]
EventStatus = Literal["applied", "skipped", "stored_only", "failed"]


@dataclass(frozen=True)
class OperationResult:
    """One ledger operation: applied (with its transactions), skipped or failed (why)."""

    operation: str
    status: OperationStatus
    tx_hashes: tuple[str, ...] = ()
    error: str | None = None
    message: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventResult:
    """One EPCIS event of an import.

    ``status``: ``applied`` (something was written), ``skipped`` (everything was already on
    chain), ``stored_only`` (no ledger meaning; kept in the owner's store) or ``failed``
    (rejected by the mapping, or at least one operation failed; see ``operations``).
    """

    index: int
    event_id: str | None
    event_hash: str | None
    type: str
    status: EventStatus
    operations: tuple[OperationResult, ...] = ()
    message: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """The outcome of importing one EPCIS document, event by event (JSON via ``to_dict``)."""

    member: str
    events: tuple[EventResult, ...] = ()
    source: str | None = None
    warnings: tuple[ValidationWarning, ...] = ()
    """the document's tolerated flaws (its events were received all the same)"""

    @property
    def counts(self) -> dict[str, int]:
        """How many events ended in each status."""
        counts = {"applied": 0, "skipped": 0, "stored_only": 0, "failed": 0}
        for event in self.events:
            counts[event.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """True when no event failed."""
        return all(event.status != "failed" for event in self.events)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict: member, source, ok, counts, events and warnings."""
        events = [dataclasses.asdict(event) for event in self.events]
        return {
            "member": self.member,
            "source": self.source,
            "ok": self.ok,
            "counts": self.counts,
            "events": json.loads(json.dumps(events)),
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


class _Failed(RxLedgerError):
    """Raised when the executor cannot send an operation; ``error`` names why (internal)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def logistic_unit_id(
    owners: CodeOwners, parent_sscc: str | None, parent_pack: ledger_ops.PackRef | None
) -> bytes:
    """The id of the genuine unit of an SSCC, or of a case identified by an SGTIN (made from
    its pack's code hash, under the GTIN's prefix owner)."""
    if parent_sscc is not None:
        return owners.unit_id(parent_sscc)
    assert parent_pack is not None
    return owners.pack_id(*parent_pack)


def member_glns(ledger: Ledger) -> dict[str, str]:
    """GLN (13 digits) -> account address of every member of the consortium."""
    consortium = ledger.consortium.functions
    out: dict[str, str] = {}
    for index in range(1, consortium.memberCount().call() + 1):
        account = consortium.accountAt(index).call()
        out[f"{consortium.gln(account).call():013d}"] = account
    return out


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


#: The contract events that move packs and units.
_Moved = (
    ev.ItemsPacked
    | ev.ItemsUnpacked
    | ev.ItemsShipped
    | ev.ItemsReceived
    | ev.ShipmentCancelled
    | ev.ItemsRefused
    | ev.ItemsLost
    | ev.LostItemsFound
)
#: The contract event each custody step on a shipment under way emits.
_CUSTODY_EVENT: dict[type[ledger_ops.CustodyStep], type[_Moved]] = {
    ledger_ops.CancelShipment: ev.ShipmentCancelled,
    ledger_ops.Refuse: ev.ItemsRefused,
    ledger_ops.ReportLost: ev.ItemsLost,
    ledger_ops.ReportFound: ev.LostItemsFound,
}
#: The contract events that change packs only.
_PackEvent = ev.PacksDecommissioned | ev.DecommissionsUndone | ev.PacksFlagged
#: The contract event each pack-level operation emits.
_PACK_EVENT: dict[type[ledger_ops.LedgerOperation], type[_PackEvent]] = {
    ledger_ops.Decommission: ev.PacksDecommissioned,
    ledger_ops.UndoDecommission: ev.DecommissionsUndone,
    ledger_ops.FlagPacks: ev.PacksFlagged,
}


class _Executor:
    def __init__(
        self, ledger: Ledger, anchors: AnchorIndex, glns: dict[str, str], receiver: str | None
    ) -> None:
        self.ledger = ledger
        self.anchors = anchors
        self.glns = glns
        self.receiver = receiver

    # -------------------------------------------------------------- helpers

    def _sent(self, receipts: Sequence[Receipt]) -> tuple[str, ...]:
        for receipt in receipts:
            self.anchors.add(receipt.events)
        return tuple(_hex(r.tx_hash) for r in receipts)

    def _items(
        self, packs: Sequence[ledger_ops.PackRef], units: Sequence[str]
    ) -> tuple[list[bytes], list[bytes]]:
        """Ledger ids: an SGTIN that names a logistic unit on chain moves as that unit (and as
        a pack too when it was commissioned as one)."""
        pack_ids: list[bytes] = []
        unit_ids = self.ledger.unit_ids(units)
        for pid in self.ledger.pack_ids(packs):
            is_unit = self.ledger.unit_state(pid).status != UnitStatus.NONE
            is_pack = self.ledger.pack_states([pid])[0].status != PackStatus.NONE
            if is_unit:
                unit_ids.append(pid)
            if is_pack or not is_unit:
                pack_ids.append(pid)
        return pack_ids, unit_ids

    def _top_level(
        self, pack_ids: list[bytes], unit_ids: list[bytes], notes: list[str]
    ) -> tuple[list[bytes], list[bytes]]:
        """Drop items that travel inside another listed unit (EPCIS may list every level)."""
        views = {u: self.ledger.unit_state(u) for u in unit_ids}
        listed = {v.index for v in views.values() if v.index}
        packs = [
            p
            for p, v in zip(pack_ids, self.ledger.pack_states(pack_ids), strict=True)
            if not (v.parent and v.parent in listed)
        ]
        units = [u for u in unit_ids if not (views[u].parent and views[u].parent in listed)]
        dropped = len(pack_ids) + len(unit_ids) - len(packs) - len(units)
        if dropped:
            notes.append(f"{dropped} listed item(s) travel inside listed units and move with them")
        return packs, units

    def _covered(self, kind: type[_Moved], eh: bytes, ids: Sequence[bytes]) -> bool:
        done = {i for e in self.anchors.anchored(kind, eh) for i in (*e.pack_ids, *e.unit_ids)}
        return bool(ids) and set(ids) <= done

    def _recipient(self, op: ledger_ops.Ship | ledger_ops.CustodyStep, notes: list[str]) -> str:
        """The member the event's destination party names (the document's receiver when the
        event names none)."""
        gln = op.to_party
        what = "shipping" if isinstance(op, ledger_ops.Ship) else type(op).__name__
        if gln is None and self.receiver is not None:
            gln = party_gln(self.receiver)
            verb = "shipped to" if isinstance(op, ledger_ops.Ship) else "taken as"
            notes.append(f"no destination party in the event: {verb} the document's receiver {gln}")
        if gln is None:
            raise _Failed(
                "NoDestination",
                f"{what} event names no destination party (destinationList owning_party,"
                " possessing_party or location) and the document has no receiver",
            )
        account = self.glns.get(gln)
        if account is None and not (len(gln) == 13 and gln.isdigit()):
            raise _Failed(
                "UnknownParty",
                f"destination party {gln} is not a GLN, SGLN, PGLN or GS1 Digital Link party",
            )
        if account is None:
            raise _Failed(
                "UnknownParty", f"destination GLN {gln} is not a member of the consortium"
            )
        return account

    # -------------------------------------------------------------- operations

    def run(self, op: ledger_ops.LedgerOperation) -> OperationResult:
        notes: list[str] = []
        name = type(op).__name__
        try:
            txs = self._dispatch(op, notes)
        except (LedgerRevertError, DuplicateInBatchError) as exc:
            message = explain(exc, _codes_of(op, self.ledger.owners))
            return OperationResult(name, "failed", (), exc.error, message, tuple(notes))
        except _Failed as exc:
            return OperationResult(name, "failed", (), exc.error, str(exc), tuple(notes))
        except UnknownPrefixError as exc:
            return OperationResult(name, "failed", (), "UnknownPrefix", str(exc), tuple(notes))
        if txs is None:
            return OperationResult(name, "skipped", (), None, "already on chain", tuple(notes))
        return OperationResult(name, "applied", txs, None, None, tuple(notes))

    def _dispatch(self, op: ledger_ops.LedgerOperation, notes: list[str]) -> tuple[str, ...] | None:
        ledger, eh = self.ledger, op.event_hash or ZERO_HASH
        if isinstance(op, ledger_ops.RegisterLot):
            lid = lot_id(op.gtin, op.lot, owner=ledger.member_index, key=ledger.lot_key)
            if any(e.lot_id == lid for e in self.anchors.anchored(ev.LotRegistered, eh)):
                return None
            view = ledger.lot_state(op.gtin, op.lot)
            mine = view.status != LotStatus.NONE and view.owner == ledger.address
            if mine and same_day(expiry_yymmdd(op.expiry), view.expiry):
                notes.append("this member registered the lot with the same expiry before")
                return None
            return self._sent([ledger.register_lot(op.gtin, op.lot, op.expiry, eh)])
        if isinstance(op, ledger_ops.Commission):
            me = ledger.member_index
            lid = lot_id(op.gtin, op.lot, owner=me, key=ledger.lot_key)
            anchored = self.anchors.anchored(ev.PacksCommissioned, eh)
            done = {i for e in anchored if e.lot_id == lid for i in e.pack_ids}
            serials = [s for s in op.serials if pack_id(op.gtin, s, owner=me) not in done]
            if not serials:
                return None
            receipts = ledger.commission(op.gtin, op.lot, serials, op.into_sscc, eh, skip_done=True)
            return self._sent(receipts) or None
        if isinstance(op, ledger_ops.Pack | ledger_ops.Unpack):
            packs, units = self._items(op.packs, op.units)
            if isinstance(op, ledger_ops.Pack):
                if self._covered(ev.ItemsPacked, eh, packs + units):
                    return None
                parent = op.parent_sscc or op.parent_pack
                assert parent is not None
                return self._sent([ledger.pack(parent, packs, units, eh)])
            uid = logistic_unit_id(ledger.owners, op.parent_sscc, op.parent_pack)
            if not packs and not units:
                if any(uid in e.unit_ids for e in self.anchors.anchored(ev.UnitsDissolved, eh)):
                    return None
                return self._sent([ledger.unpack([uid], eh)])
            if self._covered(ev.ItemsUnpacked, eh, packs + units):
                return None
            return self._sent([ledger.unpack_items(uid, packs, units, eh)])
        if isinstance(op, ledger_ops.Ship | ledger_ops.Receive):
            to = self._recipient(op, notes) if isinstance(op, ledger_ops.Ship) else None
            kind: type[_Moved] = ev.ItemsReceived if to is None else ev.ItemsShipped
            packs, units = self._top_level(*self._items(op.packs, op.units), notes)
            if self._covered(kind, eh, packs + units):
                return None
            # one transaction, straight to the contract: an SGTIN case commissioned as a pack
            # too is in both lists under one id, which Ledger.ship refuses as a duplicate
            reg = ledger.registry.functions
            fn = reg.ship(packs, units, to, eh) if to else reg.receiveItems(packs, units, eh)
            return self._sent([ledger.transact(fn)])
        if isinstance(op, ledger_ops.CustodyStep):
            party = self._recipient(op, notes)
            packs, units = self._top_level(*self._items(op.packs, op.units), notes)
            if self._covered(_CUSTODY_EVENT[type(op)], eh, packs + units):
                return None
            return self._sent([ledger.transact(_custody_call(ledger, op, party, packs, units))])
        if isinstance(
            op, ledger_ops.Decommission | ledger_ops.UndoDecommission | ledger_ops.FlagPacks
        ):
            pack_event = _PACK_EVENT[type(op)]
            done = {i for e in self.anchors.anchored(pack_event, eh) for i in e.pack_ids}
            todo = [i for i in ledger.pack_ids(op.packs) if i not in done]
            if not todo:
                return None
            if isinstance(op, ledger_ops.Decommission):
                receipts = ledger.decommission(todo, op.reason, eh, skip_done=True)
            elif isinstance(op, ledger_ops.UndoDecommission):
                receipts = ledger.undo_decommission(todo, eh)
            else:
                receipts = ledger.flag(todo, op.flags, int(op.reason), eh)
            return self._sent(receipts) or None
        if isinstance(op, ledger_ops.SetLotStatus):
            lid = ledger.owners.lot_id(op.gtin, op.lot)
            if any(e.lot_id == lid for e in self.anchors.anchored(ev.LotStatusChanged, eh)):
                return None
            if ledger.lot_state(op.gtin, op.lot).status == op.status:
                notes.append(f"the lot is already {op.status.name}")
                return None
            return self._sent([ledger.set_lot_status_by_id(lid, op.status, eh)])
        raise TypeError(f"not a ledger operation: {op!r}")  # pragma: no cover


def _custody_call(
    ledger: Ledger,
    op: ledger_ops.CustodyStep,
    party: str,
    packs: list[bytes],
    units: list[bytes],
) -> ContractFunction:
    """The registry call of custody step ``op`` with the other side ``party``."""
    reg, eh = ledger.registry.functions, op.event_hash or ZERO_HASH
    if isinstance(op, ledger_ops.CancelShipment):
        return reg.cancelShipment(party, packs, units, eh)
    if isinstance(op, ledger_ops.Refuse):
        return reg.refuseItems(party, packs, units, eh)
    if isinstance(op, ledger_ops.ReportLost):
        return reg.reportLost(party, packs, units, eh)
    return reg.reportFound(party, packs, units, eh)


def _weak_serials(
    operations: Sequence[ledger_ops.LedgerOperation], results: Sequence[OperationResult]
) -> list[str]:
    """The weak-serial warning of each commissioning the event applied (see
    :mod:`ledger_client.gs1.serial_entropy`)."""
    found = []
    for op, result in zip(operations, results, strict=True):
        if isinstance(op, ledger_ops.Commission) and result.status == "applied":
            report = assess_serials(op.serials)
            if report.weak:
                found.append(report.message(op.gtin))
    return found


def _event_result(executor: _Executor, report: EventReport) -> EventResult:
    common: dict[str, Any] = {
        "index": report.index,
        "event_id": report.event_id,
        "event_hash": report.event_hash_uri,
        "type": report.type,
        "warnings": report.warnings,
    }
    if report.rejected is not None:
        return EventResult(status="failed", message=report.rejected, **common)
    if report.stored_only is not None:
        return EventResult(status="stored_only", message=report.stored_only, **common)
    results = tuple(executor.run(op) for op in report.operations)
    common["warnings"] = (*report.warnings, *_weak_serials(report.operations, results))
    statuses = {r.status for r in results}
    status: EventStatus
    if "failed" in statuses:
        status = "failed"
        message = "; ".join(f"{r.operation}: {r.message}" for r in results if r.status == "failed")
    elif "applied" in statuses:
        status, message = "applied", None
    else:
        status, message = "skipped", "already on chain"
    return EventResult(status=status, operations=results, message=message, **common)


def apply_report(
    ledger: Ledger,
    report: MappingReport,
    *,
    anchors: AnchorIndex | None = None,
    receiver: str | None = None,
    source: str | None = None,
) -> ImportResult:
    """Apply ``report``'s operations to the chain as ``ledger``'s member, in order.

    ``anchors`` (loaded from the chain when None) tells what is already on chain; pass one
    kept across imports to avoid rereading the chain. ``receiver`` (the document's SBDH
    receiver, a GLN, SGLN or PGLN) is the destination of shipping events that name none.
    """
    if anchors is None:
        anchors = AnchorIndex.load(ledger.w3, ledger.deployment)
    else:
        anchors.refresh(ledger.w3, ledger.deployment)
    executor = _Executor(ledger, anchors, member_glns(ledger), receiver)
    events = tuple(_event_result(executor, event) for event in report.events)
    return ImportResult(member=ledger.address, events=events, source=source)


def _codes_of(op: ledger_ops.LedgerOperation, owners: CodeOwners) -> dict[bytes, str]:
    """Ledger id -> label of every code ``op`` names (code hashes and the ids of their genuine
    records, under ``owners``), for its refusal message."""
    packs = [*getattr(op, "packs", ()), *filter(None, [getattr(op, "parent_pack", None)])]
    if isinstance(op, ledger_ops.Commission):
        packs += [(op.gtin, s) for s in op.serials]
    units = [*getattr(op, "units", ())]
    units += filter(None, [getattr(op, "into_sscc", None), getattr(op, "parent_sscc", None)])
    lots = (
        [(op.gtin, op.lot)]
        if isinstance(op, ledger_ops.RegisterLot | ledger_ops.Commission | ledger_ops.SetLotStatus)
        else []
    )
    return code_map(packs, units, lots, owners)
