"""Matching a dock session's scans against what the chain has in transit to the receiver:
expected vs scanned, level by level, and what closing the session would report.

An expected item is **scanned** (its own code), **inferred** (inside a scanned case or pallet
that was not opened: a sealed unit stands for its contents), **partial** (not scanned, but
something inside it was) or **missing**. A unit is *opened* once a pack is scanned as found
in it; its packs must then be scanned one by one, and a difference from the chain's contents
is an aggregation error, not missing data. What closing reports:

- **data without product**: the missing items at the highest level (a missing pallet, not its
  cases), outside opened units;
- **product without data**: scans the chain does not have in transit to the receiver, each
  with the member the chain names as its holder (none for a code the chain never saw);
- **aggregation errors**: each opened unit whose packs differ from the chain's (missing
  from it, or extra in it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.services.contents import Custody, Item, custody, load_pack, load_unit
from ledger_client.types import UnitStatus

State = Literal["scanned", "inferred", "partial", "missing"]
Outcome = Literal["matched", "product_without_data", "held", "other_shipment"]
#: Events that put an item in transit to someone: the shipment that brings it.
SHIPPING_EVENTS = ("ItemsShipped", "ItemsRefused", "LostItemsFound")


@dataclass(frozen=True)
class Classified:
    """What a scan is: its outcome, and for product without data the holder the chain names
    (None: the chain never saw the code)."""

    outcome: Outcome
    holder: str | None = None
    custody: Custody | None = None


@dataclass(frozen=True)
class Difference:
    """An opened unit's packs against the chain's: missing from it, extra in it."""

    unit: bytes
    on_chain: tuple[bytes, ...]
    scanned_in: tuple[bytes, ...]
    missing: tuple[bytes, ...]
    extra: tuple[bytes, ...]


@dataclass
class Match:
    """A session's expected items matched against its scans (see the module docstring)."""

    operator: str
    top: list[Item]
    nodes: dict[bytes, Item]
    parent: dict[bytes, bytes]
    in_transit: set[bytes]
    received: set[bytes]
    scans: list[m.DockScan]
    opened: set[bytes]
    states: dict[bytes, State] = field(default_factory=dict)
    outcomes: dict[bytes, Classified] = field(default_factory=dict)

    @property
    def scanned(self) -> set[bytes]:
        """Ids scanned in the session."""
        return {bytes(s.item_id) for s in self.scans}

    def receivable(self) -> list[bytes]:
        """Top-level expected items scanned themselves, still in transit, not yet received."""
        scanned = self.scanned
        return sorted(
            t.id
            for t in self.top
            if t.id in scanned and t.id in self.in_transit and t.id not in self.received
        )

    def missing(self) -> list[bytes]:
        """Data without product: missing items at the highest level, outside opened units."""
        found = []
        for item_id, state in self.states.items():
            parent = self.parent.get(item_id)
            if state == "missing" and (parent is None or self.states[parent] == "partial"):
                found.append(item_id)
        return sorted(found)

    def quarantined(self) -> list[bytes]:
        """Product without data: the scans the chain does not have in transit to you."""
        return sorted(i for i, c in self.outcomes.items() if c.outcome == "product_without_data")

    def differences(self) -> list[Difference]:
        """Aggregation errors: opened units whose packs differ from the chain's."""
        found = []
        for unit_id in sorted(self.opened):
            unit = self.nodes.get(unit_id)
            if unit is None:
                continue
            beneath = {i.id for i in unit.walk()}
            on_chain = {i.id for i in unit.walk() if i.is_pack}
            missing = {i for i in on_chain if self.states[i] == "missing"}
            scanned_in: set[bytes] = set()
            for s in self.scans:
                item = bytes(s.item_id)
                where = bytes(s.within) if s.within is not None else None
                if item in on_chain and where not in beneath:
                    missing.add(item)  # found, but not in this unit
                if where == unit_id:
                    scanned_in.add(item)
            extra = scanned_in - on_chain
            if missing or extra:
                found.append(
                    Difference(
                        unit_id,
                        tuple(sorted(on_chain)),
                        tuple(sorted(scanned_in)),
                        tuple(sorted(missing)),
                        tuple(sorted(extra)),
                    )
                )
        return found


def in_transit_to(conn: Session, operator: str, sender: str | None = None) -> dict[bytes, str]:
    """Top-level packs and units in transit to ``operator`` (from ``sender`` only, if given),
    each with its sender."""
    found: dict[bytes, str] = {}
    for table, column in ((m.Pack, m.Pack.pack_id), (m.Unit, m.Unit.unit_id)):
        where = [
            table.parent.is_(None),
            table.status == int(UnitStatus.IN_TRANSIT),
            table.pending_to == operator,
        ]
        if sender is not None:
            where.append(table.custodian == sender)
        for item, custodian in conn.execute(select(column, table.custodian).where(*where)):
            found[bytes(item)] = str(custodian)
    return found


def shipments_of(conn: Session, items: set[bytes]) -> dict[bytes, bytes]:
    """The transaction that put each of ``items`` on its way (its latest shipment, refusal
    or find), by item."""
    latest: dict[bytes, tuple[int, bytes]] = {}
    wanted = list(items)
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(m.EventItem.item_id, m.ChainEvent.id, m.ChainEvent.tx_hash)
            .join(m.ChainEvent, m.ChainEvent.id == m.EventItem.event_id)
            .where(
                m.EventItem.item_id.in_(wanted[start : start + 500]),
                m.ChainEvent.name.in_(SHIPPING_EVENTS),
            )
        )
        for item, row_id, tx in rows:
            key = bytes(item)
            if key not in latest or latest[key][0] < row_id:
                latest[key] = (row_id, bytes(tx))
    return {item: tx for item, (_, tx) in latest.items()}


def load_item(conn: Session, item: bytes) -> Item | None:
    """The indexed pack, or unit with its contents, of id ``item``."""
    return load_pack(conn, item) or load_unit(conn, item)


def match(
    conn: Session,
    session: m.DockSession,
    scans: list[m.DockScan],
    received: set[bytes],
) -> Match:
    """Match ``scans`` against what the chain has in transit from the session's sender to its
    operator (of its shipment only, if it names one), and the items it ``received``."""
    moving = in_transit_to(conn, session.operator, session.sender)
    if session.shipment_tx is not None:
        txs = shipments_of(conn, set(moving))
        moving = {i: s for i, s in moving.items() if txs.get(i) == bytes(session.shipment_tx)}
    top: list[Item] = []
    for item_id in sorted(set(moving) | received):
        item = load_item(conn, item_id)
        if item is not None:
            top.append(item)
    nodes: dict[bytes, Item] = {}
    parent: dict[bytes, bytes] = {}
    for item in top:
        for inner in item.walk():
            nodes[inner.id] = inner
            for child in inner.children:
                parent[child.id] = inner.id
    opened = {bytes(s.within) for s in scans if s.within is not None} & set(nodes)
    found = Match(session.operator, top, nodes, parent, set(moving), received, scans, opened)
    scanned = found.scanned
    for item in top:
        _mark(found, item, scanned, inferred=False)
    for s in scans:
        found.outcomes[bytes(s.item_id)] = classify(conn, found, s)
    return found


def _mark(found: Match, item: Item, scanned: set[bytes], inferred: bool) -> bool:
    """Set the state of ``item`` and what is inside it; return whether any of it is present."""
    own = item.id in scanned
    present = own or inferred
    inside = present and item.id not in found.opened
    any_present = present
    for child in item.children:
        any_present = _mark(found, child, scanned, inside) or any_present
    found.states[item.id] = (
        "scanned" if own else "inferred" if inferred else "partial" if any_present else "missing"
    )
    return any_present


def classify(conn: Session, found: Match, scan: m.DockScan) -> Classified:
    """What ``scan`` is: matched (expected), already the operator's (held), in transit to it
    from another sender or shipment, or product without data (quarantined when scanned)."""
    item_id = bytes(scan.item_id)
    if item_id in found.nodes and not scan.quarantined:
        return Classified("matched")
    item = load_pack(conn, item_id) if scan.kind == "pack" else load_unit(conn, item_id)
    where = custody(conn, item) if item is not None else None
    if scan.quarantined:  # as it was when scanned
        return Classified("product_without_data", scan.last_holder, where)
    if where is None:
        return Classified("product_without_data")
    if where.custodian == found.operator:
        return Classified("held", where.custodian, where)
    if where.in_transit and where.pending_to == found.operator:
        return Classified("other_shipment", where.custodian, where)
    return Classified("product_without_data", where.custodian, where)
