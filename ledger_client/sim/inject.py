"""Injected incidents, each with its ground truth and level: obvious ones well past any
sensible line, subtle ones next to a legitimate flow that looks alike (a quick undo, a
saleable return, a missed truck, a campaign day, a member's own opening hours)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger_client.ids import pack_hash, record_id, with_check_digit
from ledger_client.sim.plan import DAY, SLOT
from ledger_client.sim.world import ZERO, Order, Stock, World, hx

H = 3600


def pick_stock(
    world: World, n: int, ok: Callable[[Stock], bool], margin: int = 4 * DAY
) -> list[Stock]:
    """Up to ``n`` pharmacy packs still to be dispensed ``margin`` before the end and a week
    before their lot expires (an incident made of them stays one incident), not used for an
    incident yet, that ``ok`` accepts; they are marked used and taken off the regular
    dispensing."""
    pool = [
        s
        for s in world.stock
        if s.fate == "dispense"
        and s.pid not in world.used
        and s.at < world.end - margin
        and s.at < world.lot_of_pack[s.pid].expires_at - 7 * DAY
        and ok(s)
        and s.pharmacy != world.go_live
    ]
    chosen = world.rng.sample(pool, min(n, len(pool)))
    for s in chosen:
        world.used.add(s.pid)
        s.fate = "special"
    return chosen


def _kept(days: float) -> Callable[[Stock], bool]:
    return lambda s: s.at - s.ready > days * DAY


def _made_before(world: World, age: int) -> Callable[[Stock], bool]:
    return lambda s: s.at - world.made_at[s.pid] > age


def _at(p: str, ok: Callable[[Stock], bool]) -> Callable[[Stock], bool]:
    return lambda s: s.pharmacy == p and ok(s)


def _in_hand_at(t: int) -> Callable[[Stock], bool]:
    return lambda s: s.ready < t - SLOT < s.at - DAY


def _other_pharmacy(world: World, p: str) -> str:
    return world.rng.choice([q for q in world.ps if q not in (p, world.go_live)])


def _keeps(world: World, o: Order, t: int) -> bool:
    """Whether every lot in ``o`` is still unexpired at ``t`` (a late order of short-dated
    stock would also be expired stock moving, a second incident)."""
    lots = [world.lot_of_case[c] for c in o.cases] + [world.lot_of_pack[p] for p in o.loose]
    return all(t < lot.expires_at for lot in lots)


def order_incidents(world: World) -> list[tuple[str, str, Order, dict[str, Any]]]:
    """Orders lost or late (before they are shipped); return (kind, level, order, evidence)."""
    rng, n, end = world.rng, world.cfg.incidents, world.end
    pool = [
        o
        for o in world.orders
        if o.frm in world.ws
        and o.to in world.ps
        and not o.flow
        and o.recv
        and _keeps(world, o, o.ship + 15 * DAY)
    ]
    rng.shuffle(pool)
    out: list[tuple[str, str, Order, dict[str, Any]]] = []

    def take(ok: Callable[[Order], bool], k: int) -> list[Order]:
        got = [o for o in pool if ok(o)][:k]
        for o in got:
            pool.remove(o)
        return got

    for o in take(lambda o: o.ship < end - 15 * DAY, n):
        o.recv = None
        out.append(("SHIPMENT_NOT_RECEIVED", "obvious", o, {"shipped": o.ship}))
    for o in take(lambda o: end - 8 * DAY < o.ship < end - 3 * DAY, n):
        o.recv = None
        out.append(("SHIPMENT_NOT_RECEIVED", "subtle", o, {"shipped": o.ship, "lane_days": 1}))
    for o in take(lambda o: o.ship < end - 16 * DAY, n):
        o.recv = world.after(o.to, o.ship, rng.randint(7, 12))
        out.append(("TRANSIT_OUTLIER", "obvious", o, {"days": round((o.recv - o.ship) / DAY, 1)}))
    subtle = 0
    for o in take(lambda o: o.ship < end - 5 * DAY, 4 * n):
        assert o.recv is not None
        late = world.after(o.to, o.recv + 36 * H - SLOT)
        site, due = world.site[o.to], world.site[o.to].day_of(o.recv)
        if subtle == n or site.day_of(late) != due + 2 or not site.is_open(due + 1):
            # two of the pharmacy's business days late, more than a missed truck's one; not
            # when it is closed in between (the delay would then be one business day)
            continue
        o.recv, subtle = late, subtle + 1
        out.append(("TRANSIT_OUTLIER", "subtle", o, {"hours": round((o.recv - o.ship) / H, 1)}))
    return out


def order_truth(world: World, incidents: list[tuple[str, str, Order, dict[str, Any]]]) -> None:
    """The truth of the order incidents, once their shipments have tags."""
    for kind, level, o, ev in incidents:
        world.incident(kind, level, [f"tag:{o.tag}"], (), frm=o.frm, to=o.to, **ev)


def pack_incidents(world: World) -> None:
    """Reuse after undo, scans after a dispense / at two places / with a wrong lot / without
    custody, pharmacies shipping on, suspect packs shipped on, night dispenses."""
    rng, n = world.rng, world.cfg.incidents
    for level in ("obvious", "subtle"):
        for s in pick_stock(world, n, _kept(3)):
            world.dispense(s.at, s.pharmacy, [s.pid])
            if level == "obvious":
                undo = world.after(s.pharmacy, s.at + rng.randint(2, 8) * H)
                to = rng.choice(
                    [_other_pharmacy(world, s.pharmacy), *[w for w in world.ws if w != s.supplier]]
                )
            else:
                undo = s.at - s.at % SLOT + SLOT + rng.randint(60, 500)
                to = s.supplier
            world.act(undo, s.pharmacy, "undoDecommission", [s.pid], ZERO)
            sh, _r, _t = world.move(
                world.after(s.pharmacy, undo, rng.randint(1, 3)), s.pharmacy, to, [s.pid], []
            )
            world.incident(
                "DECOMMISSIONED_REUSED",
                level,
                [hx(s.pid), f"tag:{sh}"],
                ("ROLE_ORDER", "UNUSUAL_ROUTE"),
                to=to,
            )
    for s in pick_stock(
        world, n, lambda s: True, margin=21 * DAY if world.cfg.days > 30 else 8 * DAY
    ):
        world.dispense(s.at, s.pharmacy, [s.pid])
        t = s.at + rng.randint(3 * DAY, 7 * DAY)
        where = _other_pharmacy(world, s.pharmacy)
        world.add_scan(s.pid, where, t)
        world.incident(
            "DECOMMISSIONED_VERIFIED",
            "obvious",
            [hx(s.pid)],
            ("SCAN_WITHOUT_CUSTODY",),
            at=where,
            time=t,
        )
    for s in pick_stock(world, n, lambda s: True):
        world.dispense(s.at, s.pharmacy, [s.pid])
        t = s.at + rng.randint(30 * 60, 6 * H)
        world.add_scan(s.pid, s.pharmacy, t)
        world.incident("DECOMMISSIONED_VERIFIED", "subtle", [hx(s.pid)], (), at=s.pharmacy, time=t)
    for level, lo, hi in (("obvious", H, 30 * H), ("subtle", 60 * H, 144 * H)):
        old_enough = _made_before(world, hi + DAY)
        for s in pick_stock(world, n, old_enough):
            world.dispense(s.at, s.pharmacy, [s.pid])
            other = _other_pharmacy(world, s.pharmacy)
            t = s.at - s.at % SLOT - rng.randint(lo, hi)
            world.add_scan(s.pid, other, t)
            world.incident(
                "VERIFIED_TWO_PLACES",
                level,
                [hx(s.pid)],
                ("SCAN_WITHOUT_CUSTODY",),
                places=[other, s.pharmacy],
                hours=round((s.at - t) / H, 1),
            )
    for s in pick_stock(world, n, lambda s: s.ready - world.made_at[s.pid] > 3 * DAY):
        t = rng.randint(world.made_at[s.pid] + H, s.ready - 2 * DAY)
        other = _other_pharmacy(world, s.pharmacy)
        world.add_scan(s.pid, other, t)
        world.dispense(s.at, s.pharmacy, [s.pid])
        world.incident(
            "SCAN_WITHOUT_CUSTODY",
            "obvious",
            [hx(s.pid)],
            ("VERIFIED_TWO_PLACES",),
            at=other,
            time=t,
        )
    for s in pick_stock(world, n, _kept(3.5)):
        t = rng.randint(s.ready + H, s.at - int(2.5 * DAY))
        w = rng.choice([w for w in world.ws if w != s.supplier])
        world.add_scan(s.pid, w, t)
        world.dispense(s.at, s.pharmacy, [s.pid])
        world.incident(
            "SCAN_WITHOUT_CUSTODY", "subtle", [hx(s.pid)], ("VERIFIED_TWO_PLACES",), at=w, time=t
        )
    for s in pick_stock(world, n, _kept(1)):
        lot = world.lot_of_pack[s.pid]
        wrong = [x.name for x in world.lots.values() if x.gtin == lot.gtin and x.id != lot.id]
        t = s.at - s.at % SLOT - rng.randint(300, 900)
        if wrong and rng.random() < 0.5:
            world.add_scan(s.pid, s.pharmacy, t, lot=rng.choice(wrong), expiry=lot.expiry)
        else:
            world.add_scan(
                s.pid, s.pharmacy, t, lot=lot.name, expiry=lot.expiry - lot.expiry % 100 + 15
            )
        world.dispense(s.at, s.pharmacy, [s.pid])
        world.incident("PRODUCT_MISMATCH", "subtle", [hx(s.pid)], (), printed="wrong lot or expiry")
    _shipped_on(world)
    _suspect_shipped(world)
    _night(world)


def _shipped_on(world: World) -> None:
    """Pharmacies shipping packs on: to a wholesaler that did not supply them (obvious), or
    6-12 packs to another pharmacy, more than any patient's need (subtle)."""
    rng, n = world.rng, world.cfg.incidents
    for s in pick_stock(world, n, _kept(2)):
        to = rng.choice([w for w in world.ws if w != s.supplier])
        packs = [s.pid]
        sh, _r, _t = world.move(world.after(s.pharmacy, s.ready, 1), s.pharmacy, to, packs, [])
        world.incident("ROLE_ORDER", "obvious", [f"tag:{sh}"], ("UNUSUAL_ROUTE",), to=to)
    pharmacies = [p for p in world.ps if p != world.go_live]
    rng.shuffle(pharmacies)
    for p in (pharmacies * n)[:n]:
        first = pick_stock(world, 1, _at(p, lambda s: s.at - s.ready > 2 * DAY))
        if not first:
            continue
        t = world.after(p, first[0].ready, 1)
        more = pick_stock(
            world,
            rng.randint(5, 11),
            _at(p, _in_hand_at(t)),
        )
        packs = [s.pid for s in first + more]
        to = _other_pharmacy(world, p)
        sh, _r, _t = world.move(t, p, to, packs, [])
        world.incident(
            "ROLE_ORDER", "subtle", [f"tag:{sh}"], ("UNUSUAL_ROUTE",), to=to, packs=len(packs)
        )


def _suspect_shipped(world: World) -> None:
    """A pharmacy flags a pack suspect, then ships it to its wholesaler, not to the reverse
    distributor or the maker (subtle)."""
    rng = world.rng
    for s in pick_stock(world, world.cfg.incidents, _kept(2)):
        t = world.after(s.pharmacy, s.ready)
        world.act(t, s.pharmacy, "flagPacks", [s.pid], 1, 0, ZERO)
        sh, _r, _t = world.move(
            world.after(s.pharmacy, t, rng.randint(0, 1)), s.pharmacy, s.supplier, [s.pid], []
        )
        world.incident(
            "RECALLED_SHIPPED",
            "subtle",
            [f"tag:{sh}"],
            ("ROLE_ORDER", "UNUSUAL_ROUTE"),
            flag="SUSPECT",
            to=s.supplier,
        )


def _night(world: World) -> None:
    """Single dispenses at 02:00-04:00 local (obvious) or an hour or two after the pharmacy
    closes, by its own clock (subtle)."""
    rng, n = world.rng, world.cfg.incidents
    pharmacies = [p for p in world.ps if p not in (world.all_day, world.go_live)]
    for level in ("obvious", "subtle"):
        for k in range(n):
            p = pharmacies[k % len(pharmacies)]
            site = world.site[p]

            def fits(s: Stock, p: str = p) -> bool:
                return s.pharmacy == p and s.at - s.ready > 1.5 * DAY

            got = pick_stock(world, 1, fits)
            if not got:
                continue
            s = got[0]
            d = site.day_of(s.ready) + 1
            while not site.is_open(d):
                d += 1
            if level == "obvious":
                ts = site.local(d, rng.uniform(2, 4))
            else:
                close = site.intervals(d)[-1][1]
                ts = site.local(d, min(close + rng.uniform(1, 2), 23.9))
            if ts <= s.ready + SLOT or ts >= s.at:
                s.fate = "dispense"
                world.used.discard(s.pid)
                continue
            tag = world.dispense(ts, p, [s.pid])
            world.incident(
                "NIGHT_ACTIVITY",
                level,
                [f"tag:{tag}"],
                (),
                member=p,
                local_hour=round((ts - site.local(d, 0)) / H, 2),
            )


def lot_incidents(world: World) -> None:
    """Lots under another company's prefix (obvious mismatches); expired lots shipped to a
    pharmacy, a whole case days after expiry (obvious) or one pack the day after among a
    case otherwise sent to the reverse distributor (subtle)."""
    rng, n, cfg = world.rng, world.cfg.incidents, world.cfg
    maker = world.makers[0]
    w = rng.choice(world.carriers[maker])
    for k in range(n):
        other = world.makers[1 + k % (len(world.makers) - 1)] if len(world.makers) > 1 else None
        prefix = world.prefix[other] if other and k % 2 == 0 else "0690999"
        g = with_check_digit(f"0{prefix}{90 + k:05d}")
        d = rng.choice(world.open_days(maker)[: max(1, cfg.days - 5)])
        t = world.at(maker, d) or world.day(d)
        lot = world.new_lot(maker, g, f"F{k:04d}", world.far, t)
        case = world.commission_case(maker, lot, t + SLOT)
        world.move(world.after(maker, t + 2 * SLOT), maker, w, [], [case])
        world.incident("PRODUCT_MISMATCH", "obvious", [hx(lot.id)], (), gtin=g, registrant=maker)
    for level in ("obvious", "subtle"):
        for k in range(n):
            d_exp = rng.randint(12, max(13, cfg.days - 8))
            g = world.products[maker][2]
            t = world.at(maker, d_exp - 10) or world.after(maker, world.day(d_exp - 10))
            lot = world.new_lot(
                maker, g, f"E{level[0].upper()}{k:03d}", world.expiry_of(world.day(d_exp)), t
            )
            case = world.commission_case(maker, lot, t + SLOT)
            _s, _r, recv = world.move(world.after(maker, t + 2 * SLOT), maker, w, [], [case])
            p = _other_pharmacy(world, "")
            if level == "obvious":
                ts = world.after(w, lot.expires_at, rng.randint(3, 6), part=1)
                sh, rc, _t = world.move(ts, w, p, [], [case])
            else:
                world.act(world.after(w, recv), w, "unpack", [case], ZERO)
                one, rest = world.contents[case][:1], world.contents[case][1:]
                ts = world.after(w, lot.expires_at, 0, part=1)
                sh, rc, _t = world.move(ts, w, p, one, [])
                s2, r2, _t2 = world.move(world.after(w, ts, 1), w, world.rd, rest, [])
                world.flow("reverse_expired", [f"tag:{s2}", f"tag:{r2}"], frm=w)
            world.incident(
                "EXPIRED_MOVING",
                level,
                [f"tag:{sh}", f"tag:{rc}"],
                ("RECALLED_SHIPPED",),
                lot=hx(lot.id),
                expiry=lot.expiry,
            )


def recall(world: World) -> None:
    """A lot recalled by its maker 60 % of the way in: wholesalers and pharmacies send what
    they hold to the reverse distributor (one pharmacy to the maker), which destroys it;
    some wholesalers ship recalled cases to pharmacies instead (obvious incidents)."""
    rng, n, cfg = world.rng, world.cfg.incidents, world.cfg
    maker = world.makers[0]
    r_day = int(cfg.days * 0.6)
    d0 = max([d for d in world.open_days(maker) if d <= r_day - 9] or [0])
    t = world.at(maker, d0) or world.after(maker, world.day(d0))
    lot = world.new_lot(maker, world.products[maker][2], "RC0001", world.far, t)
    cases = [world.commission_case(maker, lot, t + SLOT) for _ in range(n + 5)]
    packed = world.after(maker, t + SLOT)
    pallet = world.pack(packed, maker, cases)
    w = world.carriers[maker][0]
    _s, _r, recv = world.move(world.after(maker, packed), maker, w, [], [pallet])
    world.act(world.after(w, recv), w, "unpack", [pallet], ZERO)
    mine = [p for p in world.ps if world.primary[p] == w and p != world.go_live] or world.ps[:2]
    held: list[tuple[str, list[bytes]]] = []
    for k, case in enumerate(cases[:2]):
        p = mine[k % len(mine)]
        ts = world.after(w, recv, 1, part=1)
        _sh, _rc, got = world.move(ts, w, p, [], [case])
        opened = world.after(p, got)
        world.act(opened, p, "unpack", [case], ZERO)
        ids = world.contents[case]
        half = len(ids) // 2
        world.dispense(world.after(p, opened), p, ids[:half])
        held.append((p, ids[half:]))
    t_recall = world.at(maker, r_day) or world.after(maker, world.day(r_day))
    world.act(t_recall, maker, "setLotStatus", lot.id, 3, ZERO)
    world.flow("recall", [hx(lot.id)], recalled_at=t_recall)
    for case in cases[2 : 2 + n]:
        p = _other_pharmacy(world, "")
        sh, _rc, _t = world.move(
            world.after(w, t_recall, rng.randint(1, 4), part=1), w, p, [], [case]
        )
        world.incident(
            "RECALLED_SHIPPED",
            "obvious",
            [f"tag:{sh}"],
            ("ROLE_ORDER", "UNUSUAL_ROUTE"),
            lot=hx(lot.id),
            to=p,
        )
    rest = cases[2 + n :]
    s, r, got = world.move(world.after(w, t_recall, 1), w, world.rd, [], rest)
    world.flow("reverse_recalled", [f"tag:{s}", f"tag:{r}"], frm=w)
    world.destroy(
        world.after(world.rd, got, 1), world.rd, [p for c in rest for p in world.contents[c]]
    )
    for k, (p, ids) in enumerate(held):
        back = maker if k == 1 else world.rd
        s, r, got = world.move(world.after(p, t_recall, 1), p, back, ids, [])
        world.flow("reverse_recalled", [f"tag:{s}", f"tag:{r}", *map(hx, ids)], frm=p, to=back)
        world.destroy(world.after(back, got, 1), back, ids)


def unusual_routes(world: World) -> None:
    """Cases on lanes nobody uses (a maker or the 3PL straight to a pharmacy: obvious), and
    a product carried only by some wholesalers diverted through another on lanes busy with
    other products (subtle)."""
    rng, n, cfg = world.rng, world.cfg.incidents, world.cfg
    makers = [m for m in world.makers if m != world.overseas] or world.makers
    for k in range(n):
        maker = makers[k % len(makers)]
        d = rng.choice(world.open_days(maker)[: max(1, cfg.days - 6)])
        t = world.at(maker, d) or world.after(maker, world.day(d))
        lot = next(x for x in world.lots.values() if x.owner == maker and x.expiry == world.far)
        case = world.commission_case(maker, lot, t)
        p = _other_pharmacy(world, "")
        if k % 2:  # through the 3PL, which never delivers to pharmacies
            s1, _r, recv = world.move(world.after(maker, t + SLOT), maker, world.tpl, [], [case])
            sh, _rc, _t = world.move(world.after(world.tpl, recv, 1), world.tpl, p, [], [case])
            legs = [f"tag:{s1}", f"tag:{sh}"]
        else:
            sh, _rc, _t = world.move(world.after(maker, t + SLOT), maker, p, [], [case])
            legs = [f"tag:{sh}"]
        world.incident("UNUSUAL_ROUTE", "obvious", legs, (), lane=[maker, p])
    outsiders = [x for x in world.ws if x not in world.carriers[world.exclusive]]
    pool = [(w, c, r) for (w, c, r) in world.reserved if r < world.end - 6 * DAY]
    for w, case, ready in pool[:n]:
        if not outsiders:
            break
        x = rng.choice(outsiders)
        s1, _r1, recv = world.move(world.after(w, ready, 1), w, x, [], [case])
        p = rng.choice(
            [q for q in world.ps if world.primary[q] == x and q != world.go_live] or world.ps
        )
        s2, _r2, _t = world.move(world.after(x, recv, 1, part=1), x, p, [], [case])
        world.incident(
            "UNUSUAL_ROUTE", "subtle", [f"tag:{s1}", f"tag:{s2}"], (), owner=world.exclusive, via=x
        )


def reserve_cases(world: World) -> None:
    """Set aside cases of the product with exclusive distributors for the subtle routes."""
    own = [
        (w, c, r)
        for (w, c, r) in world.at_wholesaler
        if world.lot_of_case[c].owner == world.exclusive
        and world.lot_of_case[c].expiry == world.far
    ]
    own = [x for x in own if x[2] < world.end - 8 * DAY]
    world.rng.shuffle(own)
    world.reserved = sorted(own[: world.cfg.incidents], key=lambda x: x[2])
    for _w, c, _r in world.reserved:
        world.used.add(c)


def uncommissioned_scans(world: World) -> None:
    """Scans of serials never commissioned: random ones (obvious), and the next serials after
    a product's last, printed with a real lot and expiry (subtle)."""
    rng, n = world.rng, world.cfg.incidents
    gtins = sorted(g for gs in world.products.values() for g in gs if g in world.last_serial)
    for level in ("obvious", "subtle"):
        for k in range(n):
            g = gtins[(k * 7 + (level == "subtle")) % len(gtins)]
            owner = next(m for m, gs in world.products.items() if g in gs)
            where = _other_pharmacy(world, "")
            d = rng.randint(2, world.cfg.days - 2)
            t = world.at(where, d) or world.after(where, world.day(d))
            if level == "obvious":
                serial = f"X{rng.randint(10**7, 10**8 - 1)}"
                world.scan_code(g, serial, where, t)
            else:
                world.last_serial[g] += 1
                serial = f"S{world.last_serial[g]:09d}"
                lot = next(x for x in world.lots.values() if x.gtin == g)
                world.scan_code(g, serial, where, t, lot=lot.name, expiry=lot.expiry)
            pid = record_id(world.index[owner], pack_hash(g, serial))
            world.incident(
                "UNCOMMISSIONED_SCAN", level, [hx(pid), f"scan:{g}:{serial}"], (), at=where, time=t
            )
