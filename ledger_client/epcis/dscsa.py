"""DSCSA transaction information (TI) and transaction statement (TS) for a shipment.

Built from the chain's events (who shipped which units to whom, and when; what the units
held), read from the owner's store's copy brought up to date (:mod:`.stream`); the owner's
store (the clear identifiers, lots, master data and the document's DSCSA statement); and
the on-chain ProductDirectory (public product master data). FD&C Act section 581(26) lists
the TI elements, section 581(27) the statement.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from web3 import Web3

from ledger_client.contracts import Deployment
from ledger_client.epcis.history import Subject, Tracker, subject_of
from ledger_client.epcis.store import EventStore
from ledger_client.epcis.stream import chain_events
from ledger_client.errors import RxLedgerError
from ledger_client.events import (
    ChainEvent,
    ItemsPacked,
    ItemsShipped,
    ItemsUnpacked,
    PacksCommissioned,
    RegistryEvent,
    project,
)
from ledger_client.gs1 import expiry_to_date
from ledger_client.gs1.epc import parse_epc_or_none
from ledger_client.owners import PrefixOwners
from ledger_client.types import ZERO_HASH, LotView, PackView

__all__ = ["TRANSACTION_STATEMENT", "ShipmentNotFoundError", "transaction_information"]

TRANSACTION_STATEMENT = (
    "The seller of the products in this shipment, as the transferor of ownership, affirms"
    " that it (A) is authorized as required under the Drug Supply Chain Security Act;"
    " (B) received the products from a person that is authorized as required under that"
    " Act; (C) received transaction information and a transaction statement from the prior"
    " owner of the products, as required under section 582 of the Federal Food, Drug, and"
    " Cosmetic Act; (D) did not knowingly ship a suspect or illegitimate product; (E) had"
    " systems and processes in place to comply with verification requirements under"
    " section 582; (F) did not knowingly provide false transaction information; and"
    " (G) did not knowingly alter the transaction history."
)


class ShipmentNotFoundError(RxLedgerError, LookupError):
    """Raised when the chain holds no shipment of the given logistic unit."""


class _Contents:
    """What each logistic unit holds, as the events build it: packs and units packed in it."""

    def __init__(self) -> None:
        self.children: dict[bytes, set[tuple[str, bytes]]] = defaultdict(set)

    def apply(self, event: ChainEvent) -> None:
        match event:
            case PacksCommissioned() if event.unit_id != ZERO_HASH:
                self.children[event.unit_id] |= {("pack", p) for p in event.pack_ids}
            case ItemsPacked() | ItemsUnpacked():
                items = {("pack", p) for p in event.pack_ids} | {
                    ("unit", u) for u in event.unit_ids
                }
                if isinstance(event, ItemsPacked):
                    self.children[event.unit_id] |= items
                else:
                    self.children[event.unit_id] -= items

    def packs_in(self, shipment: ItemsShipped) -> set[bytes]:
        """The packs ``shipment`` moves: its own and those inside its units, at any depth."""
        packs = set(shipment.pack_ids)
        units: set[bytes] = set()
        todo = list(shipment.unit_ids)
        while todo:
            unit = todo.pop()
            units.add(unit)
            for kind, item in self.children.get(unit, ()):
                if kind == "pack":
                    packs.add(item)
                elif item not in units:
                    todo.append(item)
        return packs


class _LastShipment:
    """The latest shipment of a subject unit (or the one in transaction ``tx``) and the packs
    it moved, as a projection."""

    def __init__(self, subject: Subject, tx: bytes | None = None) -> None:
        self._tracker = Tracker(subject)
        self._contents = _Contents()
        self._tx = tx
        self.shipment: ItemsShipped | None = None
        self.packs: set[bytes] = set()

    def apply(self, event: ChainEvent) -> None:
        seen = isinstance(event, RegistryEvent) and self._tracker.seen(event)
        wanted = self._tx is None or event.tx_hash == self._tx
        if seen and wanted and isinstance(event, ItemsShipped):
            self.shipment, self.packs = event, self._contents.packs_in(event)
        self._contents.apply(event)


def _party(w3: Web3, deployment: Deployment, store: EventStore, account: str) -> dict[str, Any]:
    consortium = deployment.contract(w3, "Consortium").functions
    gln = f"{consortium.gln(account).call():013d}"
    party: dict[str, Any] = {"account": account, "gln": gln, "name": None, "address": None}
    location = store.location(gln)
    if location is not None:
        party.update(_party_from_location(location))
    return party


def _party_from_location(location: dict[str, Any]) -> dict[str, Any]:
    attrs = location["attributes"]
    keys = ("streetAddressOne", "streetAddressTwo", "city", "state", "postalCode", "countryCode")
    return {"name": location["name"], "address": {k: attrs[k] for k in keys if k in attrs} or None}


def _product(w3: Web3, deployment: Deployment, store: EventStore, gtin: str) -> dict[str, Any]:
    info: dict[str, Any] = {"gtin": gtin}
    owner, (name, strength, form, ndc, _) = (
        deployment.contract(w3, "ProductDirectory").functions.product(gtin).call()
    )
    stored = store.product(gtin)
    attrs = stored["attributes"] if stored else {}
    info["product_name"] = (stored or {}).get("name") or name or None
    info["ndc"] = (stored or {}).get("ndc") or ndc or None
    info["strength"] = attrs.get("strengthDescription") or strength or None
    info["dosage_form"] = attrs.get("dosageFormType") or form or None
    info["container_size"] = attrs.get("netContentDescription")
    info["manufacturer"] = attrs.get("manufacturerOfTradeItemPartyName")
    info["directory_owner"] = owner if int(owner, 16) else None
    return info


def _time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def transaction_information(
    w3: Web3,
    deployment: Deployment,
    store: EventStore,
    sscc: str,
    shipment_tx: bytes | None = None,
    lot_keys: Mapping[int, bytes] | None = None,
) -> dict[str, Any]:
    """TI and TS of the latest shipment of logistic unit ``sscc`` (any GS1 form), or of its
    shipment in transaction ``shipment_tx``, as JSON, lots named from ``store`` with the
    owners' ``lot_keys`` this member holds (its own) (``store``'s copy of the chain's events
    is brought up to date and replayed).

    Raises :class:`ShipmentNotFoundError` if the chain holds no such shipment of it.
    """
    owners = PrefixOwners(deployment.contract(w3, "Consortium"), lot_keys)
    last = _LastShipment(subject_of("sscc", sscc, owners), shipment_tx)
    project(chain_events(w3, deployment, store), last)
    shipment, packs = last.shipment, last.packs
    if shipment is None:
        where = f" in transaction 0x{shipment_tx.hex()}" if shipment_tx else ""
        raise ShipmentNotFoundError(f"no shipment of {sscc}{where} is recorded on chain")
    clear = store.identifiers(owners.index, owners.lot_keys)
    registry = deployment.contract(w3, "SerialRegistry").functions
    views = registry.packStates(sorted(packs)).call() if packs else []
    lines: Counter[tuple[str, bytes]] = Counter()
    numbers: dict[bytes, str] = {}  # lot id -> lot number, from the store's events
    unknown = 0
    for pid, view in zip(sorted(packs), views, strict=True):
        if pid not in clear.packs:
            unknown += 1
            continue
        lid = PackView.from_tuple(view).lot_id
        lines[(clear.packs[pid][0], lid)] += 1
        number = clear.lots[lid][1] if lid in clear.lots else clear.pack_lots.get(pid)
        if number is not None:
            numbers.setdefault(lid, number)
    products = []
    for (gtin, lid), count in sorted(lines.items()):
        line = _product(w3, deployment, store, gtin)
        expiry = LotView.from_tuple(registry.lotState(lid).call()).expiry
        line["lot"] = numbers.get(lid)
        line["expiry"] = expiry_to_date(f"{expiry:06d}").isoformat() if expiry else None
        line["number_of_containers"] = count
        products.append(line)
    shipped_at = shipment.timestamp
    eh = shipment.event_hash
    stored = store.event(eh) if eh != ZERO_HASH else None
    shipment_date = stored.event["eventTime"] if stored else _time(shipped_at)
    seller = _party(w3, deployment, store, shipment.from_)
    buyer = _party(w3, deployment, store, shipment.to)
    if stored is not None:  # the parties as the clear event declares them
        for party, key, field in ((seller, "sourceList", "source"),
                                  (buyer, "destinationList", "destination")):  # fmt: skip
            for entry in stored.event.get(key, []):
                epc = parse_epc_or_none(entry.get(field))
                location = store.location(epc.gln) if epc and epc.gln else None
                if location is not None and party["name"] is None:
                    declared = _party_from_location(location)
                    party.update(declared, declared_gln=location["gln"])
    statement: dict[str, Any] = {"text": TRANSACTION_STATEMENT}
    if stored is not None:
        for key, value in stored.document["header"].items():
            if key.endswith("dscsaTransactionStatement"):
                statement["partner_statement"] = value
    return {
        "sscc": sscc,
        "transaction_information": {
            "products": products,
            "packs_without_clear_identifiers": unknown,
            "transaction_date": shipment_date,
            "shipment_date": shipment_date,
            "recorded_on_chain": _time(shipped_at),
            "transaction_hash": "0x" + shipment.tx_hash.hex(),
            "event_hash": "0x" + eh.hex() if eh != ZERO_HASH else None,
            "business_transactions": (stored.event.get("bizTransactionList") if stored else None),
            "seller": seller,
            "buyer": buyer,
        },
        "transaction_statement": statement,
    }
