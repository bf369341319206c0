"""Custody chains of packs and lot traces, from a replayed :class:`RegistryModel`."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from ledger_client import events as ev
from ledger_client.audit.model import RegistryModel
from ledger_client.events import actor
from ledger_client.types import ZERO_HASH, DecommissionReason, LotStatus, PackStatus


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _step(e: ev.ChainEvent, pid: bytes) -> dict[str, Any]:
    eh = e.event_hash if isinstance(e, ev.RegistryEvent) else ZERO_HASH
    step: dict[str, Any] = {
        "event": e.name,
        "by": actor(e),
        "time": e.timestamp,
        "block": e.block_number,
        "tx": _hex(e.tx_hash),
        "event_hash": _hex(eh) if eh != ZERO_HASH else None,
    }
    match e:
        case ev.ItemsShipped():
            step["to"] = e.to
        case ev.ItemsRefused():
            step["to"] = e.sender
        case ev.ShipmentCancelled() | ev.ItemsLost() | ev.LostItemsFound():
            step["to"] = e.recipient
        case ev.PacksDecommissioned():
            step["reason"] = DecommissionReason(e.reason).name
        case ev.PacksFlagged():
            step["flags"], step["reason_code"] = e.flags, e.reason_code
        case ev.PacksCommissioned() if e.unit_id != ZERO_HASH:
            step["into_unit"] = _hex(e.unit_id)
    match e:  # moved with the units that held it
        case (
            ev.ItemsPacked()
            | ev.ItemsUnpacked()
            | ev.ItemsShipped()
            | ev.ItemsReceived()
            | ev.ShipmentCancelled()
            | ev.ItemsRefused()
            | ev.ItemsLost()
            | ev.LostItemsFound()
        ) if pid not in e.pack_ids:
            step["via_units"] = [_hex(u) for u in e.unit_ids]
    return step


def custody_chain(model: RegistryModel, pid: bytes) -> dict[str, Any]:
    """Return who held pack ``pid``, from when to when, and the transaction and EPCIS event
    hash that prove each change; ``steps`` lists every event that touched the pack. A
    period is HELD, IN_TRANSIT (shipped, refused back, found again), LOST or DECOMMISSIONED."""
    p = model.packs.get(pid)
    if p is None:
        raise KeyError(f"pack 0x{pid.hex()} is not in the replayed history")
    steps: list[dict[str, Any]] = []
    periods: list[dict[str, Any]] = []

    def open_(state: str, holder: str, s: dict[str, Any], **extra: Any) -> None:
        if periods and periods[-1]["until"] is None:
            periods[-1]["until"] = s["time"]
            periods[-1]["ended_by_tx"] = s["tx"]
        periods.append(
            {
                "state": state,
                "holder": holder,
                "since": s["time"],
                "until": None,
                "block": s["block"],
                "tx": s["tx"],
                "event_hash": s["event_hash"],
                **extra,
            }
        )

    for i in p.history:
        e = model.events[i]
        s = _step(e, pid)
        steps.append(s)
        match e:
            case (
                ev.PacksCommissioned()
                | ev.ItemsReceived()
                | ev.DecommissionsUndone()
                | ev.ShipmentCancelled()
            ):
                open_("HELD", s["by"], s)
            case ev.ItemsShipped() | ev.ItemsRefused() | ev.LostItemsFound():
                open_("IN_TRANSIT", s["by"], s, to=s["to"])
            case ev.ItemsLost():
                open_("LOST", s["by"], s, to=s["to"])
            case ev.PacksDecommissioned():
                open_("DECOMMISSIONED", s["by"], s, reason=s["reason"])
    holder, transit = model.holder(p)
    return {
        "pack": _hex(pid),
        "lot": _hex(p.lot.id),
        "status": PackStatus(p.status).name,
        "holder": holder,
        "in_transit": transit,
        "periods": periods,
        "steps": steps,
    }


def lot_trace(model: RegistryModel, lid: bytes) -> dict[str, Any]:
    """Return every current holder of lot ``lid`` and how many of its packs each holds, the
    packs travelling to each member, the packs each member reported lost in transit, and the
    decommissioned packs by reason: what a recall needs (lost packs are outstanding)."""
    lot = model.lots.get(lid)
    if lot is None:
        raise KeyError(f"lot 0x{lid.hex()} is not in the replayed history")
    held: Counter[str] = Counter()
    incoming: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    decommissioned: Counter[str] = Counter()
    packs_by_holder: dict[str, list[str]] = defaultdict(list)
    for pid in lot.packs:
        p = model.packs[pid]
        if p.status == PackStatus.DECOMMISSIONED:
            decommissioned[DecommissionReason(p.reason).name] += 1
            continue
        member, transit = model.holder(p)
        (lost if model.is_lost(p) else incoming if transit else held)[member] += 1
        packs_by_holder[member].append(_hex(pid))
    holders = [
        {
            "member": m,
            "held": held[m],
            "in_transit_to": incoming[m],
            "lost": lost[m],
            "packs": sorted(packs_by_holder[m]),
        }
        for m in sorted(
            set(held) | set(incoming) | set(lost),
            key=lambda m: (-(held[m] + incoming[m] + lost[m]), m),
        )
    ]
    return {
        "lot": _hex(lid),
        "owner": lot.owner,
        "status": LotStatus(lot.status).name,
        "expiry": lot.expiry,
        "packs": len(lot.packs),
        "outstanding": sum(held.values()) + sum(incoming.values()) + sum(lost.values()),
        "holders": holders,
        "decommissioned": dict(sorted(decommissioned.items())),
    }
