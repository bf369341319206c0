"""Shipment lanes and their own transit times: late deliveries (``TRANSIT_OUTLIER``) and
shipments never received (``SHIPMENT_NOT_RECEIVED``), each against its lane's history.

A lane is a (sender, recipient) pair. Its transit times are a mixture: most deliveries
arrive on the usual day, some a day later (the morning truck missed), a few after a weekend
or holiday. So a delivery is counted in the recipient's business days, in its own time zone
and calendar (the days it did not work left out: those its master data closes, weekdays
without hours and holidays, and gaps of at most ``max_days_off`` days with nothing
recorded): the days after the day it was sent, up to the day it was received. The lane's
usual delivery day is the ``lane_usual_quantile`` of its deliveries (the on-time day; a
long lane's own spread included), and a delivery is late when it came more than
``missed_truck_days`` business days after it (one missed truck is normal, two are not), or
than the lane's own spread (its usual day less the ``1 - lane_usual_quantile`` quantile)
on a lane whose deliveries spread wider, or than ``lane_relative_slack`` of its usual day
(a long lane varies with its length: weeks at sea vary by days, and a few deliveries do
not show it all).

A shipment is not received when the recipient's business day of the lane's usual day plus
the missed truck has ended without it (it could no longer arrive in time): a lost
next-day delivery shows within days, a 17-day ocean lane is not called lost at 14. A lane
with fewer than ``not_received_min_samples`` deliveries uses ``not_received_days``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, tzinfo

from ledger_client.audit.describe import Describer, plural
from ledger_client.audit.findings import DAY, AnomalyConfig, Finding
from ledger_client.audit.flows import shipped_packs
from ledger_client.audit.model import RegistryModel
from ledger_client.events import ItemsReceived, ItemsShipped, RegistryEvent, actor
from ledger_client.types import PackStatus

Lane = tuple[str, str]


def shipments(model: RegistryModel) -> list[tuple[int, ItemsShipped, int | None]]:
    """(ship event's index, the event, matching receive event or None) for each shipment."""
    events = model.events
    receive_of: dict[int, int] = {}
    for i, pids in shipped_packs(model).items():
        for pid in pids:  # the first of its packs received after it, as the model orders them
            h = model.packs[pid].history
            k = bisect_right(h, i)
            nxt = next((j for j in h[k:] if isinstance(events[j], ItemsReceived)), None)
            if nxt is not None:
                receive_of[i] = nxt
                break
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

    def business_days(self, start: int, end: int, member: str) -> int:
        """The days after ``start``'s day up to ``end``'s day (``member``'s dates) that
        ``member`` worked."""
        zone: tzinfo = self._say.zone(member) or UTC
        off = self._off.get(member, set())
        day = datetime.fromtimestamp(start, zone).date() + timedelta(days=1)
        last = datetime.fromtimestamp(end, zone).date()
        n = 0
        while day <= last:
            n += day not in off
            day += timedelta(days=1)
        return n

    def ended_days(self, start: int, now: int, member: str) -> int:
        """The business days of ``member`` after ``start``'s day that have ended by ``now``:
        :meth:`business_days`, less today if ``member`` is still to close (its master data's
        last closing time; midnight without master data)."""
        n = self.business_days(start, now, member)
        zone: tzinfo = self._say.zone(member) or UTC
        local = datetime.fromtimestamp(now, zone)
        today = local.date()
        if (
            today in self._off.get(member, set())
            or today <= datetime.fromtimestamp(start, zone).date()
        ):
            return n
        hours = self._say.catalogue.opening_hours(member)
        spans = hours.intervals(today) if hours is not None else ()
        closing = max((b for _, b in spans), default=24 * 60)
        return n - (local.hour * 60 + local.minute < closing)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _usual_day(samples: list[int], cfg: AnomalyConfig) -> int:
    """A lane's usual delivery day (business days) of its ``samples``."""
    return int(_quantile([float(x) for x in samples], cfg.lane_usual_quantile))


def _rule(usual: int, allowed: int, samples: int, recipient: str, cfg: AnomalyConfig) -> str:
    return (
        f"more than {allowed} business days of {recipient}: the lane's usual delivery day "
        f"({usual}, {cfg.lane_usual_quantile:.0%} of {samples} deliveries by then) and "
        f"{allowed - usual} more: {cfg.missed_truck_days} for a missed truck, or the lane's "
        f"own spread or {cfg.lane_relative_slack:.0%} of its usual day if more; days the "
        "recipient did not work, in its time zone, not counted"
    )


def transit_outliers(
    model: RegistryModel,
    cfg: AnomalyConfig,
    say: Describer | None = None,
    days: WorkingDays | None = None,
) -> list[Finding]:
    """Deliveries later than their lane's usual day by more than a missed truck (members
    named and days counted by ``say``: default, the model's own records and UTC)."""
    if say is None:
        from ledger_client.audit.catalogue import Catalogue

        say = Catalogue().describer(model)
    days = days or WorkingDays(model, say, cfg.max_days_off)
    lanes: dict[Lane, list[tuple[int, int, int]]] = defaultdict(list)
    first_day = days.first_days()
    for s, e, r in shipments(model):
        if r is None:
            continue
        received = model.events[r].timestamp
        if say.day(received, e.to) == first_day.get(e.to):
            continue  # the opening stock of a member going live waited for it to open
        n = days.business_days(e.timestamp, received, e.to)
        lanes[(e.from_, e.to)].append((n, s, r))
    out = []
    for (a, b), rows in lanes.items():
        if len(rows) < cfg.min_lane_samples:
            continue
        usual = _usual_day([n for n, _, _ in rows], cfg)
        # a lane whose deliveries spread wider than a day (weeks at sea) allows its spread
        spread = usual - int(_quantile([float(n) for n, _, _ in rows], 1 - cfg.lane_usual_quantile))
        slack = math.ceil(cfg.lane_relative_slack * usual)
        allowed = usual + max(cfg.missed_truck_days, spread, slack)
        for n, s, r in rows:
            if n <= allowed:
                continue
            sent, received = model.events[s].timestamp, model.events[r].timestamp
            out.append(
                Finding(
                    "TRANSIT_OUTLIER",
                    "MEDIUM",
                    "0x" + model.events[s].tx_hash.hex(),
                    f"shipment {say.name(a)} -> {say.name(b)} sent {say.when(sent, a)}, "
                    f"received {say.when(received, b)}: {n} business days of {say.name(b)}, "
                    f"{n - usual} after the lane's usual day",
                    f"this lane usually delivers {usual} business days after the day it "
                    f"ships ({len(rows)} deliveries); one missed truck adds a day",
                    threshold=_rule(usual, allowed, len(rows), say.name(b), cfg),
                    evidence=[say.event(s), say.event(r)],
                    inputs={
                        "lane": [a, b],
                        "samples": len(rows),
                        "usual_days": usual,
                        "business_days": n,
                        "days_late": n - usual,
                        "threshold_days": allowed,
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
    """Shipments in transit past their lane's usual delivery day and a missed truck, in the
    recipient's business days."""
    days = days or WorkingDays(model, say, cfg.max_days_off)
    lanes: dict[Lane, list[int]] = defaultdict(list)
    for _, sent, r in shipments(model):
        if r is not None and model.events[r].timestamp <= now:
            n = days.business_days(sent.timestamp, model.events[r].timestamp, sent.to)
            lanes[(sent.from_, sent.to)].append(n)
    out = []
    for i, items in sorted(_open_shipments(model).items()):
        e = model.events[i]
        if not isinstance(e, ItemsShipped) or e.timestamp > now:
            continue
        samples = lanes.get((e.from_, e.to), [])
        if len(samples) >= cfg.not_received_min_samples:
            usual = _usual_day(samples, cfg)
            elapsed = days.ended_days(e.timestamp, now, e.to)
            late = elapsed >= usual + cfg.missed_truck_days
            rule = (
                f"in transit past the end of business day {usual + cfg.missed_truck_days} of "
                f"{say.name(e.to)}, its last day to arrive in time: the lane's usual delivery "
                f"day ({usual}, {cfg.lane_usual_quantile:.0%} of {len(samples)} deliveries by "
                f"then) and {cfg.missed_truck_days} for a missed truck; days the recipient did "
                "not work, in its time zone, not counted"
            )
            counted = f"{elapsed} ended business days"
        else:
            late = now - e.timestamp > cfg.not_received_days * DAY
            rule = (
                f"in transit longer than {cfg.not_received_days:g} days (fewer than "
                f"{cfg.not_received_min_samples} deliveries on the lane to learn from)"
            )
            elapsed, usual = -1, -1
            counted = f"{(now - e.timestamp) / DAY:.1f} days"
        if not late:
            continue
        out.append(
            Finding(
                "SHIPMENT_NOT_RECEIVED",
                "MEDIUM",
                "0x" + e.tx_hash.hex(),
                f"{plural(len(items), 'item')} shipped by {say.name(e.from_)} to "
                f"{say.name(e.to)} on {say.when(e.timestamp, e.from_)} are still in "
                f"transit {counted} later ({say.when(now, e.to)})",
                "goods that arrive are received; a shipment left open was lost, diverted "
                "or never recorded",
                threshold=rule,
                evidence=[say.event(i)],
                inputs={
                    "items": items[:20],
                    "days_in_transit": round((now - e.timestamp) / DAY, 2),
                    "business_days": elapsed,
                    "usual_days": usual,
                    "lane_deliveries": len(samples),
                },
            )
        )
    return out
