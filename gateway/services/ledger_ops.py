"""Write operations signed by the operator's key: dispense/undo, and EPCIS ledger operations."""

from __future__ import annotations

from collections.abc import Callable

from gateway.services.verify import parse_pack
from ledger_client.epcis import operations as ops
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import PackCode
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason, LotStatus, PackFlag, Receipt

#: EPCIS reasons on the chain's reasons; OTHER (an unexplained decommissioning) becomes LOCKED:
#: out of the supply chain, undoable, and never claimed as dispensed or destroyed.
_REASONS = {
    ops.DecommissionReason.DISPENSED: DecommissionReason.DISPENSED,
    ops.DecommissionReason.DESTROYED: DecommissionReason.DESTROYED,
    ops.DecommissionReason.SAMPLE: DecommissionReason.SAMPLE,
    ops.DecommissionReason.EXPORTED: DecommissionReason.EXPORTED,
    ops.DecommissionReason.STOLEN: DecommissionReason.STOLEN,
}


def packs_of(codes: list[str]) -> list[tuple[str, str]]:
    """Parse scans into (GTIN, serial) pairs; raise InvalidCodeError naming the bad scan."""
    packs = []
    for i, text in enumerate(codes):
        try:
            code = parse_pack(text).code
        except InvalidCodeError as exc:
            raise InvalidCodeError(f"code #{i + 1}: {exc}") from None
        assert isinstance(code, PackCode)
        packs.append((code.gtin, code.serial))
    if len(set(packs)) != len(packs):
        raise InvalidCodeError("the same pack is listed twice")
    return packs


def execute(
    ledger: Ledger, op: ops.LedgerOperation, address_of_gln: Callable[[str], str | None]
) -> list[Receipt]:
    """Send one EPCIS-derived ledger operation from ``ledger``'s member; return its receipts.

    Raises InvalidCodeError (unsupported shape) or LedgerRevertError (the chain refused it).
    """
    h = op.event_hash or b"\x00" * 32
    if isinstance(op, ops.RegisterLot):
        return [ledger.register_lot(op.gtin, op.lot, op.expiry, h)]
    if isinstance(op, ops.Commission):
        return ledger.commission(op.gtin, op.lot, list(op.serials), op.into_sscc, h, skip_done=True)
    if isinstance(op, (ops.Pack, ops.Unpack)):
        if op.parent_sscc is None:
            raise InvalidCodeError(
                "the ledger's logistic units are SSCCs; an SGTIN case cannot be a parent"
            )
        if isinstance(op, ops.Pack):
            return [ledger.pack(op.parent_sscc, list(op.packs), list(op.units), h)]
        if not op.packs and not op.units:
            return [ledger.unpack([op.parent_sscc], h)]
        return [ledger.unpack_items(op.parent_sscc, list(op.packs), list(op.units), h)]
    if isinstance(op, ops.Ship):
        if not op.to_party:
            raise InvalidCodeError("shipping event names no destination party (GLN)")
        to = address_of_gln(op.to_party)
        if to is None:
            raise InvalidCodeError(f"destination GLN {op.to_party} is not a member of this network")
        return ledger.ship(to, list(op.packs), list(op.units), h, skip_done=True)
    if isinstance(op, ops.Receive):
        return ledger.receive(list(op.packs), list(op.units), h, skip_done=True)
    if isinstance(op, ops.Decommission):
        return ledger.decommission(list(op.packs), _REASONS[op.reason], h, skip_done=True)
    if isinstance(op, ops.UndoDecommission):
        return ledger.undo_decommission(list(op.packs), h)
    if isinstance(op, ops.SetLotStatus):
        return [ledger.set_lot_status(op.gtin, op.lot, LotStatus[op.status.value], h)]
    if isinstance(op, ops.FlagSuspect):
        return ledger.flag(list(op.packs), PackFlag.SUSPECT, 0, h)
    raise InvalidCodeError(f"no ledger write for {type(op).__name__}")
