"""Custody histories from the index: a pack's chain of events, a lot's events and holders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.schemas import CustodyStep
from gateway.services.alerts import holders_of_lot
from ledger_client.rules import MAX_LEVEL

#: Pack-level events after which a pack is no longer inside the unit it was packed into.
_LEAVES = {"ItemsUnpacked", "ItemsShipped", "PacksDecommissioned", "ItemsPacked"}
_ADDRESS_ARGS = ("by", "from", "to", "owner", "account")


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def _events_of(
    conn: Session, item: bytes, kinds: tuple[str, ...]
) -> list[tuple[m.ChainEvent, str]]:
    rows = conn.execute(
        select(m.ChainEvent, m.EventItem.kind)
        .join(m.EventItem, m.EventItem.event_id == m.ChainEvent.id)
        .where(m.EventItem.item_id == item, m.EventItem.kind.in_(kinds))
        .order_by(m.ChainEvent.id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def _container_events(
    conn: Session, unit: bytes, start: int, end: int | None, depth: int = 0
) -> list[tuple[m.ChainEvent, bytes]]:
    """Events of ``unit`` (and the units it sat in) between event ids ``start`` and ``end``."""
    found: list[tuple[m.ChainEvent, bytes]] = []
    own = _events_of(conn, unit, ("container", "unit"))
    for i, (ev, kind) in enumerate(own):
        if ev.id <= start or (end is not None and ev.id >= end):
            continue
        found.append((ev, unit))
        if kind == "unit" and ev.name == "ItemsPacked" and depth < MAX_LEVEL - 1:
            parent = bytes.fromhex(str(ev.args["unitId"])[2:])
            leave = next((e.id for e, k in own[i + 1 :] if k == "unit"), end)
            found.extend(_container_events(conn, parent, ev.id, leave, depth + 1))
    return found


def _step(
    ev: m.ChainEvent, via: bytes | None, name_of: Callable[[str | None], str | None]
) -> CustodyStep:
    details = {
        k: v
        for k, v in ev.args.items()
        if k not in ("packIds", "eventHash") and not isinstance(v, list)
    }
    for key in ("packIds", "unitIds"):
        if isinstance(ev.args.get(key), list):
            details[key.replace("Ids", "_count")] = len(ev.args[key])  # type: ignore[arg-type]
    for key in _ADDRESS_ARGS:
        if isinstance(details.get(key), str):
            details[f"{key}_name"] = name_of(details[key])  # type: ignore[arg-type]
    return CustodyStep(
        event=ev.name,
        block_number=ev.block_number,
        at=_iso(ev.block_time),
        tx_hash="0x" + bytes(ev.tx_hash).hex(),
        log_index=ev.log_index,
        actor=ev.actor,
        actor_name=name_of(ev.actor),
        event_hash="0x" + bytes(ev.event_hash).hex() if ev.event_hash else None,
        via="0x" + via.hex() if via else None,
        details=details,
    )


def pack_history(
    engine: Engine, pack: bytes, lot: bytes | None, name_of: Callable[[str | None], str | None]
) -> list[CustodyStep]:
    """Return every indexed event that concerns ``pack``: its own, its lot's, and those of the
    cases and pallets it travelled in while it was inside them, in chain order."""
    with Session(engine) as conn:
        own = _events_of(conn, pack, ("pack",))
        collected: dict[int, tuple[m.ChainEvent, bytes | None]] = {
            ev.id: (ev, None) for ev, _ in own
        }
        for i, (ev, _) in enumerate(own):
            unit_hex = None
            if (
                ev.name == "PacksCommissioned"
                and ev.args.get("unitId") != "0x" + "00" * 32
                or ev.name == "ItemsPacked"
            ):
                unit_hex = ev.args.get("unitId")
            if unit_hex:
                leave = next((e.id for e, _ in own[i + 1 :] if e.name in _LEAVES), None)
                for cev, via in _container_events(
                    conn, bytes.fromhex(str(unit_hex)[2:]), ev.id, leave
                ):
                    collected.setdefault(cev.id, (cev, via))
        if lot is not None:
            for ev, _ in _events_of(conn, lot, ("lot",)):
                if ev.name != "PacksCommissioned":
                    collected.setdefault(ev.id, (ev, None))
    return [_step(ev, via, name_of) for _, (ev, via) in sorted(collected.items())]


def lot_history(
    engine: Engine, lot: bytes, name_of: Callable[[str | None], str | None]
) -> tuple[list[CustodyStep], int, dict[str, int]]:
    """Return a lot's events, how many packs it has and how many each member holds."""
    with Session(engine) as conn:
        steps = [_step(ev, None, name_of) for ev, _ in _events_of(conn, lot, ("lot",))]
        count = conn.execute(select(func.count()).where(m.Pack.lot_id == lot)).scalar_one()
        holders = dict(holders_of_lot(conn, lot))
    return steps, int(count), holders


def lot_row(engine: Engine, lot: bytes) -> m.Lot | None:
    """Return the indexed lot."""
    with Session(engine) as conn:
        row = conn.execute(select(m.Lot).where(m.Lot.lot_id == lot)).first()
    return row[0] if row else None
