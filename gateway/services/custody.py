"""Who held a pack or logistic unit, from when to when: custody intervals from the index.

A member holds an item from the chain event that gave it the item (its commissioning or
packing, a shipment addressed to it, a refusal sending the item back to it, the cancel of its
own shipment) to the event that took the item away (its shipment, a refusal of it, the
sender's cancel), both included: the sender and the recipient of a shipment both see the
shipment, its cancel and its refusal. A report of the item lost or found moves it to nobody:
its recipient goes on seeing what becomes of it. A pack inside a
case or pallet moves with it, so its intervals come from its own events and those of the
units it travelled in while inside them (:func:`gateway.services.history.pack_rows`).
Positions are ``(block time, block number, log index)``, so they order like the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.services.history import event_of, pack_rows, unit_rows
from ledger_client import events as ev
from ledger_client.events import actor

#: Where an event sits on the chain: block time, block number, log index.
Position = tuple[int, int, int]


@dataclass(frozen=True)
class Holding:
    """``holder`` held the item from ``start`` to ``end`` (None: it still does), inclusive."""

    holder: str
    start: Position
    end: Position | None

    def covers(self, position: Position) -> bool:
        """True if ``position`` (a chain event) falls within this holding."""
        return self.start <= position and (self.end is None or position <= self.end)

    def covers_time(self, when: float) -> bool:
        """True if a time (an event that is not anchored on chain) falls within it."""
        return self.start[0] <= when and (self.end is None or when <= self.end[0])


def position_of(row: m.ChainEvent) -> Position:
    """The chain position of an indexed event."""
    return (row.block_time, row.block_number, row.log_index)


def _next_holder(event: ev.ChainEvent) -> str | None:
    """The member an event moves an item to: a shipment's recipient, a refusal's sender, a
    cancelling sender; None when it moves nothing between members."""
    match event:
        case ev.ItemsShipped():
            return event.to
        case ev.ItemsRefused():
            return event.sender
        case ev.ShipmentCancelled():
            return event.by
    return None


def holdings(conn: Session, item: bytes) -> list[Holding]:
    """Every custody interval of pack or unit ``item`` (an SGTIN case is both), in order."""
    rows = {**unit_rows(conn, item), **pack_rows(conn, item)}
    found: list[Holding] = []
    holder: str | None = None
    start: Position | None = None
    for _, (row, _via) in sorted(rows.items()):
        event = event_of(row)
        position = position_of(row)
        taker = _next_holder(event)
        if taker is not None:
            if holder is not None and start is not None:
                found.append(Holding(holder, start, position))
            holder, start = taker, position
        elif holder is None:  # created: commissioned, or packed as a new unit
            holder, start = actor(event), position
    if holder is not None and start is not None:
        found.append(Holding(holder, start, None))
    return found
