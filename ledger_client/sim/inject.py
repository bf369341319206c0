"""Injected anomalies, each with its ground truth: orders lost or late, packs reused, scanned
after a dispense, at two places or with a wrong lot, shipped on by a pharmacy, lots outside the
maker's prefix or expired and moving, unusual routes, volume spikes and night activity."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable

from ledger_client.ids import with_check_digit
from ledger_client.sim.calendar import yymmdd
from ledger_client.sim.plan import DAY, SLOT
from ledger_client.sim.world import DISPENSED, ZERO, Order, Stock, World


def _hx(b: bytes) -> str:
    return "0x" + b.hex()


def maker_lots(world: World) -> dict[str, tuple[str, bytes]]:
    """Register one lot per maker for the loose packs of the injections; return maker →
    (GTIN, lot id)."""
    lots: dict[str, tuple[str, bytes]] = {}
    for maker, g, name in (
        (world.m, with_check_digit("0061414100099"), "XM"),
        (world.rp, with_check_digit("0061414200099"), "XR"),
    ):
        lots[maker] = (g, world.new_lot(maker, g, name, world.far_expiry, world.cal.at(0, 7, 7.2)))
    return lots


def pick_stock(world: World, n: int, ok: Callable[[Stock], bool]) -> list[Stock]:
    """Up to ``n`` packs still to be dispensed before the end, not yet used for an anomaly,
    that ``ok`` accepts; they are marked used."""
    end = world.plan.end - SLOT
    pool = [
        s
        for s in world.stock
        if s.fate == "dispense" and s.pid not in world.used and s.at < end and ok(s)
    ]
    chosen = world.rng.sample(pool, min(n, len(pool)))
    for s in chosen:
        world.used.add(s.pid)
    return chosen


def _kept(world: World, pharmacy: str | None = None) -> Callable[[Stock], bool]:
    """Accepts the packs (of ``pharmacy`` when given) dispensed two or more business days
    after they were ready."""
    day = world.cal.day_of
    return lambda s: (pharmacy is None or s.pharmacy == pharmacy) and day(s.at) > day(s.ready) + 1


def _to_a_wholesaler(world: World, case: bytes, t: int) -> str:
    """The manufacturer ships ``case``, commissioned at ``t``, to a wholesaler that afternoon;
    return the wholesaler."""
    w = world.rng.choice(world.ws)
    ts = world.cal.after(t, 14, 16.5)
    world.ship(ts, world.m, w, [], [case])
    world.receive(world.cal.transit(ts), w, [], [case])
    return w


def order_anomalies(world: World) -> tuple[list[Order], list[Order]]:
    """Orders never received, and orders delivered 7-14 business days late; return both."""
    rng, last = world.rng, world.bdays - 1
    lost_pool = [o for o in world.orders if o.ship < world.plan.end - 15 * DAY]
    lost = rng.sample(lost_pool, min(world.per_kind, len(lost_pool)))
    for o in lost:
        o.recv = None
    late_pool = [o for o in world.orders if o.recv and world.cal.day_of(o.ship) + 8 < last]
    late = rng.sample(late_pool, min(world.per_kind, len(late_pool)))
    for o in late:
        days = min(rng.randint(7, 14), last - world.cal.day_of(o.ship) - 1)
        o.recv = world.cal.after(o.ship, 8, 12, days)
    return lost, late


def order_truth(world: World, lost: list[Order], late: list[Order]) -> None:
    """The truth of the order anomalies, once their shipments have tags."""
    for o in lost:
        world.truth("SHIPMENT_NOT_RECEIVED", [f"tag:{o.tag}"], frm=o.frm, to=o.to, ship=o.ship)
    for o in late:
        assert o.recv is not None
        world.truth(
            "TRANSIT_OUTLIER",
            [f"tag:{o.tag}"],
            frm=o.frm,
            to=o.to,
            ship=o.ship,
            received=o.recv,
            business_days=world.cal.day_of(o.recv) - world.cal.day_of(o.ship),
        )


def pack_anomalies(world: World) -> None:
    """Reuse after undo, scans after dispense / at two places / with a wrong lot, onward
    shipments by pharmacies, night dispenses."""
    rng, n, end = world.rng, world.per_kind, world.plan.end
    for s in pick_stock(world, n, lambda s: s.at < end - 8 * DAY):
        s.fate = "special"
        world.dispense_one(s.pharmacy, s.pid, s.at)
        undo = world.cal.after(s.at, 8, 19)
        world.act(undo, s.pharmacy, "undoDecommission", [s.pid], ZERO)
        ts = world.cal.after(undo, 10, 16, rng.randint(1, 2))
        world.ship(ts, s.pharmacy, s.supplier, [s.pid], [])
        world.receive(world.cal.transit(ts), s.supplier, [s.pid], [])
        world.truth("DECOMMISSIONED_REUSED", [_hx(s.pid)], pharmacy=s.pharmacy, shipped=ts)
    for s in pick_stock(world, n, lambda s: True):
        t = s.at + rng.randint(3 * DAY, 20 * DAY)
        where = rng.choice(world.ps)
        world.add_scan(s.pid, where, t)
        world.truth("DECOMMISSIONED_VERIFIED", [_hx(s.pid)], scanned_at=where, time=t)
    for s in pick_stock(world, n, lambda s: True):
        other = next(p for p in world.ps if p != s.pharmacy)
        t = s.at - s.at % SLOT - rng.randint(3600, 30 * 3600)
        world.add_scan(s.pid, other, t)
        world.truth("VERIFIED_TWO_PLACES", [_hx(s.pid)], places=[other, s.pharmacy])
    for s in pick_stock(world, n - n // 2, lambda s: True):
        lot = world.lot_of_pack[s.pid]
        wrong = lot + "X"
        world.add_scan(s.pid, s.pharmacy, s.at - 7200, lot=wrong)
        world.truth("PRODUCT_MISMATCH", [_hx(s.pid)], scanned_lot=wrong, lot=lot)
    for s in pick_stock(world, n, _kept(world)):
        s.fate = "special"
        other = next(w for w in world.ws if w != s.supplier)
        ts = world.cal.after(s.ready, 10, 16, 1)
        tag = world.ship(ts, s.pharmacy, other, [s.pid], [])
        world.receive(world.cal.transit(ts), other, [s.pid], [])
        world.truth(
            "ROLE_ORDER", [f"tag:{tag}"], pharmacy=s.pharmacy, supplier=s.supplier, to=other
        )
    night_dispenses(world)


def night_dispenses(world: World) -> None:
    """Single transactions at 00:00-05:00: pharmacies dispensing, makers commissioning."""
    rng = world.rng
    load: dict[str, float] = defaultdict(float)
    for a in world.plan.actions:
        if a.ts <= world.plan.end:
            load[a.sender] += 1
    batch = 4 if world.big else 1
    for s in world.stock:  # the dispenses still to be grouped into transactions
        if s.fate == "dispense" and s.at <= world.plan.end:
            load[s.pharmacy] += 1 / batch
    members = [p for p in (*world.ps, world.m, world.rp) if load[p] >= 250]
    cap = {p: max(2, int(0.0015 * load[p])) for p in members}
    cells = [(p, h) for p in members for h in range(5)]
    room = Counter({c: cap[c[0]] for c in cells})
    for _ in range(world.per_kind):
        free = [c for c in cells if room[c] > 0]
        if not free:
            break
        p, h = rng.choice(free)
        room[(p, h)] -= 1
        if p in world.ps:
            picked = pick_stock(world, 1, _kept(world, p))
            if not picked:
                continue
            s = picked[0]
            s.fate = "special"
            ts = world.cal.midnight(world.cal.day_of(s.ready) + 1) + h * 3600 + rng.randint(0, 3000)
            tag = world.act(ts, p, "decommission", [s.pid], DISPENSED, ZERO)
            world.scan(s.pid, p, ts)
        else:
            bd = rng.randrange(1, world.bdays - 1)
            ts = world.cal.midnight(bd) + h * 3600 + rng.randint(0, 3000)
            gtin, lid = world.maker_lot[p]
            tag = world.commission(ts, p, lid, ZERO, world.new_packs(p, gtin, 1))
        world.truth("NIGHT_ACTIVITY", [f"tag:{tag}"], member=p, hour=h)


def lot_anomalies(world: World) -> None:
    """Lots with a GTIN outside the maker's prefix; expired lots shipped on to pharmacies."""
    rng, n = world.rng, world.per_kind
    for k in range(n // 2):
        g = with_check_digit(f"0{'4000000' if k % 2 else '0614142'}{k:05d}")
        bd = rng.randrange(0, world.bdays - 3)
        lid = world.new_lot(world.m, g, f"F{k:04d}", world.far_expiry, world.cal.at(bd, 7, 7.2))
        _to_a_wholesaler(world, *world.commission_case(world.m, g, lid, bd))
        world.truth("PRODUCT_MISMATCH", [_hx(lid)], gtin=g, commissioner=world.m)
    for k in range(n):
        bd_exp = rng.randrange(6, world.bdays - 6)
        expiry = yymmdd(world.cal.midnight(bd_exp))
        g = rng.choice(world.products[world.m])
        lid = world.new_lot(world.m, g, f"E{k:04d}", expiry, world.cal.at(bd_exp - 5, 7, 7.2))
        case, t = world.commission_case(world.m, g, lid, bd_exp - 5)
        w = _to_a_wholesaler(world, case, t)
        p = rng.choice(world.ps)
        ts2 = world.cal.at(bd_exp + rng.randint(1, 3), 9, 17)
        tag = world.ship(ts2, w, p, [], [case])
        tag2 = world.receive(world.cal.transit(ts2), p, [], [case])
        world.truth("EXPIRED_MOVING", [f"tag:{tag}", f"tag:{tag2}"], lot=_hx(lid), expiry=expiry)


def unusual_routes(world: World) -> None:
    """Shipments on lanes the owner's goods never take (each lane at most twice per owner,
    once in small runs, where 2 of a few hundred shipments is not rare)."""
    rng = world.rng
    wa, wb = world.ws
    pa, pb = world.ps
    lanes = {
        world.m: [
            (world.m, pa),
            (world.m, pb),
            (world.m, world.rp),
            (wa, wb),
            (wb, wa),
            (wa, world.m),
            (wb, world.m),
            (wa, world.rp),
            (wb, world.rp),
        ],
        world.rp: [
            (world.rp, pa),
            (world.rp, pb),
            (world.rp, world.m),
            (wa, world.rp),
            (wb, world.rp),
            (wa, world.m),
            (wb, world.m),
            (wb, wa),
            (wa, wb),
        ],
    }
    uses = 2 if world.big else 1
    slots = [(o, ln) for o in (world.m, world.rp) for ln in lanes[o] for _ in range(uses)]
    if not world.big:  # the repackager's goods are too few to learn from; lanes once overall
        slots = [(world.m, ln) for ln in lanes[world.m]]
    rng.shuffle(slots)
    for owner, (a, b) in slots[: world.per_kind]:
        gtin, lid = world.maker_lot[owner]
        bd = rng.randrange(0, world.bdays - 6)
        case, t = world.commission_case(owner, gtin, lid, bd)
        ts = world.cal.after(t, 14, 16.5)
        if a != owner:  # first to the wholesaler on a regular lane
            world.ship(ts, owner, a, [], [case])
            recv = world.cal.transit(ts)
            world.receive(recv, a, [], [case])
            ts = world.cal.after(recv, 10, 16, 1)
        tag = world.ship(ts, a, b, [], [case])
        world.receive(world.cal.transit(ts), b, [], [case])
        world.truth("UNUSUAL_ROUTE", [f"tag:{tag}"], owner=owner, lane=[a, b])


def spikes(world: World) -> None:
    """A maker commissions six times its usual weekday count in single-pack transactions."""
    rng = world.rng
    load: dict[str, Counter[int]] = defaultdict(Counter)
    for a in world.plan.actions:
        load[a.sender][(a.ts - world.t0) // DAY] += 1
    cells = [(mk, wk) for mk in (world.m, world.rp) for wk in range(1, world.weeks)]
    rng.shuffle(cells)
    for maker, wk in cells[: world.per_kind]:
        weekdays = [load[maker].get(d, 0) for d in range(7 * world.weeks) if d % 7 < 5]
        usual = statistics.median(weekdays)
        size = max(math.ceil(5 * usual), 15)
        bd = wk * 5 + rng.randrange(5)
        gtin, lid = world.maker_lot[maker]
        for _ in range(size):
            ids = world.new_packs(maker, gtin, 1)
            world.commission(world.cal.at(bd, 9, 17), maker, lid, ZERO, ids)
        day = world.cal.midnight(bd) // DAY
        world.truth(
            "VOLUME_SPIKE", [f"{maker}@{day}"], member=maker, extra=size, usual_weekday=usual
        )
