"""Classify EPCIS 2.0 events into ledger operations (see docs/epcis.md for the table)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger_client.epcis import operations as ledger_ops
from ledger_client.epcis._cbv import bare
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.hashing import event_hash_uri, hash_uri_digest
from ledger_client.epcis.validation import check_document, iter_events
from ledger_client.errors import InvalidCodeError, RxLedgerError
from ledger_client.gs1.epc import Epc, is_gs1_identifier, parse_epc, parse_epc_or_none
from ledger_client.types import FlagReason, PackFlag

__all__ = ["EventReport", "MappingReport", "map_document", "map_event", "RXL_NAMESPACE"]

RXL_NAMESPACE = "https://ns.rxledger.org/epcis/"
"""Namespace of RxLedger's EPCIS extensions: ``rxl:decommissionReason``, ``rxl:packFlags`` and
``rxl:flagReason``."""
_RXL_REASON = "rxl:decommissionReason"
#: The pack flags an inspection sets: PackFlag names separated by spaces, or NONE (clears them).
_RXL_FLAGS = "rxl:packFlags"
#: The 3911 classification given with them (a FlagReason name).
_RXL_FLAG_REASON = "rxl:flagReason"

_SHIP_STEPS = {"shipping", "departing"}
_RECEIVE_STEPS = {"receiving", "arriving", "accepting"}
#: (bizStep, disposition) -> the custody step on a shipment under way; None: any disposition
_CUSTODY_STEPS: dict[tuple[str | None, str | None], type[ledger_ops.CustodyStep]] = {
    ("void_shipping", None): ledger_ops.CancelShipment,
    ("arriving", "returned"): ledger_ops.Refuse,
    ("transporting", "unknown"): ledger_ops.ReportLost,
    ("transporting", "in_transit"): ledger_ops.ReportFound,
}
_DECOMMISSION_STEPS = {"decommissioning", "dispensing", "retail_selling", "destroying", "sampling"}
_DECOMMISSION_DISPS = {"dispensed", "partially_dispensed", "retail_sold", "destroyed", "disposed"}
_EXPLICIT_REASONS = tuple(
    r.name for r in ledger_ops.DecommissionReason if r is not ledger_ops.DecommissionReason.NONE
)
_MDA = ("cbvmda:", "urn:epcglobal:cbv:mda:", "urn:epcglobal:cbv:mda#")
_PARTY_TYPES = ("owning_party", "possessing_party", "location")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?")


@dataclass(frozen=True)
class EventReport:
    """How one event was classified: its ledger operations, or why it is stored only."""

    index: int
    event_id: str | None
    event_hash: bytes | None
    event_hash_uri: str | None
    type: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    operations: tuple[ledger_ops.LedgerOperation, ...] = ()
    stored_only: str | None = None
    rejected: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MappingReport:
    """Per-event classification of a document."""

    events: tuple[EventReport, ...] = field(default_factory=tuple)

    @property
    def operations(self) -> tuple[ledger_ops.LedgerOperation, ...]:
        """All ledger operations, in document order."""
        return tuple(op for report in self.events for op in report.operations)

    @property
    def ledger_operations(self) -> int:
        """How many ledger operations the document yields."""
        return len(self.operations)

    @property
    def rejected(self) -> tuple[EventReport, ...]:
        """The events with a ledger meaning that cannot be recorded as sent (see ``rejected``)."""
        return tuple(report for report in self.events if report.rejected is not None)

    @property
    def stored_only(self) -> tuple[EventReport, ...]:
        """The events kept in the owner's store but not recorded on chain."""
        return tuple(report for report in self.events if report.stored_only is not None)


class _Rejected(RxLedgerError):
    """Raised when an event has a ledger meaning but cannot be recorded as sent (internal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Classified(RxLedgerError):
    """Raised when an event is to be stored only, for ``reason`` (internal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mda(mapping: dict[str, Any], name: str) -> Any:
    for prefix in _MDA:
        if prefix + name in mapping:
            return mapping[prefix + name]
    return None


def _parse_expiry(value: object, where: str, warnings: list[str]) -> date | None:
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        warnings.append(f"{where}: itemExpirationDate {value!r} is not a date YYYY-MM-DD")
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        warnings.append(f"{where}: itemExpirationDate {value!r} is not a calendar date")
        return None


def _class_expiries(doc: dict[str, Any]) -> dict[str, object]:
    """EPC class URI -> itemExpirationDate from the document's master data."""
    found: dict[str, object] = {}
    header = doc.get("epcisHeader")
    vocabularies = (header or {}).get("epcisMasterData", {}).get("vocabularyList", [])
    for vocabulary in vocabularies if isinstance(vocabularies, list) else []:
        for element in vocabulary.get("vocabularyElementList", []) or []:
            attributes = {a.get("id"): a.get("attribute") for a in element.get("attributes", [])}
            expiry = _mda(attributes, "itemExpirationDate")
            if expiry is not None:
                found[element.get("id")] = expiry
    return found


def _epcs(values: Iterable[object], warnings: list[str]) -> list[Epc]:
    parsed = []
    for value in values:
        if not isinstance(value, str) or not is_gs1_identifier(value):
            warnings.append(f"{value!r} is not an SGTIN or SSCC; the ledger ignores it")
            continue
        try:
            parsed.append(parse_epc(value))
        except InvalidCodeError as exc:
            raise InvalidEPCISError([str(exc)]) from exc
    return parsed


def _split(
    epcs: list[Epc], warnings: list[str]
) -> tuple[tuple[ledger_ops.PackRef, ...], tuple[str, ...]]:
    packs: list[ledger_ops.PackRef] = []
    units: list[str] = []
    for epc in epcs:
        if epc.kind == "sgtin" and epc.gtin and epc.serial:
            packs.append((epc.gtin, epc.serial))
        elif epc.kind == "sscc" and epc.sscc:
            units.append(epc.sscc)
        else:
            warnings.append(f"{epc.kind} identifier is not a pack or logistic unit; ignored")
    return tuple(packs), tuple(units)


def _party(entries: object) -> str | None:
    """The GLN of the first readable party of ``entries`` by type (owning, possessing,
    location); if none is readable, the first such party as sent (the executor refuses it)."""
    if not isinstance(entries, list):
        return None
    by_type: dict[str | None, list[object]] = {}
    for entry in entries:
        value = entry.get("source", entry.get("destination"))
        by_type.setdefault(bare(entry.get("type"), "sdt"), []).append(value)
    for kind in _PARTY_TYPES:
        for value in by_type.get(kind, []):
            epc = parse_epc_or_none(value)
            if epc is not None and epc.gln is not None:
                return epc.gln
    for kind in _PARTY_TYPES:
        if kind in by_type:
            return str(by_type[kind][0])
    return None


def _classes(event: dict[str, Any], key: str) -> list[tuple[str, Epc]]:
    """(class URI, parsed lgtin) for each lot-level class in a quantity list."""
    out = []
    for element in event.get(key, []) or []:
        value = element.get("epcClass")
        epc = parse_epc_or_none(value)
        if epc is not None and epc.kind == "lgtin":
            out.append((str(value), epc))
    return out


def _decommission_reason(
    event: dict[str, Any], step: str | None, disp: str | None
) -> ledger_ops.DecommissionReason | None:
    """The chain's reason for a decommissioning event, or None when CBV does not say."""
    explicit = event.get(_RXL_REASON)
    if explicit is not None:
        if isinstance(explicit, str) and explicit in _EXPLICIT_REASONS:
            return ledger_ops.DecommissionReason[explicit]
        raise _Rejected(f"{_RXL_REASON} {explicit!r} is not one of {', '.join(_EXPLICIT_REASONS)}")
    if disp == "stolen":
        return ledger_ops.DecommissionReason.STOLEN
    if step == "destroying" or disp in ("destroyed", "disposed"):
        return ledger_ops.DecommissionReason.DESTROYED
    if step in ("dispensing", "retail_selling") or disp in (
        "dispensed",
        "partially_dispensed",
        "retail_sold",
    ):
        return ledger_ops.DecommissionReason.DISPENSED
    if step == "sampling":
        return ledger_ops.DecommissionReason.SAMPLE
    return None


def _commission(
    event: dict[str, Any], expiries: dict[str, object], warnings: list[str], eh: bytes
) -> list[ledger_ops.LedgerOperation]:
    ops: list[ledger_ops.LedgerOperation] = []
    ilmd = event.get("ilmd") if isinstance(event.get("ilmd"), dict) else {}
    assert isinstance(ilmd, dict)
    lot = _mda(ilmd, "lotNumber")
    expiry_text = _mda(ilmd, "itemExpirationDate")
    packs, units = _split(_epcs(event.get("epcList", []), warnings), warnings)
    gtins = list(dict.fromkeys(gtin for gtin, _ in packs))
    if gtins and lot is not None:
        expiry = None
        if expiry_text is not None:
            expiry = _parse_expiry(expiry_text, "/ilmd", warnings)
        else:
            warnings.append("/ilmd: no cbvmda:itemExpirationDate; the lot is not registered")
        if expiry is not None:
            ops.extend(
                ledger_ops.RegisterLot(gtin, str(lot), expiry, event_hash=eh) for gtin in gtins
            )
    for uri, epc in _classes(event, "quantityList"):
        assert epc.gtin and epc.lot
        stated = expiry_text if lot == epc.lot and expiry_text is not None else expiries.get(uri)
        if stated is None:
            warnings.append(f"{uri}: no expiry in ilmd or master data; the lot is not registered")
            continue
        class_expiry = _parse_expiry(stated, uri, warnings)
        if class_expiry is not None:
            ops.append(ledger_ops.RegisterLot(epc.gtin, epc.lot, class_expiry, event_hash=eh))
    if packs and lot is None:
        raise _Classified("commissioning without cbvmda:lotNumber in ilmd: the ledger needs a lot")
    for gtin in gtins:
        serials = tuple(serial for g, serial in packs if g == gtin)
        ops.append(ledger_ops.Commission(gtin, str(lot), serials, event_hash=eh))
    if units and not packs:
        warnings.append("commissioned SSCCs are created on the ledger when they are packed")
    if not ops:
        raise _Classified("commissioning of no SGTIN and no lot with a known expiry")
    return ops


def _pack_flags(event: dict[str, Any]) -> tuple[PackFlag, FlagReason]:
    """The flags and classification of an inspection that says them (``rxl:packFlags``)."""
    text, reason = event[_RXL_FLAGS], event.get(_RXL_FLAG_REASON, FlagReason.NONE.name)
    names = text.split() if isinstance(text, str) else []
    known = [str(f.name) for f in PackFlag]
    if not names or (names != ["NONE"] and any(n not in known for n in names)):
        raise _Rejected(f"{_RXL_FLAGS} {text!r} is not NONE or names of {', '.join(known)}")
    reasons = [r.name for r in FlagReason]
    if reason not in reasons:
        raise _Rejected(f"{_RXL_FLAG_REASON} {reason!r} is not one of {', '.join(reasons)}")
    flags = PackFlag(0)
    for name in names:
        if name != "NONE":
            flags |= PackFlag[name]
    return flags, FlagReason[reason]


def _lifecycle(
    event: dict[str, Any],
    kind: str,
    action: str | None,
    step: str | None,
    disp: str | None,
    expiries: dict[str, object],
    warnings: list[str],
    eh: bytes,
) -> list[ledger_ops.LedgerOperation]:
    if kind in ("TransactionEvent", "TransformationEvent", "AssociationEvent"):
        raise _Classified(f"{kind}s are kept in the owner's store, not on chain")
    if kind not in ("ObjectEvent", "AggregationEvent"):
        raise _Classified(f"unknown event type {kind!r}")
    if kind == "AggregationEvent" and action in ("ADD", "DELETE"):
        parent = parse_epc_or_none(event.get("parentID"))
        if parent is None or parent.kind not in ("sscc", "sgtin"):
            raise _Classified("aggregation parent is not an SSCC or SGTIN")
        packs, units = _split(_epcs(event.get("childEPCs", []), warnings), warnings)
        sscc = parent.sscc if parent.kind == "sscc" else None
        parent_pack = (parent.gtin, parent.serial) if parent.kind == "sgtin" else None
        assert sscc is not None or (parent_pack and parent_pack[0] and parent_pack[1])
        ref = None if parent_pack is None else (str(parent_pack[0]), str(parent_pack[1]))
        if action == "ADD":
            if not packs and not units:
                raise _Classified("packing of no SGTIN or SSCC children")
            return [ledger_ops.Pack(sscc, packs, units, parent_pack=ref, event_hash=eh)]
        return [ledger_ops.Unpack(sscc, packs, units, parent_pack=ref, event_hash=eh)]
    if kind == "ObjectEvent" and action == "ADD":
        if step == "commissioning" or event.get("ilmd"):
            return _commission(event, expiries, warnings, eh)
        raise _Classified(f"ADD with bizStep {step!r} has no ledger meaning")
    # OBSERVE or DELETE of objects (an aggregation's parent stands for its contents).
    if kind == "AggregationEvent":
        identifiers = [event["parentID"]] if event.get("parentID") else event.get("childEPCs", [])
    else:
        identifiers = event.get("epcList", [])
    packs, units = _split(_epcs(identifiers, warnings), warnings)
    classes = _classes(event, "quantityList" if kind == "ObjectEvent" else "childQuantityList")
    decommission = (
        action == "DELETE"
        or step in _DECOMMISSION_STEPS
        or disp in _DECOMMISSION_DISPS
        or disp == "stolen"
    )
    if decommission:
        if units:
            warnings.append("logistic units are not decommissioned; only their listed packs")
        if not packs:
            raise _Classified("decommissioning of no SGTIN")
        reason = _decommission_reason(event, step, disp)
        if reason is None:
            if not event.get("errorDeclaration"):
                raise _Rejected(
                    f"decommissioning with bizStep {step!r} and disposition {disp!r} does not"
                    " say why: send a CBV disposition (dispensed, destroyed, stolen), bizStep"
                    f" (dispensing, destroying, sampling) or {_RXL_REASON} (one of"
                    f" {', '.join(_EXPLICIT_REASONS)})"
                )
            # an error declaration undoes it: no reason needed
            reason = ledger_ops.DecommissionReason.NONE
        return [ledger_ops.Decommission(packs, reason, event_hash=eh)]
    custody = _CUSTODY_STEPS.get((step, None)) or _CUSTODY_STEPS.get((step, disp))
    if custody is not None:
        if not packs and not units:
            raise _Classified(f"{custody.__name__} of no SGTIN or SSCC")
        return [
            custody(
                packs,
                units,
                to_party=_party(event.get("destinationList")),
                from_party=_party(event.get("sourceList")),
                event_hash=eh,
            )
        ]
    if step in _SHIP_STEPS or (step is None and disp == "returned"):
        if not packs and not units:
            raise _Classified("shipping of no SGTIN or SSCC (class quantities stay off chain)")
        return [
            ledger_ops.Ship(
                packs,
                units,
                to_party=_party(event.get("destinationList")),
                from_party=_party(event.get("sourceList")),
                event_hash=eh,
            )
        ]
    if step in _RECEIVE_STEPS:
        if not packs and not units:
            raise _Classified("receiving of no SGTIN or SSCC (class quantities stay off chain)")
        return [ledger_ops.Receive(packs, units, event_hash=eh)]
    if _RXL_FLAGS in event:
        if not packs:
            raise _Rejected(f"{_RXL_FLAGS} on an event of no SGTIN: flags are set on packs")
        return [ledger_ops.FlagPacks(packs, *_pack_flags(event), event_hash=eh)]
    if disp == "no_pedigree_match" and packs:
        return [ledger_ops.FlagPacks(packs, event_hash=eh)]
    if classes and not packs and not units and action == "OBSERVE":
        status = None
        if disp == "recalled":
            status = ledger_ops.LotStatus.RECALLED
        elif step == "holding" and disp == "non_sellable_other":
            status = ledger_ops.LotStatus.QUARANTINED
        elif step in (None, "holding", "inspecting") and disp in ("active", "sellable_accessible"):
            status = ledger_ops.LotStatus.ACTIVE
        if status is not None:
            lots = [(str(c.gtin), str(c.lot)) for _, c in classes]
            return [ledger_ops.SetLotStatus(gtin, lot, status, event_hash=eh) for gtin, lot in lots]
    if disp == "recalled":
        raise _Classified("recall of instance EPCs: the ledger recalls lots (list lgtin classes)")
    if event.get("sensorElementList"):
        raise _Classified("sensor readings are kept in the owner's store, not on chain")
    raise _Classified(
        f"{action} with bizStep {step!r} and disposition {disp!r} has no ledger meaning"
    )


def map_event(
    event: dict[str, Any],
    index: int = 0,
    context: object = None,
    class_expiries: dict[str, object] | None = None,
) -> EventReport:
    """Classify one EPCIS 2.0 event (already validated) into ledger operations."""
    kind = str(event.get("type"))
    action = event.get("action")
    step = bare(event.get("bizStep"), "bizstep")
    disp = bare(event.get("disposition"), "disp")
    warnings: list[str] = []
    hash_uri: str | None
    stored_only: str | None = None
    rejected: str | None = None
    try:
        hash_uri = event_hash_uri(event, context)
    except InvalidEPCISError as exc:
        hash_uri = None
        hash_error = exc.errors[0]
    eh = hash_uri_digest(hash_uri) if hash_uri else None
    try:
        ops = _lifecycle(event, kind, action, step, disp, class_expiries or {}, warnings, eh or b"")
        if event.get("errorDeclaration"):
            undo = [op for op in ops if isinstance(op, ledger_ops.Decommission)]
            if not undo or len(undo) != len(ops):
                names = ", ".join(sorted({type(op).__name__ for op in ops}))
                raise _Classified(
                    f"error declaration of a {names} event: the ledger only reverts"
                    " decommissioning; record corrective events instead"
                )
            ops = [ledger_ops.UndoDecommission(op.packs, event_hash=eh or b"") for op in undo]
        if ops and eh is None:
            raise InvalidEPCISError([f"/epcisBody/eventList/{index}: {hash_error}"])
    except _Classified as why:
        ops, stored_only = [], why.reason
        if hash_uri is None:
            warnings.append(hash_error)
    except _Rejected as why:
        ops, rejected = [], why.reason
    return EventReport(
        index=index,
        event_id=event.get("eventID"),
        event_hash=eh,
        event_hash_uri=hash_uri,
        type=kind,
        action=action,
        biz_step=step,
        disposition=disp,
        operations=tuple(ops),
        stored_only=stored_only,
        rejected=rejected,
        warnings=tuple(warnings),
    )


def map_document(doc: dict[str, Any], *, validate: bool = True) -> MappingReport:
    """Classify every event of an EPCIS 2.0 document (or a bare event) into ledger operations.

    Validates first (raising :class:`InvalidEPCISError`) unless ``validate`` is False,
    e.g. for documents that still spell CBV values as EPCIS 1.2 URNs. No event is
    dropped: those without a ledger meaning are reported ``stored_only`` with a reason.
    """
    if validate:
        check_document(doc)
    expiries = _class_expiries(doc)
    context = doc.get("@context")
    reports = [
        map_event(event, index, context, expiries)
        for index, (_, event) in enumerate(iter_events(doc))
    ]
    return MappingReport(tuple(reports))
