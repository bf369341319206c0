"""Check a plan before it is mined: every call is one the registry accepts in the order the
slots mine them (custody, status, units, lots), and every dependent step is in a later slot.
Raises :class:`PlanError` naming the first call that would revert."""

from __future__ import annotations

from dataclasses import dataclass

from ledger_client.errors import RxLedgerError
from ledger_client.ids import split_pack_word
from ledger_client.sim.plan import SLOT, Action, Plan


class PlanError(RxLedgerError, ValueError):
    """Raised when a planned call would revert on chain."""


@dataclass
class _Item:
    holder: str
    status: str = "active"
    to: str = ""
    parent: bytes | None = None
    slot: int = 0
    last: str = ""


def check(plan: Plan, record_of: dict[bytes, bytes]) -> None:
    """Check ``plan`` (``record_of``: code hash → record id, what creating calls send)."""
    items: dict[bytes, _Item] = {}
    children: dict[bytes, list[bytes]] = {}
    dispensed: dict[bytes, str] = {}

    def fail(a: Action, why: str) -> None:
        raise PlanError(f"{a.fn} by {a.sender} at {a.ts} (tag {a.tag}): {why}")

    def top(i: bytes) -> bytes:
        while items[i].parent is not None and items[items[i].parent].status != "gone":  # type: ignore[index]
            i = items[i].parent  # type: ignore[assignment]
        return i

    def touch(a: Action, i: bytes) -> _Item:
        if i not in items:
            fail(a, f"unknown item 0x{i.hex()}")
        it = items[i]
        if it.slot >= a.ts // SLOT and it.slot:
            fail(a, f"0x{i.hex()} changed in the same slot by {it.last}")
        it.last = f"{a.fn} {a.tag} at {a.ts}"
        return it

    lots: dict[bytes, int] = {}
    for a in plan.actions:
        slot = a.ts // SLOT
        if a.fn == "registerLot":
            lots[a.args[0]] = slot
        elif a.fn == "commission":
            lot, into, words, _ = a.args
            if lots.get(lot, slot) >= slot:
                fail(a, "commissioning into a lot not registered in an earlier slot")
            unit = record_of[into] if into != b"\x00" * 32 else None
            if unit is not None:
                items[unit] = _Item(a.sender, slot=slot)
                children[unit] = []
            for w in words:
                pid = record_of[split_pack_word(w)[0]]
                if pid in items:
                    fail(a, "pack commissioned twice")
                items[pid] = _Item(a.sender, parent=unit, slot=slot)
                if unit is not None:
                    children[unit].append(pid)
        elif a.fn == "pack":
            h, _packs, units, _ = a.args
            pallet = record_of[h]
            items[pallet] = _Item(a.sender, slot=slot)
            children[pallet] = list(units)
            for u in units:
                it = touch(a, u)
                if it.holder != a.sender or it.status != "active":
                    fail(a, "packing an item not held")
                it.parent, it.slot = pallet, slot
        elif a.fn == "unpack":
            (units, _) = a.args
            for u in units:
                it = touch(a, u)
                if it.holder != a.sender or it.status != "active" or top(u) != u:
                    fail(a, f"unpacking 0x{u.hex()} not held loose ({it})")
                it.status, it.slot = "gone", slot
                for c in children[u]:
                    items[c].parent = None
                    items[c].slot = slot
        elif a.fn == "ship":
            packs, units, to, _ = a.args
            if to == a.sender:
                fail(a, "ship to self")
            for i in [*packs, *units]:
                it = touch(a, i)
                if it.holder != a.sender or it.status != "active" or top(i) != i:
                    fail(a, f"shipping 0x{i.hex()} not held loose ({it})")
                it.status, it.to, it.slot = "transit", to, slot
        elif a.fn == "receiveItems":
            packs, units, _ = a.args
            for i in [*packs, *units]:
                it = touch(a, i)
                if it.status != "transit" or it.to != a.sender:
                    fail(a, f"receiving 0x{i.hex()} not in transit to it ({it})")
                it.status, it.holder, it.to, it.slot = "active", a.sender, "", slot
                for c in children.get(i, []):
                    _carry(items, children, c, a.sender, slot)
        elif a.fn == "decommission":
            packs, _reason, _ = a.args
            for i in packs:
                it = touch(a, i)
                if (
                    items[top(i)].holder != a.sender
                    or items[top(i)].status != "active"
                    or it.status != "active"
                ):
                    fail(a, f"decommissioning 0x{i.hex()} not held ({it})")
                it.status, it.slot, it.parent = "decommissioned", slot, None
                dispensed[i] = a.sender
        elif a.fn == "undoDecommission":
            packs, _ = a.args
            for i in packs:
                it = touch(a, i)
                if it.status != "decommissioned" or dispensed.get(i) != a.sender:
                    fail(a, "undo of a pack not decommissioned by the sender")
                it.status, it.slot = "active", slot
        elif a.fn == "flagPacks":
            for i in a.args[0]:
                touch(a, i).slot = slot


def _carry(
    items: dict[bytes, _Item], children: dict[bytes, list[bytes]], i: bytes, holder: str, slot: int
) -> None:
    it = items[i]
    if it.parent is None or it.status == "gone":
        return
    it.holder = holder
    for c in children.get(i, []):
        _carry(items, children, c, holder, slot)
