"""Plan a messy multi-member world with injected incidents and their ground truth.

The plan is pure data (:mod:`ledger_client.sim.plan`): timed registry calls, the off-chain
scans, the master data (names, time zones, opening hours, holidays), one truth record per
injected incident and one record per legitimate flow that looks like one;
:mod:`ledger_client.sim.run` sends it to a chain. Regular traffic and its legitimate
irregularities are planned in :mod:`ledger_client.sim.traffic`, the incidents in
:mod:`ledger_client.sim.inject`. Volume spikes are sized on the pharmacy's expected demand
that day, so the world is planned twice with the same seed: once without spikes to measure
it, once with them.
"""

from __future__ import annotations

from ledger_client.sim import inject, traffic
from ledger_client.sim.check import check
from ledger_client.sim.config import WorldConfig
from ledger_client.sim.plan import Plan
from ledger_client.sim.world import World


def _build(
    cfg: WorldConfig,
    seed: int,
    start: int,
    spikes: dict[tuple[str, int], float],
    usual: dict[tuple[str, int], float],
) -> World:
    world = World(cfg, seed, start)
    world.spike_usual = usual
    traffic.production(world)
    inject.reserve_cases(world)
    traffic.distribution(world)
    orders = inject.order_incidents(world)
    traffic.pharmacies(world)
    traffic.reverse_wholesale(world)
    traffic.fates(world)
    traffic.special_fates(world)
    inject.pack_incidents(world)
    traffic.dispensing(world, spikes)
    inject.order_truth(world, orders)
    inject.lot_incidents(world)
    inject.recall(world)
    inject.unusual_routes(world)
    inject.uncommissioned_scans(world)
    return world


#: Days with dispenses a pharmacy has before a volume spike is planned for it.
SPIKE_HISTORY_DAYS = 7

#: The fewest dispenses over the expected day a volume spike is scored with: a spike needs a
#: ratio and an absolute size (the detectors' ``volume_min_excess``), and a few packs over a
#: small pharmacy's usual day are its ordinary swing (see docs/audit.md).
SPIKE_MIN_EXCESS = 10


def _spike_days(world: World) -> dict[tuple[str, int], float]:
    """Pharmacies and days for volume spikes: 7-9x the day's expected demand asked (obvious),
    2.5-3x (subtle); the level is that of the count reached (see :func:`plan`). A spike
    comes after the pharmacy has dispensed on :data:`SPIKE_HISTORY_DAYS` days (a usual day
    to stand out from), on a day no other pharmacy spikes."""
    rng, n = world.rng, world.cfg.incidents
    pharmacies = [p for p in world.ps if p not in (world.all_day, world.go_live)]
    out: dict[tuple[str, int], float] = {}
    for k in range(2 * n):
        p = pharmacies[k % len(pharmacies)]
        dispensed = sorted(d for d, c in traffic.day_counts(world, p).items() if c)
        settled = (
            dispensed[SPIKE_HISTORY_DAYS - 1] if len(dispensed) >= SPIKE_HISTORY_DAYS else None
        )
        days = [
            d
            for d in world.open_days(p)
            if settled is not None
            and max(world.cfg.days // 4, settled) < d < world.cfg.days - 6
            and d != world.go_live_day
            and all(abs(e - d) > (3 if q == p else 0) for q, e in out)
        ]
        if days:
            out[(p, rng.choice(days))] = rng.uniform(7, 9) if k < n else rng.uniform(2.5, 3)
    return out


def plan(cfg: WorldConfig, seed: int, start: int) -> Plan:
    """Plan the world of ``cfg`` and ``seed`` from ``start`` (a Monday 00:00 UTC)."""
    first = _build(cfg, seed, start, {}, {})
    spikes = _spike_days(first)
    counts = {p: traffic.day_counts(first, p) for p, _d in spikes}
    usual = {(p, d): traffic.expected_day(counts[p], first, p, d) for p, d in spikes}
    world = _build(cfg, seed, start, spikes, usual)
    for (p, d), factor in spikes.items():
        site = world.site[p]
        count = sum(
            1
            for a in world.plan.actions
            if a.sender == p and a.fn == "decommission" and site.day_of(a.ts) == d
        )
        reached = count / max(usual[(p, d)], 1)
        if reached < 2.2:  # not enough stock in hand to make it a spike
            continue
        small = count - usual[(p, d)] < SPIKE_MIN_EXCESS
        why = f"fewer than {SPIKE_MIN_EXCESS} dispenses over the expected day" if small else ""
        world.incident(
            "VOLUME_SPIKE",
            "obvious" if reached >= 5 else "subtle",
            [world.member_day(p, site.local(d, 12))],
            (),
            unscored=why,
            member=p,
            usual=round(usual[(p, d)], 1),
            count=count,
            factor=round(reached, 2),
            asked=round(factor, 2),
        )
    return finish(world)


def finish(world: World) -> Plan:
    """Drop what falls after the end (its dependants fall after it too); sort by time; name
    the members and give their locations' master data."""
    p = world.plan
    p.actions = sorted((a for a in p.actions if a.ts <= p.end), key=lambda a: a.ts)
    p.scans = sorted((r for r in p.scans if r.time <= p.end), key=lambda r: r.time)
    for m in world.members:
        entry = world.cat.members.setdefault(m.address, {})
        entry.update({"name": m.name, "kind": m.kind, **m.site.master_data()})
    check(p, {h: i for i, h in world.hash_of.items()})
    return p
