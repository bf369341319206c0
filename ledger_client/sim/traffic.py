"""Regular traffic and its legitimate irregularities.

Makers commission cases on their working days (three times the usual count on a campaign
day; one product stops at a shortage), palletise them and ship pallets to the 3PL (the
overseas maker by sea, 15-19 days) or straight to a wholesaler allowed to carry them. The 3PL
passes pallets on to wholesalers. Wholesalers break pallets down, keep cases 1-5 days,
balance stock between themselves now and then, and ship cases whole or as loose packs on
their night shift to pharmacies: to those whose primary wholesaler they are, and as a
secondary supplier when the primary is out (more often for the short product). A truck is
missed about one time in seven (a day more). Pharmacies receive, open cases and dispense;
they destroy damaged packs, undo a dispense within minutes, scan a pack a second time at the
counter, transfer a pack to another pharmacy for a patient, return saleable packs that the
wholesaler verifies and resells within 48 hours, and send expired stock to the reverse
distributor, which destroys it. One pharmacy goes live a third of the way in with its
opening stock on one day; one is open around the clock.
"""

from __future__ import annotations

from collections import defaultdict

from ledger_client.sim.plan import DAY, SLOT
from ledger_client.sim.world import ZERO, Lot, Order, Stock, World, hx


def short_dated(world: World) -> dict[str, Lot]:
    """One lot of each domestic maker's second product that expires 55 % of the way in."""
    out: dict[str, Lot] = {}
    d_exp = int(world.cfg.days * 0.55)
    for maker in world.makers:
        if maker == world.overseas:
            continue
        g = world.products[maker][1]
        first = world.open_days(maker)[0]
        t = world.site[maker].local(first, world.site[maker].intervals(first)[0][0]) + 60
        expiry = world.expiry_of(world.day(d_exp))
        out[maker] = world.new_lot(maker, g, f"SD{len(world.lots):04d}", expiry, t)
    return out


def production(world: World) -> None:
    """Makers commission, palletise and ship (see the module docstring)."""
    rng, cfg = world.rng, world.cfg
    share = {
        m: (0.3 if k == 0 else 0.7 / max(1, len(world.makers) - 1))
        for k, m in enumerate(world.makers)
    }
    lot_size = max(cfg.case_size * 10, cfg.packs // 30)
    short = short_dated(world)
    world.short_lots = {lot.id for lot in short.values()}
    world.shortage_gtin = world.products[world.makers[0]][0]
    stop = int(cfg.days * 0.4)
    world.flow("shortage", [world.shortage_gtin], member=world.makers[0], from_day=stop)
    for maker in world.makers:
        days = [d for d in world.open_days(maker) if d < cfg.days - 3]
        if maker == world.overseas:
            days = [d for d in days if d < cfg.days - 20] or days[:2]
        cases = max(len(days), round(cfg.packs * share[maker] / cfg.case_size))
        campaign = days[len(days) // 2]
        weights = {d: 3 if d == campaign else 1 for d in days}
        total = sum(weights.values())
        left: dict[str, tuple[Lot | None, int]] = {}
        short_left = 3 * cfg.pallet_size
        for d in days:
            n = max(1, round(cases * weights[d] / total))
            made: list[bytes] = []
            opens = world.site[maker].local(d, world.site[maker].intervals(d)[0][0]) + 60
            for _ in range(n):
                gtins = [
                    g for g in world.products[maker] if not (g == world.shortage_gtin and d >= stop)
                ]
                g = rng.choice(gtins)
                lot, room = left.get(g, (None, 0))
                if (
                    maker in short
                    and g == short[maker].gtin
                    and short_left > 0
                    and opens < short[maker].expires_at - 7 * DAY
                ):
                    lot, short_left = short[maker], short_left - 1
                elif lot is None or room <= 0:
                    lot = world.new_lot(maker, g, f"L{len(world.lots):05d}", world.far, opens)
                    room = lot_size
                    left[g] = (lot, room - cfg.case_size)
                else:
                    left[g] = (lot, room - cfg.case_size)
                t = world.at(maker, d, 0, opens)
                assert t is not None
                made.append(world.commission_case(maker, lot, t))
            if d == campaign:
                world.flow("campaign", [world.member_day(maker, world.day(d) + 12 * 3600)], cases=n)
            for k in range(0, len(made), cfg.pallet_size):
                group = made[k : k + cfg.pallet_size]
                t_last = max(world.made_at[world.contents[c][0]] for c in group)
                packed = world.after(maker, t_last)
                pallet = world.pack(packed, maker, group)
                ship_at = world.after(maker, packed)
                if (
                    maker == world.overseas
                    or k // cfg.pallet_size % 2 == 0
                    and maker == world.makers[0]
                ):
                    _via_tpl(world, maker, pallet, group, ship_at)
                else:
                    w = rng.choice(world.carriers[maker])
                    _to_wholesaler(world, maker, w, pallet, group, ship_at)


def _via_tpl(world: World, maker: str, pallet: bytes, group: list[bytes], ship_at: int) -> None:
    s, _r, recv = world.move(ship_at, maker, world.tpl, [], [pallet])
    if maker == world.overseas:
        world.flow("ocean_lane", [f"tag:{s}"])
    w = world.rng.choice(world.carriers[maker])
    _to_wholesaler(world, world.tpl, w, pallet, group, world.after(world.tpl, recv, 1))


def _to_wholesaler(
    world: World, frm: str, w: str, pallet: bytes, group: list[bytes], ts: int
) -> None:
    _s, _r, recv = world.move(ts, frm, w, [], [pallet])
    opened = world.after(w, recv)
    world.act(opened, w, "unpack", [pallet], ZERO)
    for case in group:
        world.at_wholesaler.append((w, case, opened))


def _pharmacy_for(world: World, w: str, gtin: str, d: int) -> tuple[str, bool]:
    """The pharmacy an order of ``w`` goes to on day ``d``, and whether ``w`` delivers as
    its secondary wholesaler."""
    rng = world.rng
    live = list(world.ps)
    mine = [p for p in live if world.primary[p] == w]
    secondary = 0.5 if gtin == world.shortage_gtin and d >= world.cfg.days * 0.4 else 0.1
    if mine and rng.random() >= secondary:
        return rng.choice(mine), False
    return rng.choice([p for p in live if p not in mine] or live), True


def distribution(world: World) -> None:
    """Wholesalers balance stock and ship orders (see the module docstring); cases of an
    expired lot go to the reverse distributor instead."""
    rng, cfg = world.rng, world.cfg
    orders: dict[tuple[str, str, int], Order] = {}
    queue = list(world.at_wholesaler)
    while queue:
        w, case, ready = queue.pop(0)
        if case in world.used:
            continue
        lot = world.lot_of_case[case]
        ts = world.after(w, ready, rng.randint(1, 5), part=1)
        d = world.site[w].day_of(ts)
        if lot.id in world.short_lots and ts > lot.expires_at - 4 * DAY:
            world.reverse_cases.append((w, case, max(ts, lot.expires_at)))
            continue
        others = [x for x in world.carriers[lot.owner] if x != w]
        if (
            others
            and rng.random() < 0.04
            and ready < world.end - 8 * DAY
            and ready < lot.expires_at - 8 * DAY
        ):
            w2 = rng.choice(others)
            t0 = world.after(w, ready, 1)
            s, _r, recv = world.move(t0, w, w2, [], [case])
            world.flow("stock_balancing", [f"tag:{s}"], frm=w, to=w2)
            queue.append((w2, case, recv))
            continue
        p, secondary = _pharmacy_for(world, w, lot.gtin, d)
        if p == world.go_live and d < world.go_live_day:
            eve = world.site[w].local(world.go_live_day - 1, 0)
            ts = world.after(w, max(ready, eve), part=1)
        loose = rng.random() >= 0.55
        if loose:
            unpacked = world.after(w, ready)
            world.act(unpacked, w, "unpack", [case], ZERO)
            if ts <= unpacked + SLOT:
                ts = world.after(w, unpacked, part=1)
        key = (w, p, world.site[w].day_of(ts))
        if (
            key not in orders
            or len(orders[key].cases) + len(orders[key].loose) // cfg.case_size >= 3
        ):
            o = Order(w, p, ts, None, [], [], "secondary_delivery" if secondary else "")
            orders[key] = o
            world.orders.append(o)
        o = orders[key]
        if not loose:
            o.cases.append(case)
        else:
            if o.ship <= unpacked + SLOT:  # the day's order leaves once the case is open
                o.ship = ts
            packs = world.contents[case]
            k = rng.randint(1, len(packs) - 1)
            o.loose.extend(packs[:k])
            rest = packs[k:]
            p2, sec2 = _pharmacy_for(world, w, lot.gtin, d)
            o2 = Order(
                w,
                p2,
                world.after(w, ts, 0, part=1),
                None,
                [],
                rest,
                "secondary_delivery" if sec2 else "",
            )
            world.orders.append(o2)
    for o in world.orders:
        o.recv = world.arrival(o.frm, o.to, o.ship)
        if o.to == world.go_live and world.site[o.to].day_of(o.recv) <= world.go_live_day:
            o.recv = world.after(o.to, world.day(world.go_live_day) + 7 * 3600)
            o.flow = "go_live"


def pharmacies(world: World) -> None:
    """Ship and receive every order; open cases; the packs become pharmacy stock."""
    for o in world.orders:
        o.tag = world.ship(o.ship, o.frm, o.to, o.loose, o.cases)
        if o.flow == "secondary_delivery":
            world.flow("secondary_delivery", [f"tag:{o.tag}"], wholesaler=o.frm, pharmacy=o.to)
        if o.recv is None:
            continue
        if o.flow == "go_live":
            world.flow("go_live", [world.member_day(o.to, o.recv)])
        world.receive(o.recv, o.to, o.loose, o.cases)
        for pid in o.loose:
            world.stock.append(Stock(pid, o.to, o.frm, o.recv))
        for case in o.cases:
            opened = world.after(o.to, o.recv)
            world.act(opened, o.to, "unpack", [case], ZERO)
            world.stock.extend(Stock(pid, o.to, o.frm, opened) for pid in world.contents[case])


def reverse_wholesale(world: World) -> None:
    """Wholesalers send cases of expired lots to the reverse distributor, which destroys them."""
    by: dict[str, list[tuple[bytes, int]]] = defaultdict(list)
    for w, case, t in world.reverse_cases:
        by[w].append((case, t))
    for w, items in by.items():
        t = world.after(w, max(t for _, t in items), 1)
        cases = [c for c, _ in items]
        _to_reverse(world, w, [], cases, t, "reverse_expired")


def _to_reverse(
    world: World, frm: str, packs: list[bytes], cases: list[bytes], t: int, flow: str
) -> None:
    s, r, recv = world.move(t, frm, world.rd, packs, cases)
    world.flow(flow, [f"tag:{s}", f"tag:{r}", *map(hx, packs), *map(hx, cases)], frm=frm)
    ids = list(packs)
    for c in cases:
        ids.extend(world.contents[c])
    if ids:
        world.destroy(world.after(world.rd, recv, 1), world.rd, ids)


def fates(world: World) -> None:
    """Each pharmacy pack's fate and time (see the module docstring)."""
    rng = world.rng
    expired: dict[str, list[Stock]] = defaultdict(list)
    for s in world.stock:
        s.at = world.after(s.pharmacy, s.ready, rng.randint(0, 8))
        lot = world.lot_of_pack[s.pid]
        if s.at > lot.expires_at - DAY:
            s.fate = "expired"
            expired[s.pharmacy].append(s)
            continue
        u = rng.random()
        if s.at > world.end - 3 * DAY:
            continue
        # a pack that moves on (transfer, return and resale) must arrive before its lot
        # expires as the contract sees it: the end of the expiry day in UTC
        moves_on = s.at < lot.expires_at - 7 * DAY
        if u < 0.006:
            s.fate = "destroy"
        elif u < 0.018:
            s.fate = "quick_undo"
        elif u < 0.026 and moves_on:
            s.fate = "transfer"
        elif 0.026 <= u < 0.040 and moves_on:
            s.fate = "saleable_return"
    for p, items in expired.items():
        lot_end = max(world.lot_of_pack[s.pid].expires_at for s in items)
        t = world.after(p, max(lot_end, max(s.ready for s in items)), 1)
        _to_reverse(world, p, [s.pid for s in items], [], t, "reverse_expired")


def special_fates(world: World) -> None:
    """Destructions, quick undos, patient transfers and saleable returns; the packs that
    come to another pharmacy join its stock to be dispensed."""
    rng = world.rng
    extra: list[Stock] = []
    for s in world.stock:
        if s.fate == "destroy":
            world.destroy(s.at, s.pharmacy, [s.pid])
        elif s.fate == "quick_undo":
            world.dispense(s.at, s.pharmacy, [s.pid])
            undo = s.at - s.at % SLOT + SLOT + rng.randint(60, 500)
            world.act(undo, s.pharmacy, "undoDecommission", [s.pid], ZERO)
            world.flow("quick_undo", [hx(s.pid)], minutes=round((undo - s.at) / 60))
            world.used.add(s.pid)  # an undone pack shipped on would be an incident
            again = Stock(s.pid, s.pharmacy, s.supplier, undo + SLOT)
            again.at = world.after(s.pharmacy, undo, rng.randint(0, 2))
            extra.append(again)
        elif s.fate == "transfer":
            to = rng.choice([p for p in world.ps if p != s.pharmacy and p != world.go_live])
            sh, _r, recv = world.move(s.at, s.pharmacy, to, [s.pid], [])
            world.flow("patient_transfer", [f"tag:{sh}", hx(s.pid)], frm=s.pharmacy, to=to)
            moved = Stock(s.pid, to, s.pharmacy, recv)
            moved.at = world.after(to, recv, rng.randint(0, 1))
            extra.append(moved)
        elif s.fate == "saleable_return":
            world.scan(s.pid, s.pharmacy, s.at)
            sh, _r, recv = world.move(s.at, s.pharmacy, s.supplier, [s.pid], [])
            world.add_scan(s.pid, s.supplier, recv + SLOT + rng.randint(0, 1800))
            to = rng.choice([p for p in world.ps if p != s.pharmacy and p != world.go_live])
            t2 = world.after(s.supplier, recv + 2 * SLOT, 0, part=1)
            if t2 - recv > 30 * 3600:
                t2 = world.after(s.supplier, recv + 2 * SLOT, 0, part=0)
            sh2, _r2, recv2 = world.move(t2, s.supplier, to, [s.pid], [])
            world.flow("saleable_return", [f"tag:{sh}", f"tag:{sh2}", hx(s.pid)], resold_to=to)
            resold = Stock(s.pid, to, s.supplier, recv2)
            resold.at = world.after(to, recv2, 0)
            extra.append(resold)
    world.stock.extend(
        s for s in extra if s.at < world.lot_of_pack[s.pid].expires_at - DAY and s.at <= world.end
    )


def dispensing(world: World, spikes: dict[tuple[str, int], float] | None = None) -> None:
    """Each pharmacy's dispenses in batches of 1-3 packs, each pack scanned just before; about
    one pack in thirty scanned again at the counter 20-120 s after the dispense. A spike day
    ``(pharmacy, day) → factor`` pulls later dispenses of stock in hand forward to that day,
    one pack a transaction, until the day has ``factor`` times its expected dispenses."""
    rng = world.rng
    per: dict[str, list[Stock]] = defaultdict(list)
    for s in world.stock:
        if s.fate == "dispense" and s.at <= world.end:
            per[s.pharmacy].append(s)
    for p, items in per.items():
        items.sort(key=lambda s: s.at)
        groups: list[list[Stock]] = []
        k = 0
        while k < len(items):
            n = rng.randint(1, 3)
            group = [items[k]]
            for s in items[k + 1 : k + n]:
                # the batch is dispensed at its last pack's time: not past an earlier one's expiry
                if s.at >= min(world.lot_of_pack[x.pid].expires_at for x in group):
                    break
                group.append(s)
            groups.append(group)
            k += len(group)
        for (sp, d), factor in (spikes or {}).items():
            if sp == p:
                groups = _spike(world, p, d, factor, groups)
        for group in groups:
            ts = max(s.at for s in group)
            ids = [s.pid for s in group]
            world.dispense(ts, p, ids)
            for s in group:
                if rng.random() < 1 / 30:
                    world.add_scan(s.pid, p, ts - ts % SLOT + rng.randint(20, 120))
                    world.flow("second_scan", [hx(s.pid)])


def day_counts(world: World, who: str) -> dict[int, int]:
    """The count of ``who``'s planned dispenses (decommission transactions) on each of its
    open days."""
    site = world.site[who]
    count: dict[int, int] = defaultdict(int)
    for a in world.plan.actions:
        if a.sender == who and a.fn == "decommission":
            count[site.day_of(a.ts)] += 1
    return {d: count.get(d, 0) for d in world.open_days(who)}


def expected_day(counts: dict[int, int], world: World, who: str, d: int) -> float:
    """``who``'s expected count of dispenses on day ``d``: the median daily demand of its
    other open days within two weeks (from its first dispense on; a day's demand is its
    count shared over it and the closed days just before it), times the days of demand
    ``d`` serves."""
    site = world.site[who]

    def served(day: int) -> int:
        n = 1
        while day - n >= 0 and not site.is_open(day - n):
            n += 1
        return n

    first = min((e for e, c in counts.items() if c), default=d)
    rates = sorted(
        c / served(e) for e, c in counts.items() if e != d and e >= first and abs(e - d) <= 14
    )
    return rates[len(rates) // 2] * served(d) if rates else 0.0


def _spike(
    world: World, p: str, d: int, factor: float, groups: list[list[Stock]]
) -> list[list[Stock]]:
    site = world.site[p]
    usual = world.spike_usual[(p, d)]
    on_day = [g for g in groups if site.day_of(max(s.at for s in g)) == d]
    others = sum(
        1
        for a in world.plan.actions
        if a.sender == p and a.fn == "decommission" and site.day_of(a.ts) == d
    )
    need = round(factor * usual) - others - len(on_day)
    out: list[list[Stock]] = []
    for g in groups:
        day = site.day_of(max(s.at for s in g))
        if need > 0 and d < day <= d + 10:
            for s in g:
                t = world.at(p, d, 0, s.ready)
                if need > 0 and t is not None:
                    s.at = t
                    need -= 1
                    out.append([s])
                else:
                    out.append([s])
        else:
            out.append(g)
    return out
