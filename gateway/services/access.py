"""Who may read which of the operator's clear EPCIS events: decided by the chain's index.

- The operator (the store's owner: its console key or its own member token) and members with
  the REGULATOR role on chain read every event.
- Any other member reads an event about a pack or logistic unit it held when the event
  happened (:mod:`gateway.services.custody`): an event anchored on chain happened at its
  anchoring transaction, one stored only at its ``eventTime``. An event about a case or
  pallet is one about what it held then, since custody moves with the top unit.
- An event naming a lot only (an LGTIN class: a recall, a quarantine) is read by the lot's
  owner.
- A member granted access to a lot (the ``AccessGrants`` contract: by the lot's owner or the
  council, to an auditor) reads, while the grant is live, every event naming a pack of that
  lot or the lot itself. A grant is live until its expiry, judged at the chain's time (the
  latest block's), as the contract's ``hasAccess`` judges it.

Everything is read from the gateway's index of the chain, never from the operator's say-so:
a member's custody, roles and lots are what the chain's events made them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.services.auth import Principal
from gateway.services.custody import Holding, Position, holdings, position_of
from ledger_client.contracts import Role
from ledger_client.epcis.query import time_of
from ledger_client.epcis.store import EventRecord
from ledger_client.gs1.epc import parse_epc_or_none
from ledger_client.ids import pack_id, unit_id
from ledger_client.owners import CodeOwners

#: Event fields naming packs and units, and those naming classes (lots).
_INSTANCE_FIELDS = ("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList")
_CLASS_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def _values(event: dict[str, object], names: tuple[str, ...]) -> list[object]:
    found: list[object] = []
    for name in names:
        value = event.get(name)
        found += value if isinstance(value, list) else [value]
    return found


def reads_everything(principal: Principal, operator: str | None) -> bool:
    """True for the gateway's own operator and for regulators: they read every event."""
    return principal.address == operator or bool(principal.roles & Role.REGULATOR)


def granted_lots(conn: Session, grantee: str, clock: Callable[[], float]) -> set[bytes]:
    """The lots ``grantee`` holds a live access grant on; ``clock`` (the chain's time) is
    asked only when it holds any grant."""
    rows = conn.execute(
        select(m.AccessGrant.lot_id, m.AccessGrant.expires_at).where(
            m.AccessGrant.grantee == grantee
        )
    ).all()
    if not rows:
        return set()
    now = clock()
    return {lot for lot, expires_at in rows if expires_at == 0 or expires_at > now}


class EventAccess:
    """Decides, for one caller, which stored events it may read (one per request: it
    caches custody, positions and lots read from the index). ``clock`` tells the chain's time,
    at which grants expire."""

    def __init__(
        self,
        conn: Session,
        owners: CodeOwners,
        principal: Principal,
        operator: str | None,
        clock: Callable[[], float],
    ) -> None:
        self.conn = conn
        self.owners = owners
        self.principal = principal
        self.reads_all = reads_everything(principal, operator)
        self.granted = set() if self.reads_all else granted_lots(conn, principal.address, clock)
        self._holdings: dict[bytes, list[Holding]] = {}
        self._positions: dict[str, Position | None] = {}
        self._lot_of: dict[bytes, bytes | None] = {}

    def may_read(self, record: EventRecord) -> bool:
        """True if the caller may read stored event ``record``."""
        if self.reads_all:
            return True
        event = record.event
        items = self._items(event)
        if self.granted and (
            self.granted_any(items) or any(lot in self.granted for lot in self._lots(event))
        ):
            return True
        position = self._position(record.key)
        when = time_of(event.get("eventTime"))
        for item in items:
            for holding in self._holdings_of(item):
                if holding.holder != self.principal.address:
                    continue
                if position is not None and holding.covers(position):
                    return True
                if position is None and when is not None and holding.covers_time(when):
                    return True
        return any(self._owns_lot(lot) for lot in self._lots(event))

    def held_ever(self, items: list[bytes]) -> bool:
        """True if the caller held any of ``items`` at some time."""
        return any(
            h.holder == self.principal.address for item in items for h in self._holdings_of(item)
        )

    def granted_any(self, items: list[bytes]) -> bool:
        """True if any of ``items`` is a pack of a lot the caller holds a live grant on."""
        return any(self._pack_lot(item) in self.granted for item in items)

    def item_ids(self, value: object) -> list[bytes]:
        """The ids of the genuine pack or unit records an identifier names (none for others)."""
        epc = parse_epc_or_none(value)
        if epc is None:
            return []
        if epc.kind == "sgtin" and epc.gtin and epc.serial:
            return [pack_id(epc.gtin, epc.serial, owner=self.owners.index(epc.gtin))]
        if epc.kind == "sscc" and epc.sscc:
            return [unit_id(epc.sscc, owner=self.owners.index(epc.sscc))]
        return []

    def _items(self, event: dict[str, object]) -> list[bytes]:
        return [i for value in _values(event, _INSTANCE_FIELDS) for i in self.item_ids(value)]

    def _lots(self, event: dict[str, object]) -> list[bytes]:
        lots = []
        for quantity in _values(event, _CLASS_FIELDS):
            if not isinstance(quantity, dict):
                continue
            epc = parse_epc_or_none(quantity.get("epcClass"))
            if epc is not None and epc.kind == "lgtin" and epc.gtin and epc.lot:
                lots.append(self.owners.lookup_lot_id(epc.gtin, epc.lot))
        return lots

    def _owns_lot(self, lot: bytes) -> bool:
        owner = self.conn.execute(select(m.Lot.owner).where(m.Lot.lot_id == lot)).scalar()
        return owner == self.principal.address

    def _pack_lot(self, item: bytes) -> bytes | None:
        if item not in self._lot_of:
            self._lot_of[item] = self.conn.execute(
                select(m.Pack.lot_id).where(m.Pack.pack_id == item)
            ).scalar()
        return self._lot_of[item]

    def _holdings_of(self, item: bytes) -> list[Holding]:
        if item not in self._holdings:
            self._holdings[item] = holdings(self.conn, item)
        return self._holdings[item]

    def _position(self, key: str) -> Position | None:
        """Where the event with store key ``key`` is anchored on chain (None: it is not)."""
        if key not in self._positions:
            row = None
            if not key.startswith("raw:"):
                row = self.conn.execute(
                    select(m.ChainEvent)
                    .where(m.ChainEvent.event_hash == bytes.fromhex(key))
                    .order_by(m.ChainEvent.id)
                    .limit(1)
                ).scalar()
            self._positions[key] = position_of(row) if row is not None else None
        return self._positions[key]
