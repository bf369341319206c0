"""Shipment lanes and their own transit times: late deliveries (``TRANSIT_OUTLIER``) and
shipments never received (``SHIPMENT_NOT_RECEIVED``), each against its lane's history.

A lane is a (sender, recipient) pair. Its transit times are a mixture: most deliveries
arrive on the usual day, some a day later (the morning truck missed), a few after a weekend
or holiday. So a delivery is measured in the recipient's working hours (in its own time
zone, without the days off its activity shows: gaps of at most ``max_days_off`` days with
nothing recorded, weekends and holidays), and
it is late when it took more than the lane's usual time (its median) plus
``transit_delay_hours`` (or ``transit_delay_share`` of the usual time, on long lanes): one
missed truck stays below that, a day and a half more does not.

A shipment is not received when it has travelled (the recipient's working hours) longer
than ``not_received_lane_factor`` times the time within which its lane's deliveries usually
arrive (``not_received_quantile`` of them), and at least ``not_received_min_hours``: a lost
next-day delivery shows within days, a 17-day ocean lane is not called lost at 14. A lane
with fewer than ``not_received_min_samples`` deliveries uses ``not_received_days``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, tzinfo

from ledger_client.audit.describe import Describer, plural
from ledger_client.audit.findings import DAY, HOUR, AnomalyConfig, Finding
from ledger_client.audit.model import RegistryModel
from ledger_client.events import ItemsReceived, ItemsShipped, RegistryEvent, actor
from ledger_client.types import PackStatus

Lane = tuple[str, str]


def shipments(model: RegistryModel) -> list[tuple[int, ItemsShipped, int | None]]:
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


class WorkingDays:
    """The days each member did not work, in its own time zone: the days its master data
    closes (weekdays without hours, holidays), and the days of each gap of at most
    ``max_gap`` days in its activity (recorded registry events): weekends, holidays. A
    longer gap is idleness, or the end of what is known, and counts as working time."""

    def __init__(self, model: RegistryModel, say: Describer, max_gap: int = 4) -> None:
        self._say = say
        active: dict[str, set[date]] = defaultdict(set)
        for e in model.events:
            if isinstance(e, RegistryEvent) and (member := actor(e)) is not None:
                active[member].add(say.day(e.timestamp, member))
        self._first = {member: min(days) for member, days in active.items()}
        self._off: dict[str, set[date]] = {}
        for member, days in active.items():
            ordered = sorted(days)
            off: set[date] = set()
            for a, b in zip(ordered, ordered[1:], strict=False):
                if 1 < (b - a).days <= max_gap + 1:
                    off.update(a + timedelta(days=k) for k in range(1, (b - a).days))
            hours = say.catalogue.opening_hours(member)
            if hours is not None:
                span = (ordered[-1] - ordered[0]).days + 60  # and two months on
                every = (ordered[0] + timedelta(days=k) for k in range(span))
                off.update(d for d in every if not hours.intervals(d))
            self._off[member] = off

    def first_days(self) -> dict[str, date]:
        """Each member's first working day (its go-live on the ledger)."""
        return self._first

    def hours(self, start: int, end: int, member: str) -> float:
        """Hours from ``start`` to ``end`` that fall on days ``member`` worked."""
        zone: tzinfo = self._say.zone(member) or UTC
        off = self._off.get(member, set())
        total = (end - start) / HOUR
        day = datetime.fromtimestamp(start, zone).date()
        last = datetime.fromtimestamp(end, zone).date()
        while day <= last:
            if day in off:
                lo = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
                nxt = day + timedelta(days=1)
                hi = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp()
                total -= max(0.0, min(hi, end) - max(lo, start)) / HOUR
            day += timedelta(days=1)
        return total


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def transit_outliers(
    model: RegistryModel,
    cfg: AnomalyConfig,
    say: Describer | None = None,
    days: WorkingDays | None = None,
) -> list[Finding]:
    """Deliveries later than their lane's usual time by more than the allowed delay (members
    named and days counted by ``say``: default, the model's own records and UTC)."""
    if say is None:
        from ledger_client.audit.catalogue import Catalogue

        say = Catalogue().describer(model)
    days = days or WorkingDays(model, say, cfg.max_days_off)
    lanes: dict[Lane, list[tuple[float, int, int]]] = defaultdict(list)
    first_day = days.first_days()
    for s, e, r in shipments(model):
        if r is None:
            continue
        received = model.events[r].timestamp
        if say.day(received, e.to) == first_day.get(e.to):
            continue  # the opening stock of a member going live waited for it to open
        hours = days.hours(e.timestamp, received, e.to)
        lanes[(e.from_, e.to)].append((hours, s, r))
    out = []
    for (a, b), rows in lanes.items():
        if len(rows) < cfg.min_lane_samples:
            continue
        times = sorted(h for h, _, _ in rows)
        usual = statistics.median(times)
        floor = max(cfg.transit_delay_hours, cfg.transit_delay_share * usual)
        for hours, s, r in rows:
            if hours - usual <= floor:
                continue
            others = times.copy()
            others.remove(hours)  # the lane's other deliveries set its own spread
            allowed = max(floor, _quantile(others, cfg.transit_lane_quantile) - usual)
            if hours - usual <= allowed:
                continue
            sent, received = model.events[s].timestamp, model.events[r].timestamp
            out.append(
                Finding(
                    "TRANSIT_OUTLIER",
                    "MEDIUM",
                    "0x" + model.events[s].tx_hash.hex(),
                    f"shipment {say.name(a)} -> {say.name(b)} sent {say.when(sent, a)}, "
                    f"received {say.when(received, b)}: {hours:.1f} working hours, "
                    f"{hours - usual:.1f} h over the lane's usual {usual:.1f} h",
                    f"usual transit on this lane is {usual:.1f} working hours of "
                    f"{say.name(b)} over {len(rows)} deliveries; one missed truck adds a day",
                    threshold=f"more than {allowed:.1f} working hours over the lane's usual "
                    f"time (the largest of {cfg.transit_delay_hours:g} h, "
                    f"{cfg.transit_delay_share:.0%} of it, and the lane's own "
                    f"{cfg.transit_lane_quantile:.0%} delay; days the recipient did not work, "
                    "in its time zone, not counted)",
                    evidence=[say.event(s), say.event(r)],
                    inputs={
                        "lane": [a, b],
                        "samples": len(rows),
                        "median_hours": round(usual, 2),
                        "hours": round(hours, 2),
                        "delay_hours": round(hours - usual, 2),
                        "threshold_hours": round(allowed, 2),
                    },
                )
            )
    return out


def _open_shipments(model: RegistryModel) -> dict[int, list[str]]:
    """Ship event index -> the items of that shipment still in transit (top-level only)."""
    groups: dict[int, list[str]] = defaultdict(list)
    for pid, p in model.packs.items():
        if p.status == PackStatus.IN_TRANSIT and p.parent is None:
            groups[p.history[-1]].append("0x" + pid.hex())
    for u in model.units.values():
        if u.status == 2 and u.parent is None:
            groups[u.history[-1]].append("0x" + u.id.hex())
    return groups


def not_received(
    model: RegistryModel,
    now: int,
    cfg: AnomalyConfig,
    say: Describer,
    days: WorkingDays | None = None,
) -> list[Finding]:
    """Shipments in transit longer than their lane's deliveries allow, in the recipient's
    working hours."""
    days = days or WorkingDays(model, say, cfg.max_days_off)
    lanes: dict[Lane, list[float]] = defaultdict(list)
    for _, sent, r in shipments(model):
        if r is not None and model.events[r].timestamp <= now:
            hours = days.hours(sent.timestamp, model.events[r].timestamp, sent.to)
            lanes[(sent.from_, sent.to)].append(hours)
    out = []
    for i, items in sorted(_open_shipments(model).items()):
        e = model.events[i]
        if not isinstance(e, ItemsShipped) or e.timestamp > now:
            continue
        samples = lanes.get((e.from_, e.to), [])
        if len(samples) >= cfg.not_received_min_samples:
            slow = _quantile(samples, cfg.not_received_quantile)
            limit = max(cfg.not_received_min_hours, cfg.not_received_lane_factor * slow)
            hours = days.hours(e.timestamp, now, e.to)
            rule = (
                f"in transit longer than {limit:.0f} working hours of the recipient: "
                f"{cfg.not_received_lane_factor:g}x the time its lane's deliveries usually take "
                f"({slow:.0f} h, {cfg.not_received_quantile:.0%} of "
                f"{len(samples)} deliveries within it), at least "
                f"{cfg.not_received_min_hours:g} h"
            )
        else:
            limit = cfg.not_received_days * DAY / HOUR
            hours = (now - e.timestamp) / HOUR
            rule = (
                f"in transit longer than {cfg.not_received_days:g} days (fewer than "
                f"{cfg.not_received_min_samples} deliveries on the lane to learn from)"
            )
        if hours <= limit:
            continue
        out.append(
            Finding(
                "SHIPMENT_NOT_RECEIVED",
                "MEDIUM",
                "0x" + e.tx_hash.hex(),
                f"{plural(len(items), 'item')} shipped by {say.name(e.from_)} to "
                f"{say.name(e.to)} on {say.when(e.timestamp, e.from_)} are still in "
                f"transit {(now - e.timestamp) / DAY:.1f} days later ({say.when(now, e.to)})",
                "goods that arrive are received; a shipment left open was lost, diverted "
                "or never recorded",
                threshold=rule,
                evidence=[say.event(i)],
                inputs={
                    "items": items[:20],
                    "days_in_transit": round((now - e.timestamp) / DAY, 2),
                    "hours_counted": round(hours, 1),
                    "threshold_hours": round(limit, 1),
                    "lane_deliveries": len(samples),
                },
            )
        )
    return out
