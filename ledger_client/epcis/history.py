"""History of a pack, a lot or a logistic unit, rebuilt from chain and exported as EPCIS.

The chain says what happened (contract events, in order, each anchoring an EPCIS event
hash); the owner's store says it in clear. Where the store holds the anchored event, the
export carries that clear event unchanged (same event hash); otherwise an id-only event
is built from the contract event, with the hashed ledger ids as ``urn:rxledger:pack:0x…``,
``urn:rxledger:unit:0x…`` and ``urn:rxledger:lot:0x…``.

A pack's history includes the events of the units that held it (custody moves with the
highest unit), and of its lot; a lot's history is its own events and those of every pack
commissioned in it; a unit's history is its own events, those of the units that held it,
and the packing of its contents.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from web3 import Web3

from ledger_client import events as ev
from ledger_client.contracts import Deployment
from ledger_client.epcis.export import to_epcis_json
from ledger_client.epcis.hashing import GS1_CONTEXT
from ledger_client.epcis.mapping import RXL_NAMESPACE
from ledger_client.epcis.store import EventStore
from ledger_client.epcis.stream import chain_events
from ledger_client.epcis.validation import check_document
from ledger_client.errors import InvalidCodeError
from ledger_client.events import actor, project
from ledger_client.gs1 import LotCode, PackCode, UnitCode, expiry_to_date, parse_code
from ledger_client.owners import CodeOwners, PrefixOwners
from ledger_client.types import ZERO_HASH, DecommissionReason, LotStatus, PackFlag

__all__ = [
    "HistoryEntry",
    "Subject",
    "SubjectHistory",
    "Tracker",
    "subject_of",
    "chain_history",
    "history",
    "export_history",
    "id_uri",
]

Kind = Literal["pack", "lot", "sscc"]
_HASH_PREFIX, _HASH_SUFFIX = "ni:///sha-256;", "?ver=CBV2.0"
_DECOMMISSION = {
    DecommissionReason.DISPENSED: ("OBSERVE", "dispensing", "dispensed"),
    DecommissionReason.DESTROYED: ("DELETE", "destroying", "destroyed"),
    DecommissionReason.SAMPLE: ("OBSERVE", "sampling", "inactive"),
    DecommissionReason.STOLEN: ("OBSERVE", None, "stolen"),
}
_LOT_STATUS = {
    LotStatus.RECALLED: (None, "recalled"),
    LotStatus.QUARANTINED: ("holding", "non_sellable_other"),
    LotStatus.ACTIVE: ("inspecting", "active"),
}


@dataclass(frozen=True)
class Subject:
    """What a history is about: ledger ids of the packs, units and lots to follow."""

    kind: Kind
    code: str
    packs: frozenset[bytes] = frozenset()
    units: frozenset[bytes] = frozenset()
    lots: frozenset[bytes] = frozenset()


@dataclass(frozen=True)
class HistoryEntry:
    """One step of a history: the contract events of one transaction that anchored one
    EPCIS event hash, and the clear event when the owner's store holds it."""

    events: tuple[ev.RegistryEvent, ...]
    event_hash: bytes
    clear: dict[str, Any] | None = None
    context: Any = None
    timestamp: int = 0


def id_uri(kind: str, ledger_id: bytes) -> str:
    """``urn:rxledger:<kind>:0x<id>``: a ledger id as an EPCIS identifier."""
    return f"urn:rxledger:{kind}:0x{ledger_id.hex()}"


def subject_of(kind: Kind, code: str, owners: CodeOwners) -> Subject:
    """Parse ``code`` (any GS1 form :func:`ledger_client.gs1.parse_code` reads; for an SSCC
    also its 18 bare digits) for a history of ``kind``, of its genuine record (under
    ``owners``); raise :class:`InvalidCodeError` if it names something else or no member owns
    its prefix."""
    bare_sscc = kind == "sscc" and len(code) == 18 and code.isascii() and code.isdigit()
    parsed = parse_code(f"(00){code}" if bare_sscc else code, require_serial=False).code
    if kind == "pack" and isinstance(parsed, PackCode):
        pid = owners.pack_id(parsed.gtin, parsed.serial)
        # an SGTIN may name a case, whose unit id is made from the same code hash
        return Subject(kind, code, packs=frozenset({pid}), units=frozenset({pid}))
    if kind == "lot" and isinstance(parsed, LotCode | PackCode) and parsed.lot is not None:
        return Subject(kind, code, lots=frozenset({owners.lot_id(parsed.gtin, parsed.lot)}))
    if kind == "sscc" and isinstance(parsed, UnitCode):
        return Subject(kind, code, units=frozenset({owners.unit_id(parsed.sscc)}))
    if kind == "sscc" and isinstance(parsed, PackCode):
        return Subject(kind, code, units=frozenset({owners.pack_id(parsed.gtin, parsed.serial)}))
    wanted = {"pack": "GTIN + serial", "lot": "GTIN + lot", "sscc": "an SSCC"}[kind]
    raise InvalidCodeError(
        f"{code!r} is a {type(parsed).__name__}; a {kind} history needs {wanted}"
    )


class Tracker:
    """Follows packs and units through the units that hold them, in chain order: ``seen``
    says whether an event is in their history."""

    def __init__(self, subject: Subject) -> None:
        self.paths: dict[tuple[str, bytes], list[bytes]] = {}
        for p in subject.packs:
            self.paths[("pack", p)] = []
        for u in subject.units:
            self.paths[("unit", u)] = []
        self.lots = set(subject.lots)
        self.follow_lot_packs = subject.kind == "lot"

    def _own(self, key: tuple[str, bytes], packs: set[bytes], units: set[bytes]) -> bool:
        return key[1] in (packs if key[0] == "pack" else units)

    def seen(self, event: ev.RegistryEvent) -> bool:
        """Follow ``event``; return whether it concerns what this tracker follows."""
        match event:
            case ev.LotRegistered() | ev.LotStatusChanged():
                return event.lot_id in self.lots
            case ev.PacksCommissioned():
                return self._commissioned(event)
            case ev.ItemsPacked():
                return self._packed(event.unit_id, set(event.pack_ids), set(event.unit_ids))
            case ev.ItemsUnpacked():
                return self._unpacked(event.unit_id, set(event.pack_ids), set(event.unit_ids))
            case ev.UnitsDissolved():
                return self._dissolved(set(event.unit_ids))
            case ev.ItemsShipped() | ev.ItemsReceived():
                packs, units = set(event.pack_ids), set(event.unit_ids)
                return any(
                    self._own(key, packs, units) or any(h in units for h in path)
                    for key, path in self.paths.items()
                )
            case ev.PacksDecommissioned() | ev.DecommissionsUndone() | ev.PacksFlagged():
                packs = set(event.pack_ids)
                return any(key[0] == "pack" and key[1] in packs for key in self.paths)
        return False

    def _commissioned(self, event: ev.PacksCommissioned) -> bool:
        packs, unit, hit = set(event.pack_ids), event.unit_id, False
        if self.follow_lot_packs and event.lot_id in self.lots:
            for p in packs:
                self.paths.setdefault(("pack", p), [])
        for key in self.paths:
            if key[0] == "pack" and key[1] in packs:
                hit = True
                self.paths[key] = [unit] if unit != ZERO_HASH else []
        return hit or ("unit", unit) in self.paths

    def _packed(self, unit: bytes, packs: set[bytes], units: set[bytes]) -> bool:
        hit = ("unit", unit) in self.paths
        for key, path in self.paths.items():
            if self._own(key, packs, units):
                hit, self.paths[key] = True, [unit]
            elif path and path[-1] in units:
                hit = True
                path.append(unit)
        return hit

    def _unpacked(self, unit: bytes, packs: set[bytes], units: set[bytes]) -> bool:
        hit = ("unit", unit) in self.paths
        for key, path in self.paths.items():
            if unit not in path:
                continue
            i = path.index(unit)
            child_listed = self._own(key, packs, units) if i == 0 else path[i - 1] in units
            if child_listed:
                hit, self.paths[key] = True, path[:i]
        return hit

    def _dissolved(self, units: set[bytes]) -> bool:
        hit = False
        for key, path in self.paths.items():
            if key[0] == "unit" and key[1] in units:
                hit = True
            for i, holder in enumerate(path):
                if holder in units:
                    hit, self.paths[key] = True, path[:i]
                    break
        return hit


class SubjectHistory:
    """The contract events in a subject's history, as a projection of the event stream.

    A pack's history includes its lot's events, which come before the pack's commissioning
    names its lot: the events of every lot are kept aside until then (lots are few).
    """

    def __init__(self, subject: Subject) -> None:
        self._tracker = Tracker(subject)
        self._packs = subject.packs
        self._found: list[ev.RegistryEvent] = []
        self._lot_events: dict[bytes, list[ev.RegistryEvent]] = defaultdict(list)

    def apply(self, event: ev.ChainEvent) -> None:
        """Follow ``event``; keep it if it is in the subject's history."""
        if not isinstance(event, ev.RegistryEvent):
            return
        if isinstance(event, ev.PacksCommissioned) and not self._packs.isdisjoint(event.pack_ids):
            self._tracker.lots.add(event.lot_id)
            self._found += self._lot_events.pop(event.lot_id, [])
        if self._tracker.seen(event):
            self._found.append(event)
        elif self._packs and isinstance(event, ev.LotRegistered | ev.LotStatusChanged):
            self._lot_events[event.lot_id].append(event)

    @property
    def events(self) -> list[ev.RegistryEvent]:
        """The history's events so far, in chain order."""
        return sorted(self._found, key=lambda e: (e.block_number, e.log_index))


def chain_history(
    w3: Web3, deployment: Deployment, subject: Subject, store: EventStore | None = None
) -> list[ev.RegistryEvent]:
    """The contract events in ``subject``'s history, in chain order: one pass over the chain's
    events, or over ``store``'s copy of them brought up to date (:mod:`.stream`)."""
    trail = SubjectHistory(subject)
    project(chain_events(w3, deployment, store), trail)
    return trail.events


def history(
    w3: Web3, deployment: Deployment, store: EventStore | None, subject: Subject
) -> list[HistoryEntry]:
    """``subject``'s history: contract events grouped by transaction and event hash, joined
    with the owner's store (whose copy of the chain's events it reads and updates)."""
    entries: list[HistoryEntry] = []
    for event in chain_history(w3, deployment, subject, store):
        eh = event.event_hash
        last = entries[-1] if entries else None
        if (
            last is not None
            and last.event_hash == eh != ZERO_HASH
            and (last.events[-1].tx_hash == event.tx_hash or last.clear is not None)
        ):
            entries[-1] = HistoryEntry(
                (*last.events, event), eh, last.clear, last.context, last.timestamp
            )
            continue
        stored = store.event(eh) if store is not None and eh != ZERO_HASH else None
        entries.append(
            HistoryEntry(
                (event,),
                eh,
                stored.event if stored else None,
                stored.context if stored else None,
                event.timestamp,
            )
        )
    # one clear event may stand for several transactions: keep it once, at its first place
    seen: set[bytes] = set()
    out = []
    for entry in entries:
        if entry.clear is not None:
            if entry.event_hash in seen:
                continue
            seen.add(entry.event_hash)
        out.append(entry)
    return out


# ---------------------------------------------------------------------- id-only events


@dataclass
class _IdOnly:
    glns: dict[str, str]
    time: str
    eh: bytes
    tx: bytes
    by: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def base(self, kind: str, action: str | None, **fields: Any) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": kind,
            "eventTime": self.time,
            "eventTimeZoneOffset": "+00:00",
        }
        if action is not None:
            event["action"] = action
        event.update({k: v for k, v in fields.items() if v is not None})
        if self.eh != ZERO_HASH:  # the clear event's hash, which this id-only event stands for
            event["rxl:anchoredEventHash"] = f"{_HASH_PREFIX}{self.eh.hex()}{_HASH_SUFFIX}"
        event["rxl:transaction"] = "0x" + self.tx.hex()
        event["rxl:member"] = self.by
        self.events.append(event)
        return event

    def party(self, address: str) -> str:
        gln = self.glns.get(address)
        return f"https://id.gs1.org/417/{gln}" if gln else f"urn:rxledger:member:{address}"


def _id_only_events(entry: HistoryEntry, glns: dict[str, str]) -> list[dict[str, Any]]:
    time = datetime.fromtimestamp(entry.timestamp, UTC).isoformat(timespec="seconds")
    out: list[dict[str, Any]] = []
    for event in entry.events:
        b = _IdOnly(glns, time, entry.event_hash, event.tx_hash, actor(event) or "", out)
        match event:
            case ev.LotRegistered():
                expiry = expiry_to_date(f"{event.expiry:06d}").isoformat()
                b.base(
                    "ObjectEvent", "ADD", epcList=[],
                    quantityList=[{"epcClass": id_uri("lot", event.lot_id)}],
                    bizStep="commissioning", disposition="active",
                    ilmd={"cbvmda:itemExpirationDate": expiry},
                )  # fmt: skip
            case ev.LotStatusChanged():
                step, disp = _LOT_STATUS[LotStatus(event.status)]
                b.base(
                    "ObjectEvent", "OBSERVE", epcList=[],
                    quantityList=[{"epcClass": id_uri("lot", event.lot_id)}],
                    bizStep=step, disposition=disp,
                )  # fmt: skip
            case ev.PacksCommissioned():
                packs = _uris("pack", event.pack_ids)
                e = b.base("ObjectEvent", "ADD", epcList=packs, bizStep="commissioning",
                           disposition="active")  # fmt: skip
                e["rxl:lot"] = id_uri("lot", event.lot_id)
                if event.unit_id != ZERO_HASH:
                    b.base("AggregationEvent", "ADD", parentID=id_uri("unit", event.unit_id),
                           childEPCs=packs, bizStep="packing")  # fmt: skip
            case ev.ItemsPacked() | ev.ItemsUnpacked():
                packing = isinstance(event, ev.ItemsPacked)
                b.base(
                    "AggregationEvent", "ADD" if packing else "DELETE",
                    parentID=id_uri("unit", event.unit_id),
                    childEPCs=_uris("pack", event.pack_ids) + _uris("unit", event.unit_ids),
                    bizStep="packing" if packing else "unpacking",
                )  # fmt: skip
            case ev.UnitsDissolved():
                for unit in _uris("unit", event.unit_ids):
                    b.base("AggregationEvent", "DELETE", parentID=unit, childEPCs=[],
                           bizStep="unpacking")  # fmt: skip
            case ev.ItemsShipped():
                b.base(
                    "ObjectEvent", "OBSERVE",
                    epcList=_uris("pack", event.pack_ids) + _uris("unit", event.unit_ids),
                    bizStep="shipping", disposition="in_transit",
                    sourceList=[{"type": "owning_party", "source": b.party(event.from_)}],
                    destinationList=[{"type": "owning_party", "destination": b.party(event.to)}],
                )  # fmt: skip
            case ev.ItemsReceived():
                b.base("ObjectEvent", "OBSERVE",
                       epcList=_uris("pack", event.pack_ids) + _uris("unit", event.unit_ids),
                       bizStep="receiving", disposition="in_progress")  # fmt: skip
            case ev.PacksDecommissioned() | ev.DecommissionsUndone():
                undo = isinstance(event, ev.DecommissionsUndone)
                given = event.reason if isinstance(event, ev.PacksDecommissioned) else 0
                reason = DecommissionReason(given)
                action, step, disp = _DECOMMISSION.get(
                    reason, ("DELETE", "decommissioning", "inactive")
                )
                e = b.base("ObjectEvent", action, epcList=_uris("pack", event.pack_ids),
                           bizStep=step, disposition=disp)  # fmt: skip
                if undo:
                    e["errorDeclaration"] = {"declarationTime": time, "reason": "incorrect_data"}
                elif reason not in _DECOMMISSION:
                    e["rxl:decommissionReason"] = reason.name
            case ev.PacksFlagged():
                flags = PackFlag(event.flags)
                disp = "no_pedigree_match" if flags else "active"
                e = b.base("ObjectEvent", "OBSERVE", epcList=_uris("pack", event.pack_ids),
                           bizStep="inspecting", disposition=disp)  # fmt: skip
                e["rxl:flags"] = int(flags)
    return out


def _uris(kind: str, ids: Iterable[bytes]) -> list[str]:
    return [id_uri(kind, i) for i in ids]


# ---------------------------------------------------------------------- export


def _member_glns(w3: Web3, deployment: Deployment) -> dict[str, str]:
    consortium = deployment.contract(w3, "Consortium").functions
    out: dict[str, str] = {}
    for index in range(1, consortium.memberCount().call() + 1):
        account = consortium.accountAt(index).call()
        out[account] = f"{consortium.gln(account).call():013d}"
    return out


def _merge_context(contexts: Iterable[Any]) -> list[Any]:
    prefixes: dict[str, str] = {"rxl": RXL_NAMESPACE}
    for context in contexts:
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, dict):
                for key, value in item.items():
                    prefixes.setdefault(key, value)
    return [GS1_CONTEXT, prefixes]


def export_history(
    w3: Web3,
    deployment: Deployment,
    store: EventStore | None,
    kind: Kind,
    code: str,
    *,
    creation_date: datetime | str | None = None,
    lot_keys: Mapping[int, bytes] | None = None,
) -> dict[str, Any]:
    """The history of the pack, lot or SSCC ``code`` as a valid EPCIS 2.0 document (EPCIS 1.2
    XML: :func:`ledger_client.epcis.to_epcis_12_xml` of it); a keyed lot is found by number
    with its owner's key in ``lot_keys`` (member index -> key)."""
    owners = PrefixOwners(deployment.contract(w3, "Consortium"), lot_keys)
    subject = subject_of(kind, code, owners)
    entries = history(w3, deployment, store, subject)
    glns = _member_glns(w3, deployment)
    events: list[dict[str, Any]] = []
    for entry in entries:
        events.extend([entry.clear] if entry.clear is not None else _id_only_events(entry, glns))
    context = _merge_context(entry.context for entry in entries if entry.context is not None)
    doc = to_epcis_json(events, creation_date=creation_date, context=context[1])
    if store is not None:
        text = json.dumps(events)
        vocabulary = store.vocabulary(i for i in store.vocabulary_ids() if i in text)
        if vocabulary:
            doc["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabulary}}
            check_document(doc)
    return doc
