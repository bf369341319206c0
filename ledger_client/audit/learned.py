"""Anomaly detectors learned from the history itself (median and MAD, so a few outliers do
not move the baseline): transit-time outliers per lane, lanes rarely or never used for a
product owner, sudden daily volume changes per member, activity at hours a member is
normally inactive."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict

from ledger_client.audit.findings import DAY, AnomalyConfig, Finding, evidence, member_of
from ledger_client.audit.model import RegistryModel
from ledger_client.events import ItemsReceived, ItemsShipped, RegistryEvent

MAD_SCALE = 0.6745  # makes the MAD-based score comparable to a z-score for normal data


def _robust(values: list[float]) -> tuple[float, float]:
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    return med, mad


def _score(x: float, med: float, mad: float, floor: float) -> float:
    return MAD_SCALE * (x - med) / max(mad, floor)


def weekday_seconds(start: int, end: int) -> int:
    """Seconds from ``start`` to ``end`` not falling on a Saturday or Sunday (UTC)."""
    if end <= start:
        return 0

    def upto(t: int) -> int:  # weekday seconds from the epoch (a Thursday) to t
        weeks, rest = divmod(t, 7 * DAY)
        # day 0 of each epoch week is a Thursday: days 2 and 3 are Saturday and Sunday
        return weeks * 5 * DAY + min(rest, 2 * DAY) + max(0, rest - 4 * DAY)

    return upto(end) - upto(start)


def _shipments(model: RegistryModel) -> list[tuple[int, ItemsShipped, int | None]]:
    """(ship event's index, the event, matching receive event or None) for each shipment."""
    events = model.events
    receive_of: dict[int, int] = {}
    for p in model.packs.values():
        h = p.history
        for k, i in enumerate(h):
            if isinstance(events[i], ItemsShipped) and i not in receive_of:
                nxt = next((j for j in h[k + 1 :] if isinstance(events[j], ItemsReceived)), None)
                if nxt is not None:
                    receive_of[i] = nxt
    return [(i, e, receive_of.get(i)) for i, e in enumerate(events) if isinstance(e, ItemsShipped)]


def transit_outliers(model: RegistryModel, cfg: AnomalyConfig) -> list[Finding]:
    """Shipments whose transit time is far from the usual time on their lane.

    Transit is counted in weekday seconds (members do not receive at weekends), on a log
    scale; the score is ``0.6745 · (x − median) / max(MAD, transit_min_spread)``: a floor on
    the spread because a lane's times cluster around "next business day" with a second mode
    a day later, which a bare MAD would treat as outliers.
    """
    lanes: dict[tuple[str, str], list[tuple[float, int, int]]] = defaultdict(list)
    for s, e, r in _shipments(model):
        if r is None:
            continue
        secs = max(weekday_seconds(e.timestamp, model.events[r].timestamp), 1)
        lanes[(e.from_, e.to)].append((math.log(secs), s, r))
    out = []
    for (a, b), rows in lanes.items():
        if len(rows) < cfg.min_lane_samples:
            continue
        med, mad = _robust([x for x, _, _ in rows])
        for x, s, r in rows:
            score = _score(x, med, mad, cfg.transit_min_spread)
            if score > cfg.transit_score:
                out.append(
                    Finding(
                        "TRANSIT_OUTLIER",
                        "MEDIUM",
                        "0x" + model.events[s].tx_hash.hex(),
                        f"shipment {a} -> {b} took {math.exp(x) / 3600:.1f} weekday hours",
                        f"usual transit on this lane is {math.exp(med) / 3600:.1f} weekday h "
                        f"(robust score {score:.1f})",
                        [evidence(model, s), evidence(model, r)],
                        {
                            "lane": [a, b],
                            "samples": len(rows),
                            "median_hours": round(math.exp(med) / 3600, 2),
                            "mad_log_seconds": round(mad, 4),
                            "score": round(score, 2),
                        },
                    )
                )
    return out


def unusual_routes(model: RegistryModel, cfg: AnomalyConfig) -> list[Finding]:
    """Shipments on a lane rarely or never used for the goods of a product owner they carry.

    A lane (from, to) is unusual for an owner when it carried at most ``rare_lane_count`` of
    the shipments holding that owner's goods and under ``rare_lane_share`` of them (the owner
    having at least 50), and it is rare in the whole network too (at most
    ``rare_network_count`` shipments, under ``rare_lane_share``): a lane the network uses
    every week (returns to a wholesaler) is a known relationship even for a small owner.
    """
    per_owner: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    network: Counter[tuple[str, str]] = Counter()
    ship_owners: dict[int, set[str]] = defaultdict(set)
    lanes_of: dict[int, tuple[str, str]] = {}
    for p in model.packs.values():
        for i in p.history:
            e = model.events[i]
            if isinstance(e, ItemsShipped):
                ship_owners[i].add(p.lot.owner)
                lanes_of[i] = (e.from_, e.to)
    for i, owners in ship_owners.items():
        lane = lanes_of[i]
        network[lane] += 1
        for owner in owners:
            per_owner[owner][lane] += 1
    total_network = sum(network.values())
    out = []
    for i, owners in sorted(ship_owners.items()):
        lane = lanes_of[i]
        m = network[lane]
        if m > cfg.rare_network_count or m / total_network >= cfg.rare_lane_share:
            continue
        for owner in sorted(owners):
            lanes = per_owner[owner]
            total = sum(lanes.values())
            n = lanes[lane]
            if total >= 50 and n <= cfg.rare_lane_count and n / total < cfg.rare_lane_share:
                out.append(
                    Finding(
                        "UNUSUAL_ROUTE",
                        "MEDIUM",
                        "0x" + model.events[i].tx_hash.hex(),
                        f"shipment {lane[0]} -> {lane[1]} of {owner}'s product",
                        f"this lane carried {n} of {total} shipments of the owner's products "
                        f"and {m} of {total_network} in the network",
                        [evidence(model, i)],
                        {
                            "lane_count": n,
                            "owner_shipments": total,
                            "owner": owner,
                            "network_lane_count": m,
                            "network_shipments": total_network,
                        },
                    )
                )
                break
    return out


def _member_events(model: RegistryModel) -> dict[str, list[int]]:
    by: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(model.events):
        if isinstance(e, RegistryEvent):
            by[str(member_of(e))].append(i)
    return by


def volume_changes(model: RegistryModel, cfg: AnomalyConfig) -> list[Finding]:
    """Days on which a member's transaction count jumps far above its usual daily count."""
    out = []
    for member, idx in _member_events(model).items():
        days = Counter(model.events[i].timestamp // DAY for i in idx)
        if len(days) < cfg.min_days:
            continue
        first, last = min(days), max(days)
        series = [days.get(d, 0) for d in range(first, last + 1)]
        med, mad = _robust([float(v) for v in series])
        for d in range(first, last + 1):
            v = days.get(d, 0)
            score = _score(v, med, mad, 1.0)
            if score > cfg.volume_score and v > cfg.volume_ratio * max(med, 1):
                out.append(
                    Finding(
                        "VOLUME_SPIKE",
                        "MEDIUM",
                        f"{member}@{d}",
                        f"{member} sent {v} transactions on day {d} (UTC day number)",
                        f"its usual day is {med:g} transactions (robust score {score:.1f})",
                        [],
                        {
                            "member": member,
                            "day": d,
                            "count": v,
                            "median": med,
                            "mad": mad,
                            "days": len(series),
                        },
                    )
                )
    return out


def quiet_hour_activity(model: RegistryModel, cfg: AnomalyConfig) -> list[Finding]:
    """Transactions at an hour of day in which the member is almost never active (night, bursts)."""
    out = []
    for member, idx in _member_events(model).items():
        if len(idx) < cfg.min_member_events:
            continue
        hours = Counter((model.events[i].timestamp % DAY) // 3600 for i in idx)
        for i in idx:
            h = (model.events[i].timestamp % DAY) // 3600
            share = hours[h] / len(idx)
            if share < cfg.quiet_hour_share or hours[h] <= 2 and share < 0.01:
                out.append(
                    Finding(
                        "NIGHT_ACTIVITY",
                        "LOW",
                        "0x" + model.events[i].tx_hash.hex(),
                        f"{member} transacted at {h:02d}:00 UTC",
                        f"only {hours[h]} of its {len(idx)} transactions fall in that hour",
                        [evidence(model, i)],
                        {"hour": h, "hour_count": hours[h], "member_events": len(idx)},
                    )
                )
    return out
