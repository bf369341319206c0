"""Plan realistic multi-member traffic with injected anomalies and their ground truth.

The plan is pure data (:mod:`ledger_client.sim.plan`): timed registry calls for the demo
consortium, the off-chain scans, the master data and one truth record per injected anomaly;
:mod:`ledger_client.sim.run` sends it to a chain. Regular traffic is planned in
:mod:`ledger_client.sim.traffic`, the anomalies in :mod:`ledger_client.sim.inject`.

The world: the manufacturer and the repackager commission cases of packs every business day
(07:20-11:00 UTC), palletise them and ship pallets to the two wholesalers, who receive them the
next business day (sometimes the same day or the day after), break pallets down, keep cases
1-5 business days and ship them whole or as loose packs in many orders a day to the two
pharmacies. Pharmacies receive, open cases and dispense in small batches over the next days
(08:00-19:00); now and then they return packs to the wholesaler that supplied them, destroy a
damaged pack or undo a dispense and dispense again later. All members work Monday to Friday,
07:00-19:00 UTC. Every dependent step is at least one 10-minute slot after the step before it,
so the actions can be mined slot by slot.

Anomalies (``anomaly_rate`` × packs of them, split evenly over the kinds, fewer where a kind's
definition bounds how many can exist; see ``docs/audit.md``):
a dispense undone then the pack shipped on, scans after a dispense, scans at two pharmacies,
orders never received, pharmacies shipping to a wholesaler that did not supply them, lots of a
GTIN outside the commissioner's prefix and scans with a wrong lot, expired lots shipped, orders
delivered 7-14 business days late, shipments on lanes an owner's goods never take, a maker
commissioning six times its usual day, and single transactions at night.
"""

from __future__ import annotations

from ledger_client.sim.inject import (
    lot_anomalies,
    maker_lots,
    order_anomalies,
    order_truth,
    pack_anomalies,
    spikes,
    unusual_routes,
)
from ledger_client.sim.plan import KINDS, Plan
from ledger_client.sim.traffic import dispensing, distribution, fates, pharmacies, production
from ledger_client.sim.world import World


def plan(seed: int, packs: int, anomaly_rate: float, start: int) -> Plan:
    """Plan regular traffic and inject every kind of anomaly (see the module docstring);
    ``start`` must be a Monday 00:00 UTC."""
    world = World(seed, packs, anomaly_rate, start)
    production(world)
    world.maker_lot = maker_lots(world)
    distribution(world)
    lost, late = order_anomalies(world)
    pharmacies(world)
    fates(world)
    pack_anomalies(world)
    dispensing(world)
    order_truth(world, lost, late)
    lot_anomalies(world)
    unusual_routes(world)
    spikes(world)
    return finish(world)


def finish(world: World) -> Plan:
    """Drop what falls after the end (its dependants fall after it too); sort by time."""
    p = world.plan
    p.actions = sorted((a for a in p.actions if a.ts <= p.end), key=lambda a: a.ts)
    p.scans.sort(key=lambda r: r.time)
    p.requested = {k: world.per_kind for k in KINDS}
    for name, account in p.members.items():
        world.cat.members.setdefault(account, {})["name"] = name
    return p
