"""Build EPCIS 2.0 documents and events, including from ledger operations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ledger_client.epcis import operations as ledger_ops
from ledger_client.epcis.hashing import GS1_CONTEXT
from ledger_client.epcis.mapping import RXL_NAMESPACE
from ledger_client.epcis.validation import check_document
from ledger_client.types import PackFlag

__all__ = ["to_epcis_json", "operations_to_events", "pack_uri", "unit_uri", "lot_uri"]

_DL = "https://id.gs1.org"
# reason -> (action, bizStep, disposition)
_DECOMMISSION = {
    ledger_ops.DecommissionReason.DISPENSED: ("OBSERVE", "dispensing", "dispensed"),
    ledger_ops.DecommissionReason.DESTROYED: ("DELETE", "destroying", "destroyed"),
    ledger_ops.DecommissionReason.SAMPLE: ("OBSERVE", "sampling", "inactive"),
    ledger_ops.DecommissionReason.STOLEN: ("OBSERVE", None, "stolen"),
    ledger_ops.DecommissionReason.EXPORTED: ("DELETE", "decommissioning", "inactive"),
    ledger_ops.DecommissionReason.FREE_SAMPLE: ("DELETE", "decommissioning", "inactive"),
    ledger_ops.DecommissionReason.LOCKED: ("DELETE", "decommissioning", "inactive"),
    # an undone decommissioning whose reason is not known: only its error declaration counts
    ledger_ops.DecommissionReason.NONE: ("DELETE", "decommissioning", "inactive"),
}
# Reasons CBV has no term for: written as the rxl:decommissionReason extension.
_EXTENSION_REASONS = frozenset(
    {
        ledger_ops.DecommissionReason.EXPORTED,
        ledger_ops.DecommissionReason.FREE_SAMPLE,
        ledger_ops.DecommissionReason.LOCKED,
    }
)
#: custody step -> (bizStep, disposition), CBV 2.0 terms (docs/epcis.md says why these)
CUSTODY_STEP_VOCABULARY: dict[type[ledger_ops.CustodyStep], tuple[str, str]] = {
    ledger_ops.CancelShipment: ("void_shipping", "in_progress"),
    ledger_ops.Refuse: ("arriving", "returned"),
    ledger_ops.ReportLost: ("transporting", "unknown"),
    ledger_ops.ReportFound: ("transporting", "in_transit"),
}
_LOT_STATUS = {
    ledger_ops.LotStatus.RECALLED: (None, "recalled"),
    ledger_ops.LotStatus.QUARANTINED: ("holding", "non_sellable_other"),
    ledger_ops.LotStatus.ACTIVE: ("inspecting", "active"),
}


def pack_uri(pack: ledger_ops.PackRef) -> str:
    """GS1 Digital Link URI of a pack (no company prefix length is needed, unlike EPC URNs)."""
    return f"{_DL}/01/{pack[0]}/21/{quote(pack[1], safe='')}"


def unit_uri(sscc: str) -> str:
    """GS1 Digital Link URI of a logistic unit."""
    return f"{_DL}/00/{sscc}"


def lot_uri(gtin: str, lot: str) -> str:
    """GS1 Digital Link URI of a lot (an EPC class)."""
    return f"{_DL}/01/{gtin}/10/{quote(lot, safe='')}"


def _party_uri(gln: str) -> str:
    return f"{_DL}/417/{gln}"


def _time(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="milliseconds")


def _offset(event_time: str) -> str:
    if event_time.endswith(("Z", "z")):
        return "+00:00"
    return event_time[-6:]


def to_epcis_json(
    events: Sequence[dict[str, Any]],
    *,
    creation_date: datetime | str | None = None,
    context: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Wrap events in a valid EPCIS 2.0 EPCISDocument (raises InvalidEPCISError if not valid).

    ``context`` adds namespace prefixes for extension fields; ``rxl`` is added when used.
    """
    prefixes = dict(context or {})
    if any(key.startswith("rxl:") for event in events for key in event):
        prefixes.setdefault("rxl", RXL_NAMESPACE)
    doc: dict[str, Any] = {
        "@context": [GS1_CONTEXT, prefixes] if prefixes else [GS1_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(creation_date or datetime.now(UTC)),
        "epcisBody": {"eventList": [dict(event) for event in events]},
    }
    return check_document(doc)


def _object_event(time: str, action: str, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": _offset(time),
        "action": action,
    }
    event.update({key: value for key, value in fields.items() if value is not None})
    return event


def _lot_event(
    time: str,
    action: str,
    gtin: str,
    lot: str,
    step: str | None,
    disposition: str,
    where: Any,
    **fields: Any,
) -> dict[str, Any]:
    """An ObjectEvent of a whole lot: its class, no instances."""
    return _object_event(
        time,
        action,
        epcList=[],
        quantityList=[{"epcClass": lot_uri(gtin, lot)}],
        bizStep=step,
        disposition=disposition,
        bizLocation=where,
        **fields,
    )


def _where(biz_location: str | None) -> dict[str, str] | None:
    return {"id": biz_location} if biz_location else None


def _aggregation(
    time: str,
    action: str,
    step: str,
    parent_sscc: str | None,
    parent_pack: ledger_ops.PackRef | None,
    packs: tuple[ledger_ops.PackRef, ...],
    units: tuple[str, ...],
    biz_location: str | None,
) -> dict[str, Any]:
    parent = unit_uri(parent_sscc) if parent_sscc else pack_uri(parent_pack or ("", ""))
    event: dict[str, Any] = {
        "type": "AggregationEvent",
        "eventTime": time,
        "eventTimeZoneOffset": _offset(time),
        "parentID": parent,
        "childEPCs": [pack_uri(p) for p in packs] + [unit_uri(u) for u in units],
        "action": action,
        "bizStep": step,
        "disposition": "in_progress",
    }
    if biz_location:
        event["bizLocation"] = {"id": biz_location}
    return event


def _add_parties(event: dict[str, Any], source: str | None, destination: str | None) -> None:
    """Name the owning parties (GLNs) an event moves items from and to."""
    if source:
        event["sourceList"] = [{"type": "owning_party", "source": _party_uri(source)}]
    if destination:
        event["destinationList"] = [
            {"type": "owning_party", "destination": _party_uri(destination)}
        ]


def _decommission_event(
    time: str,
    packs: tuple[ledger_ops.PackRef, ...],
    reason: ledger_ops.DecommissionReason,
    where: Any,
) -> dict[str, Any]:
    action, step, disp = _DECOMMISSION[reason]
    event = _object_event(
        time,
        action,
        epcList=[pack_uri(p) for p in packs],
        bizStep=step,
        disposition=disp,
        bizLocation=where,
    )
    if reason in _EXTENSION_REASONS:
        event["rxl:decommissionReason"] = reason.name
    return event


def _flag_event(time: str, op: ledger_ops.FlagPacks, where: Any) -> dict[str, Any]:
    """An inspection of packs: CBV's ``no_pedigree_match`` for flagged packs,
    ``sellable_accessible`` for cleared ones; flags other than SUSPECT alone, and a 3911
    classification, in RxLedger's extension."""
    event = _object_event(
        time,
        "OBSERVE",
        epcList=[pack_uri(p) for p in op.packs],
        bizStep="inspecting",
        disposition="no_pedigree_match" if op.flags else "sellable_accessible",
        bizLocation=where,
    )
    if op.flags != PackFlag.SUSPECT or op.reason:
        event["rxl:packFlags"] = " ".join(str(f.name) for f in PackFlag if f in op.flags) or "NONE"
    if op.reason:
        event["rxl:flagReason"] = op.reason.name
    return event


def operations_to_events(
    operations: Iterable[ledger_ops.LedgerOperation],
    *,
    event_time: datetime | str,
    biz_location: str | None = None,
) -> list[dict[str, Any]]:
    """Build EPCIS 2.0 events that record ``operations`` (e.g. a history rebuilt from chain).

    Mapping the events back with :func:`map_document` gives the same operations, except
    that ``Commission(into_sscc=...)`` comes back as ``Commission`` followed by ``Pack``,
    and a ``RegisterLot`` directly followed by the ``Commission`` of the same lot shares
    one commissioning event (lot and expiry in its ILMD).
    """
    time = _time(event_time)
    where = _where(biz_location)
    ops = list(operations)
    events: list[dict[str, Any]] = []
    i = 0
    while i < len(ops):
        op = ops[i]
        i += 1
        if isinstance(op, ledger_ops.RegisterLot):
            nxt = ops[i] if i < len(ops) else None
            ilmd = {"cbvmda:lotNumber": op.lot, "cbvmda:itemExpirationDate": op.expiry.isoformat()}
            if isinstance(nxt, ledger_ops.Commission) and (nxt.gtin, nxt.lot) == (op.gtin, op.lot):
                i += 1
                events.extend(_commission_events(time, nxt, ilmd, where))
            else:
                events.append(
                    _lot_event(
                        time, "ADD", op.gtin, op.lot, "commissioning", "active", where, ilmd=ilmd
                    )
                )
        elif isinstance(op, ledger_ops.Commission):
            events.extend(_commission_events(time, op, {"cbvmda:lotNumber": op.lot}, where))
        elif isinstance(op, ledger_ops.Pack | ledger_ops.Unpack):
            action, step = (
                ("ADD", "packing") if isinstance(op, ledger_ops.Pack) else ("DELETE", "unpacking")
            )
            events.append(
                _aggregation(
                    time,
                    action,
                    step,
                    op.parent_sscc,
                    op.parent_pack,
                    op.packs,
                    op.units,
                    biz_location,
                )
            )
        elif isinstance(op, ledger_ops.Ship | ledger_ops.Receive | ledger_ops.CustodyStep):
            if isinstance(op, ledger_ops.Receive):
                step, disposition = "receiving", "in_progress"
            elif isinstance(op, ledger_ops.Ship):
                step, disposition = "shipping", "in_transit"
            else:
                step, disposition = CUSTODY_STEP_VOCABULARY[type(op)]
            event = _object_event(
                time,
                "OBSERVE",
                epcList=[pack_uri(p) for p in op.packs] + [unit_uri(u) for u in op.units],
                bizStep=step,
                disposition=disposition,
                bizLocation=where,
            )
            if not isinstance(op, ledger_ops.Receive):
                _add_parties(event, op.from_party, op.to_party)
            events.append(event)
        elif isinstance(op, ledger_ops.Decommission):
            events.append(_decommission_event(time, op.packs, op.reason, where))
        elif isinstance(op, ledger_ops.UndoDecommission):
            event = _decommission_event(time, op.packs, ledger_ops.DecommissionReason.NONE, where)
            event["errorDeclaration"] = {"declarationTime": time, "reason": "incorrect_data"}
            events.append(event)
        elif isinstance(op, ledger_ops.SetLotStatus):
            status = _LOT_STATUS[op.status]
            events.append(_lot_event(time, "OBSERVE", op.gtin, op.lot, *status, where))
        elif isinstance(op, ledger_ops.FlagPacks):
            events.append(_flag_event(time, op, where))
        else:  # pragma: no cover - exhaustive over LedgerOperation
            raise TypeError(f"not a ledger operation: {op!r}")
    return events


def _commission_events(
    time: str, op: ledger_ops.Commission, ilmd: dict[str, str], where: Any
) -> list[dict[str, Any]]:
    events = [
        _object_event(
            time,
            "ADD",
            epcList=[pack_uri((op.gtin, s)) for s in op.serials],
            bizStep="commissioning",
            disposition="active",
            bizLocation=where,
            ilmd=ilmd,
        )
    ]
    if op.into_sscc:
        packs = tuple((op.gtin, s) for s in op.serials)
        events.append(_aggregation(time, "ADD", "packing", op.into_sscc, None, packs, (), None))
    return events
