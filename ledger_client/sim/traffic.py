"""Regular traffic: makers commission, palletise and ship; wholesalers break pallets down and
ship orders to pharmacies; pharmacies receive, open cases, return a few packs and dispense."""

from __future__ import annotations

from collections import defaultdict

from ledger_client.sim.plan import SLOT
from ledger_client.sim.world import DESTROYED, DISPENSED, ZERO, Order, Stock, World


def production(world: World) -> None:
    """Makers commission cases each business day, palletise them and ship pallets."""
    rng = world.rng
    share = {world.m: 0.9, world.rp: 0.1}
    days = world.bdays - 1
    lot_size = max(world.case_size * 8, world.packs // 40)
    for maker, gtins in world.products.items():
        cases = max(days, round(world.packs * share[maker] / world.case_size))
        lots: dict[str, tuple[bytes, int]] = {}
        for bd in range(days):
            n = cases // days + (1 if bd < cases % days else 0)
            made: list[bytes] = []
            for _ in range(n):
                g = rng.choice(gtins)
                lid, left = lots.get(g, (ZERO, 0))
                if left <= 0:
                    name = f"L{len(world.lot_of):05d}"
                    lid = world.new_lot(maker, g, name, world.far_expiry, world.cal.at(bd, 7, 7.2))
                    left = lot_size
                lots[g] = (lid, left - world.case_size)
                made.append(world.commission_case(maker, g, lid, bd)[0])
            for k in range(0, len(made), world.pallet_size):
                group = made[k : k + world.pallet_size]
                pallet = world.pack(world.cal.at(bd, 11.5, 13), maker, group)
                w = rng.choice(world.ws)
                ts = world.cal.at(bd, 14, 16.5)
                world.ship(ts, maker, w, [], [pallet])
                recv = world.cal.transit(ts)
                world.receive(recv, w, [], [pallet])
                opened = world.cal.after(recv, 7, 19)
                world.act(opened, w, "unpack", [pallet], ZERO)
                for case in group:
                    world.at_wholesaler[w].append((case, opened))


def distribution(world: World) -> None:
    """Wholesalers ship cases whole or as loose packs to pharmacies in many daily orders."""
    rng = world.rng
    target = 60 if world.big else 4
    for w, cases in world.at_wholesaler.items():
        by_day: dict[tuple[int, str], tuple[list[tuple[bytes, list[bytes]]], list[bytes]]]
        by_day = defaultdict(lambda: ([], []))
        for case, ready in cases:
            bd = world.cal.day_of(ready) + rng.randint(1, 5)
            if rng.random() < 0.6:
                by_day[(bd, rng.choice(world.ps))][0].append((case, world.contents[case]))
            else:
                world.act(world.cal.at(bd, 7, 8.8), w, "unpack", [case], ZERO)
                for pid in world.contents[case]:
                    by_day[(bd, rng.choice(world.ps))][1].append(pid)
        for (bd, p), (whole, loose) in sorted(by_day.items(), key=lambda kv: kv[0][0]):
            n = sum(len(c) for _, c in whole) + len(loose)
            k = max(1, min(round(n / target), len(whole) + len(loose)))
            buckets: list[tuple[list[tuple[bytes, list[bytes]]], list[bytes]]] = [
                ([], []) for _ in range(k)
            ]
            for c in whole:
                buckets[rng.randrange(k)][0].append(c)
            for pid in loose:
                buckets[rng.randrange(k)][1].append(pid)
            for cs, ls in buckets:
                if cs or ls:
                    ts = world.cal.at(bd, 9, 17)
                    world.orders.append(
                        Order(len(world.orders), w, p, ts, world.cal.transit(ts), cs, ls, "")
                    )


def pharmacies(world: World) -> None:
    """Ship and receive every order; open cases; the packs become pharmacy stock."""
    for o in world.orders:
        o.tag = world.ship(o.ship, o.frm, o.to, o.loose, [c for c, _ in o.cases])
        if o.recv is None:
            continue
        world.receive(o.recv, o.to, o.loose, [c for c, _ in o.cases])
        for pid in o.loose:
            world.stock.append(Stock(pid, o.to, o.frm, o.recv))
        for case, ids in o.cases:
            opened = world.cal.after(o.recv, 7, 19)
            world.act(opened, o.to, "unpack", [case], ZERO)
            world.stock.extend(Stock(pid, o.to, o.frm, opened) for pid in ids)


def fates(world: World) -> None:
    """Each stock pack is dispensed 0-8 business days after it is ready; a few are
    destroyed, or dispensed, undone and dispensed again. About twice a week a pharmacy
    returns 1-3 packs to each wholesaler that supplies it."""
    rng = world.rng
    lists: dict[tuple[str, str], list[Stock]] = defaultdict(list)
    for s in world.stock:
        s.at = world.cal.after(s.ready, 8, 19, rng.randint(0, 8))
        u = rng.random()
        if u < 0.003:
            s.fate = "destroy"
        elif u < 0.005:
            s.fate = "undo"
        lists[(s.pharmacy, s.supplier)].append(s)
    for (p, w), items in sorted(lists.items()):
        for bd in range(world.bdays):
            if rng.random() >= 0.4:
                continue
            ts = world.cal.at(bd, 10, 16)
            picked: list[Stock] = []
            for s in rng.sample(items, min(60, len(items))):
                if s.fate == "dispense" and s.ready + SLOT < ts < s.at - SLOT:
                    picked.append(s)
                    if len(picked) >= rng.randint(1, 3):
                        break
            if not picked:
                continue
            for s in picked:
                s.fate = "returned"
            ids = [s.pid for s in picked]
            world.ship(ts, p, w, ids, [])
            world.receive(world.cal.transit(ts), w, ids, [])


def dispensing(world: World) -> None:
    """Group each pharmacy's dispenses into small batches; scan each pack just before."""
    rng = world.rng
    batch = 4 if world.big else 1
    per: dict[str, list[Stock]] = defaultdict(list)
    for s in world.stock:
        if s.fate == "dispense":
            per[s.pharmacy].append(s)
        elif s.fate == "destroy":
            world.act(s.at, s.pharmacy, "decommission", [s.pid], DESTROYED, ZERO)
        elif s.fate == "undo":
            world.dispense_one(s.pharmacy, s.pid, s.at)
            undo = world.cal.after(s.at, 8, 19)
            world.act(undo, s.pharmacy, "undoDecommission", [s.pid], ZERO)
            world.dispense_one(s.pharmacy, s.pid, world.cal.after(undo, 8, 19, 1))
    for p, items in per.items():
        items.sort(key=lambda s: s.at)
        k = 0
        while k < len(items):
            n = rng.randint(1, 2 * batch - 1)
            group = items[k : k + n]
            k += n
            ts = group[-1].at
            ids = [s.pid for s in group]
            world.act(ts, p, "decommission", ids, DISPENSED, ZERO, items=len(ids))
            for pid in ids:
                world.scan(pid, p, ts)
