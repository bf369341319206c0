"""Anomaly detectors learned from the history itself (median and MAD, so a few outliers do
not move the baseline): transit-time outliers per lane, lanes rarely or never used for a
product owner, sudden daily volume changes per member, activity at hours a member is
normally inactive.

A member's days and hours are those of its own time zone where the master data has one
(UTC otherwise); each finding states its threshold in the units it was crossed in (hours,
transactions a day, shipments), worked out from the baseline.

Each detector takes a :class:`~ledger_client.audit.describe.Describer` for names and times
(default: the model's own member records, times in UTC).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from datetime import date

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.describe import Describer
from ledger_client.audit.findings import DAY, AnomalyConfig, Finding
from ledger_client.audit.model import RegistryModel
from ledger_client.events import ItemsReceived, ItemsShipped, RegistryEvent, actor

MAD_SCALE = 0.6745  # makes the MAD-based score comparable to a z-score for normal data


def _robust(values: list[float]) -> tuple[float, float]:
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    return med, mad


def _score(x: float, med: float, mad: float, floor: float) -> float:
    return MAD_SCALE * (x - med) / max(mad, floor)


def _above(score: float, med: float, mad: float, floor: float) -> float:
    """The value whose robust score is ``score``: where the threshold lies in the data's units."""
    return med + score * max(mad, floor) / MAD_SCALE


def _words(model: RegistryModel, say: Describer | None) -> Describer:
    return say if say is not None else Catalogue().describer(model)


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


def transit_outliers(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[Finding]:
    """Shipments whose transit time is far from the usual time on their lane.

    Transit is counted in weekday seconds (members do not receive at weekends), on a log
    scale; the score is ``0.6745 · (x − median) / max(MAD, transit_min_spread)``: a floor on
    the spread because a lane's times cluster around "next business day" with a second mode
    a day later, which a bare MAD would treat as outliers.
    """
    say = _words(model, say)
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
        limit = math.exp(_above(cfg.transit_score, med, mad, cfg.transit_min_spread)) / 3600
        for x, s, r in rows:
            score = _score(x, med, mad, cfg.transit_min_spread)
            if score > cfg.transit_score:
                sent, received = model.events[s].timestamp, model.events[r].timestamp
                out.append(
                    Finding(
                        "TRANSIT_OUTLIER",
                        "MEDIUM",
                        "0x" + model.events[s].tx_hash.hex(),
                        f"shipment {say.name(a)} -> {say.name(b)} sent {say.when(sent, a)}, "
                        f"received {say.when(received, b)}: {math.exp(x) / 3600:.1f} weekday "
                        "hours",
                        f"usual transit on this lane is {math.exp(med) / 3600:.1f} weekday h "
                        f"over {len(rows)} shipments (robust score {score:.1f})",
                        threshold=f"slower than {limit:.1f} weekday hours on this lane (robust "
                        f"score above {cfg.transit_score:g}; weekends not counted)",
                        evidence=[say.event(s), say.event(r)],
                        inputs={
                            "lane": [a, b],
                            "samples": len(rows),
                            "median_hours": round(math.exp(med) / 3600, 2),
                            "mad_log_seconds": round(mad, 4),
                            "score": round(score, 2),
                            "threshold_hours": round(limit, 2),
                        },
                    )
                )
    return out


def unusual_routes(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[Finding]:
    """Shipments on a lane rarely or never used for the goods of a product owner they carry.

    A lane (from, to) is unusual for an owner when it carried at most ``rare_lane_count`` of
    the shipments holding that owner's goods and under ``rare_lane_share`` of them (the owner
    having at least 50), and it is rare in the whole network too (at most
    ``rare_network_count`` shipments, under ``rare_lane_share``): a lane the network uses
    every week (returns to a wholesaler) is a known relationship even for a small owner.
    """
    say = _words(model, say)
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
    share = f"{cfg.rare_lane_share:.0%}"
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
                when = say.when(model.events[i].timestamp, lane[0])
                out.append(
                    Finding(
                        "UNUSUAL_ROUTE",
                        "MEDIUM",
                        "0x" + model.events[i].tx_hash.hex(),
                        f"shipment {say.name(lane[0])} -> {say.name(lane[1])} on {when} of "
                        f"{say.name(owner)}'s product",
                        f"this lane carried {n} of {total} shipments of the owner's products "
                        f"and {m} of {total_network} in the network",
                        threshold=f"a lane carrying at most {cfg.rare_lane_count} and under "
                        f"{share} of an owner's shipments (of at least 50), and at most "
                        f"{cfg.rare_network_count} and under {share} of the network's",
                        evidence=[say.event(i)],
                        inputs={
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


def activity_profiles(model: RegistryModel) -> dict[str, list[int]]:
    """Each member's activity profile: the indices of the registry events it caused (the
    member each event's class names, :func:`~ledger_client.events.actor`), in chain order."""
    by: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(model.events):
        if isinstance(e, RegistryEvent) and (member := actor(e)) is not None:
            by[member].append(i)
    return dict(by)


_EPOCH = date(1970, 1, 1)


def volume_changes(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[Finding]:
    """Days (the member's own dates) on which a member's transaction count jumps far above its
    usual daily count. The subject is ``member@day``, the day counted from 1970-01-01."""
    say = _words(model, say)
    out = []
    for member, idx in activity_profiles(model).items():
        per_day: dict[int, list[int]] = defaultdict(list)
        for i in idx:
            per_day[(say.day(model.events[i].timestamp, member) - _EPOCH).days].append(i)
        if len(per_day) < cfg.min_days:
            continue
        first, last = min(per_day), max(per_day)
        series = [len(per_day.get(d, ())) for d in range(first, last + 1)]
        med, mad = _robust([float(v) for v in series])
        limit = max(_above(cfg.volume_score, med, mad, 1.0), cfg.volume_ratio * max(med, 1))
        name = say.name(member)
        for d in range(first, last + 1):
            events = per_day.get(d, [])
            v = len(events)
            score = _score(v, med, mad, 1.0)
            if score > cfg.volume_score and v > cfg.volume_ratio * max(med, 1):
                day = _EPOCH.toordinal() + d
                out.append(
                    Finding(
                        "VOLUME_SPIKE",
                        "MEDIUM",
                        f"{member}@{d}",
                        f"{name} sent {v} transactions on {date.fromordinal(day).isoformat()} "
                        f"({say.zone_name(member)})",
                        f"its usual day is {med:g} transactions (robust score {score:.1f})",
                        threshold=f"more than {math.floor(limit)} transactions a day (robust "
                        f"score above {cfg.volume_score:g} and over {cfg.volume_ratio:g}x its "
                        f"usual day, from {len(series)} days)",
                        evidence=[say.event(i) for i in events[:20]],
                        inputs={
                            "member": member,
                            "day": d,
                            "count": v,
                            "median": med,
                            "mad": mad,
                            "days": len(series),
                            "threshold_count": round(limit, 2),
                        },
                    )
                )
    return out


def quiet_hour_activity(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[Finding]:
    """Transactions at an hour of day (the member's own) in which the member is almost never
    active (night, bursts)."""
    say = _words(model, say)
    out = []
    share = f"{cfg.quiet_hour_share:.1%}"
    for member, idx in activity_profiles(model).items():
        if len(idx) < cfg.min_member_events:
            continue
        hour_of = {i: say.hour(model.events[i].timestamp, member) for i in idx}
        hours = Counter(hour_of.values())
        name, zone = say.name(member), say.zone_name(member)
        for i in idx:
            h = hour_of[i]
            part = hours[h] / len(idx)
            if part < cfg.quiet_hour_share or hours[h] <= 2 and part < 0.01:
                out.append(
                    Finding(
                        "NIGHT_ACTIVITY",
                        "LOW",
                        "0x" + model.events[i].tx_hash.hex(),
                        f"{name} transacted at {say.when(model.events[i].timestamp, member)}",
                        f"only {hours[h]} of its {len(idx)} transactions fall in the hour "
                        f"{h:02d}:00-{h:02d}:59 ({zone})",
                        threshold=f"an hour of its day holding under {share} of its "
                        f"transactions, or at most 2 and under 1 % (of at least "
                        f"{cfg.min_member_events})",
                        evidence=[say.event(i)],
                        inputs={
                            "hour": h,
                            "time_zone": zone,
                            "hour_count": hours[h],
                            "member_events": len(idx),
                        },
                    )
                )
    return out
