"""Custody histories from the index: a pack's chain of events, a lot's events and holders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.projection import event_of
from gateway.schemas import CustodyStep
from gateway.services.alerts import holders_of_lot
from ledger_client import events as ev
from ledger_client.rules import MAX_LEVEL
from ledger_client.types import ZERO_HASH

#: Pack-level events after which a pack is no longer inside the unit it was packed into.
_LEAVES = (ev.ItemsUnpacked, ev.ItemsShipped, ev.PacksDecommissioned, ev.ItemsPacked)
_ADDRESS_ARGS = ("by", "from", "to", "owner", "account", "sender", "recipient")


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Stored:
    """An indexed event row, the kind of item the lookup found it by, and its typed event."""

    row: m.ChainEvent
    kind: str

    @cached_property
    def event(self) -> ev.ChainEvent:
        return event_of(self.row)


def _events_of(conn: Session, item: bytes, kinds: tuple[str, ...]) -> list[_Stored]:
    rows = conn.execute(
        select(m.ChainEvent, m.EventItem.kind)
        .join(m.EventItem, m.EventItem.event_id == m.ChainEvent.id)
        .where(m.EventItem.item_id == item, m.EventItem.kind.in_(kinds))
        .order_by(m.ChainEvent.id)
    ).all()
    return [_Stored(r[0], r[1]) for r in rows]


def _packed_into(event: ev.ChainEvent) -> bytes | None:
    """The case or pallet ``event`` puts its packs into, if any."""
    match event:
        case ev.PacksCommissioned() | ev.ItemsPacked() if event.unit_id != ZERO_HASH:
            return event.unit_id
    return None


def _container_events(
    conn: Session, unit: bytes, start: int, end: int | None, depth: int = 0
) -> list[tuple[m.ChainEvent, bytes]]:
    """Events of ``unit`` (and the units it sat in) between event ids ``start`` and ``end``."""
    found: list[tuple[m.ChainEvent, bytes]] = []
    own = _events_of(conn, unit, ("container", "unit"))
    for i, stored in enumerate(own):
        row = stored.row
        if row.id <= start or (end is not None and row.id >= end):
            continue
        found.append((row, unit))
        if stored.kind != "unit" or depth >= MAX_LEVEL - 1:
            continue
        parent = stored.event
        if isinstance(parent, ev.ItemsPacked):  # packed into a larger unit
            leave = next((o.row.id for o in own[i + 1 :] if o.kind == "unit"), end)
            found.extend(_container_events(conn, parent.unit_id, row.id, leave, depth + 1))
    return found


def _step(
    row: m.ChainEvent, via: bytes | None, name_of: Callable[[str | None], str | None]
) -> CustodyStep:
    details = {
        k: v
        for k, v in row.args.items()
        if k not in ("packIds", "eventHash") and not isinstance(v, list)
    }
    for key in ("packIds", "unitIds"):
        if isinstance(row.args.get(key), list):
            details[key.replace("Ids", "_count")] = len(row.args[key])  # type: ignore[arg-type]
    for key in _ADDRESS_ARGS:
        if isinstance(details.get(key), str):
            details[f"{key}_name"] = name_of(details[key])  # type: ignore[arg-type]
    return CustodyStep(
        event=row.name,
        block_number=row.block_number,
        at=_iso(row.block_time),
        tx_hash="0x" + bytes(row.tx_hash).hex(),
        log_index=row.log_index,
        actor=row.actor,
        actor_name=name_of(row.actor),
        event_hash="0x" + bytes(row.event_hash).hex() if row.event_hash else None,
        via="0x" + via.hex() if via else None,
        details=details,
    )


def pack_rows(conn: Session, pack: bytes) -> dict[int, tuple[m.ChainEvent, bytes | None]]:
    """The indexed events of ``pack`` and of the cases and pallets it travelled in while it
    was inside them (each with the unit it came through, None for its own), by row id."""
    own = _events_of(conn, pack, ("pack",))
    collected: dict[int, tuple[m.ChainEvent, bytes | None]] = {s.row.id: (s.row, None) for s in own}
    for i, stored in enumerate(own):
        unit = _packed_into(stored.event)
        if unit is None:
            continue
        leave = next((o.row.id for o in own[i + 1 :] if isinstance(o.event, _LEAVES)), None)
        for row, via in _container_events(conn, unit, stored.row.id, leave):
            collected.setdefault(row.id, (row, via))
    return collected


def unit_rows(conn: Session, unit: bytes) -> dict[int, tuple[m.ChainEvent, bytes | None]]:
    """The indexed events of logistic unit ``unit`` and of the units it sat in while inside
    them, by row id."""
    return {row.id: (row, via) for row, via in _container_events(conn, unit, 0, None)}


def pack_history(
    engine: Engine, pack: bytes, lot: bytes | None, name_of: Callable[[str | None], str | None]
) -> list[CustodyStep]:
    """Return every indexed event that concerns ``pack``: its own, its lot's, and those of the
    cases and pallets it travelled in while it was inside them, in chain order."""
    with Session(engine) as conn:
        collected = pack_rows(conn, pack)
        if lot is not None:
            for stored in _events_of(conn, lot, ("lot",)):
                if not isinstance(stored.event, ev.PacksCommissioned):
                    collected.setdefault(stored.row.id, (stored.row, None))
    return [_step(row, via, name_of) for _, (row, via) in sorted(collected.items())]


def lot_history(
    engine: Engine, lot: bytes, name_of: Callable[[str | None], str | None]
) -> tuple[list[CustodyStep], int, dict[str, int]]:
    """Return a lot's events, how many packs it has and how many each member holds."""
    with Session(engine) as conn:
        steps = [_step(s.row, None, name_of) for s in _events_of(conn, lot, ("lot",))]
        count = conn.execute(select(func.count()).where(m.Pack.lot_id == lot)).scalar_one()
        holders = dict(holders_of_lot(conn, lot))
    return steps, int(count), holders


def lot_row(engine: Engine, lot: bytes) -> m.Lot | None:
    """Return the indexed lot."""
    with Session(engine) as conn:
        row = conn.execute(select(m.Lot).where(m.Lot.lot_id == lot)).first()
    return row[0] if row else None
