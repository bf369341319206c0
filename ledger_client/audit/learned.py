"""Patterns learned from each member's and each product owner's own history: lanes new for
an owner's goods (``UNUSUAL_ROUTE``), days far above a member's usual volume
(``VOLUME_SPIKE``), work outside a member's business hours (``NIGHT_ACTIVITY``). Lane
transit times live in :mod:`ledger_client.audit.lanes`.

A member's days and hours are those of its own time zone where the master data has one
(UTC otherwise); each finding states its threshold in the units it was crossed in
(shipments, transactions a day, local hours).

Each detector takes a :class:`~ledger_client.audit.describe.Describer` for names and times
(default: the model's own member records, times in UTC).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from ledger_client import events as ev
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.describe import Describer
from ledger_client.audit.findings import AnomalyConfig, Finding
from ledger_client.audit.flows import (
    distribution_lane,
    is_dispenser_only,
    is_logistics,
    is_reverse_distributor,
    shipped_packs,
    trade_role,
)
from ledger_client.audit.hours import OpeningHours
from ledger_client.audit.model import RegistryModel
from ledger_client.events import (
    ItemsShipped,
    PacksDecommissioned,
    RegistryEvent,
    actor,
)

Lane = tuple[str, str]


def _words(model: RegistryModel, say: Describer | None) -> Describer:
    return say if say is not None else Catalogue().describer(model)


def _owner_shipments(model: RegistryModel) -> dict[int, set[str]]:
    """Ship event index -> the owners whose goods it carries, for shipments on forward or
    sideways lanes: not from a dispenser or a reverse distributor (``ROLE_ORDER`` judges
    those), not to a reverse distributor, and not back to the goods' owner."""
    out: dict[int, set[str]] = {}
    for i, pids in shipped_packs(model).items():
        e: ItemsShipped = model.events[i]  # type: ignore[assignment]
        if (
            is_dispenser_only(model, e.from_)
            or is_reverse_distributor(model, e.from_)
            or is_reverse_distributor(model, e.to)
        ):
            continue
        owners = {model.packs[pid].lot.owner for pid in pids} - {e.to}
        if owners:
            out[i] = owners
    return out


def authorised_distributors(
    model: RegistryModel, ship_owners: dict[int, set[str]]
) -> dict[str, set[str]]:
    """Each owner's authorised distributors: the members its goods reached straight from the
    owner or a logistics provider (its 3PL)."""
    out: dict[str, set[str]] = defaultdict(set)
    for i, owners in ship_owners.items():
        e: ItemsShipped = model.events[i]  # type: ignore[assignment]
        for owner in owners:
            if e.from_ == owner or is_logistics(model, e.from_):
                out[owner].add(e.to)
    return out


def unusual_routes(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[Finding]:
    """Shipments of an owner's goods off its distribution.

    - Every shipment of the goods by a distributor that is not authorised for them
      (:func:`authorised_distributors`; the owner and logistics providers are), however often
      it happens: diversion, hidden in traffic or repeated through the same outsider.
    - A shipment by the owner, its logistics provider or an authorised distributor on a lane
      new for the owner's goods (at most ``rare_lane_count`` and under ``rare_lane_share`` of
      the shipments of its goods, of at least ``min_owner_shipments``) that the network
      rarely uses either (at most ``rare_network_count`` and under the share), unless it is
      a distribution lane by its ends' roles (wholesaler to pharmacy, wholesaler to
      wholesaler...: a secondary wholesaler filling in, stock balancing).
    """
    say = _words(model, say)
    ship_owners = _owner_shipments(model)
    authorised = authorised_distributors(model, ship_owners)
    per_owner: dict[str, Counter[Lane]] = defaultdict(Counter)
    network: Counter[Lane] = Counter()
    lanes_of: dict[int, Lane] = {}
    for i, owners in ship_owners.items():
        e: ItemsShipped = model.events[i]  # type: ignore[assignment]
        lane = lanes_of[i] = (e.from_, e.to)
        network[lane] += 1
        for owner in owners:
            per_owner[owner][lane] += 1
    total_network = sum(network.values())
    out = []
    for i, owners in sorted(ship_owners.items()):
        lane = lanes_of[i]
        m = network[lane]
        rare_network = m <= cfg.rare_network_count and m / total_network < cfg.rare_lane_share
        for owner in sorted(owners):
            lanes = per_owner[owner]
            total, n = sum(lanes.values()), lanes[lane]
            sender = lane[0]
            outsider = not (
                sender == owner or is_logistics(model, sender) or sender in authorised[owner]
            )
            new = (
                total >= cfg.min_owner_shipments
                and n <= cfg.rare_lane_count
                and n / total < cfg.rare_lane_share
            )
            if outsider or new and rare_network and not distribution_lane(model, *lane):
                out.append(
                    _route_finding(model, i, lane, owner, n, total, m, total_network, cfg, say)
                )
                break
    return out


def _route_finding(
    model: RegistryModel,
    i: int,
    lane: Lane,
    owner: str,
    n: int,
    total: int,
    m: int,
    total_network: int,
    cfg: AnomalyConfig,
    say: Describer,
) -> Finding:
    when = say.when(model.events[i].timestamp, lane[0])
    share = f"{cfg.rare_lane_share:.0%}"
    return Finding(
        "UNUSUAL_ROUTE",
        "MEDIUM",
        "0x" + model.events[i].tx_hash.hex(),
        f"shipment {say.name(lane[0])} -> {say.name(lane[1])} on {when} of "
        f"{say.name(owner)}'s product",
        f"this lane carried {n} of {total} shipments of the owner's products and {m} of "
        f"{total_network} in the network",
        threshold=f"a shipment of the owner's goods by a distributor they never reached "
        f"straight from the owner or its logistics provider; or, by one they did, on a lane "
        f"carrying at most {cfg.rare_lane_count} and under {share} of the owner's shipments "
        f"(of at least {cfg.min_owner_shipments}) and rare in the network (at most "
        f"{cfg.rare_network_count}, under {share}) outside a distributor's trade",
        evidence=[say.event(i)],
        inputs={
            "lane_count": n,
            "owner_shipments": total,
            "owner": owner,
            "network_lane_count": m,
            "network_shipments": total_network,
        },
    )


def activity_profiles(model: RegistryModel) -> dict[str, list[int]]:
    """Each member's activity profile: the indices of the registry events it caused (the
    member each event's class names, :func:`~ledger_client.events.actor`), in chain order."""
    by: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(model.events):
        if isinstance(e, RegistryEvent) and (member := actor(e)) is not None:
            by[member].append(i)
    return dict(by)


_EPOCH = date(1970, 1, 1)


#: The operations a member's volume is counted in, each a series of its own: what it ships
#: and dispenses. Not what it makes: makers produce in campaigns, so a commissioning day at
#: three times the usual is how batch production runs; nor receipts, which follow others'
#: shipments and come in waves.
VOLUME_OPERATIONS: dict[type, str] = {
    ItemsShipped: "shipments",
    PacksDecommissioned: "decommissions",
}


def _robust(values: list[float]) -> tuple[float, float]:
    """Median and median absolute deviation of ``values``."""
    mid = statistics.median(values)
    return mid, statistics.median(abs(v - mid) for v in values)


@dataclass(frozen=True)
class DayVolume:
    """One member's operations of one kind on one working day, beside its usual day (the
    baseline of :func:`volume_changes`): ``count`` events (``events``, indices into the
    model), ``expected`` of them, the log ``spread`` of its days, the ``limit`` the count must
    pass, whether a neighbouring working day is high too (``lasts``), the working ``days``
    the baseline was drawn from, the count and expected count of the working day before
    it (``before``; None for the first), of the ``volume_lull_days`` working days before it
    (``leading``; None for the first few) and of as many after it (``after``; None until
    they are known)."""

    member: str
    day: int
    op: str
    events: list[int]
    expected: float
    spread: float
    limit: float
    lasts: bool
    days: int
    before: tuple[int, float] | None
    leading: tuple[int, float] | None
    after: tuple[int, float] | None

    @property
    def count(self) -> int:
        """The operations that day."""
        return len(self.events)

    def followed_by_a_lull(self, share: float) -> bool:
        """Whether the working days after it fell under ``share`` of their expected count
        together: the day's operations took what would have served them."""
        return self.after is not None and self.after[0] < share * self.after[1]

    def catches_up(self, share: float) -> bool:
        """Whether the working day before it fell short of its expected count by ``share``
        of this day's excess or more: demand that waited a day (a short shift, a closure
        the calendar does not show)."""
        if self.before is None:
            return False
        return self.before[1] - self.before[0] >= share * (self.count - self.expected)

    def rises_into(self, share: float) -> bool:
        """Whether the working days before it were over their expected count together by
        ``share`` of this day's excess or more: demand rising day by day (a wave of
        prescriptions), not stock taken off the shelf in one day."""
        if self.leading is None:
            return False
        return self.leading[0] - self.leading[1] >= share * (self.count - self.expected)

    def is_spike(self, cfg: AnomalyConfig) -> bool:
        """Over its limit, a single day, not a catch-up (:meth:`catches_up`) nor the top of a
        rise (:meth:`rises_into`), and either ``volume_clear_ratio`` times the expected count
        or followed by a lull (:meth:`followed_by_a_lull`)."""
        return (
            self.count > self.limit
            and not self.lasts
            and not self.catches_up(cfg.volume_catch_up_share)
            and not self.rises_into(cfg.volume_rise_share)
            and (
                self.count >= cfg.volume_clear_ratio * self.expected
                or self.followed_by_a_lull(cfg.volume_lull_share)
            )
        )


def daily_volumes(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[DayVolume]:
    """Every member's working days, per kind of operation (:data:`VOLUME_OPERATIONS`), each
    with its usual day (see :func:`volume_changes`); days with too short a baseline are left
    out. The subject day is counted from 1970-01-01 in the member's own dates."""
    say = _words(model, say)
    out: list[DayVolume] = []
    for member, idx in activity_profiles(model).items():
        per_day: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i in idx:
            day = (say.day(model.events[i].timestamp, member) - _EPOCH).days
            op = VOLUME_OPERATIONS.get(type(model.events[i]), "")
            per_day[day][op].append(i)
        days = sorted(per_day)
        # demand waits while a member is closed: a day after closed days carries theirs too
        covers = [
            min(d - p, cfg.volume_max_covered_days)
            for p, d in zip([days[0] - 1, *days], days, strict=False)
        ]
        for op in VOLUME_OPERATIONS.values():
            counts = [len(per_day[d].get(op, ())) for d in days]
            if not any(counts):
                continue
            logs = [math.log1p(c / n) for c, n in zip(counts, covers, strict=True)]
            around = [_nearest(logs, k, cfg.volume_baseline_days) for k in range(len(days))]
            levels = [_robust(a) if a else (0.0, 0.0) for a in around]
            usual = [math.expm1(mid) * n for (mid, _), n in zip(levels, covers, strict=True)]
            for k, d in enumerate(days):
                if len(around[k]) < cfg.min_days:
                    continue
                mid, mad = levels[k]
                spread = max(_MAD_TO_SD * mad, cfg.volume_min_spread)
                expected = usual[k]
                limit = max(
                    math.expm1(mid + cfg.volume_robust_z * spread) * covers[k],
                    cfg.volume_ratio * expected,
                    expected + cfg.volume_min_excess,
                )
                # a spike is one day: a neighbouring working day as high (over the ratio, and
                # half the day's count or more) is a surge that lasts
                neighbours = [j for j in (k - 1, k + 1) if 0 <= j < len(days)]
                lasts = any(
                    counts[j] > cfg.volume_ratio * math.expm1(mid) * covers[j]
                    and 2 * counts[j] >= counts[k]
                    for j in neighbours
                )
                later = range(k + 1, k + 1 + cfg.volume_lull_days)
                after = (
                    (sum(counts[j] for j in later), sum(usual[j] for j in later))
                    if later.stop <= len(days)
                    else None
                )
                earlier = range(k - cfg.volume_lull_days, k)
                leading = (
                    (sum(counts[j] for j in earlier), sum(usual[j] for j in earlier))
                    if earlier.start >= 0
                    else None
                )
                before = (counts[k - 1], usual[k - 1]) if k else None
                events = per_day[d].get(op, [])
                out.append(
                    DayVolume(
                        member,
                        d,
                        op,
                        events,
                        expected,
                        spread,
                        limit,
                        lasts,
                        len(around[k]),
                        before,
                        leading,
                        after,
                    )
                )
    return out


def _nearest(values: list[float], k: int, span: int) -> list[float]:
    """The 2 × ``span`` values nearest to ``values[k]``, without it: either side, or the
    last ones for the latest."""
    lo = max(0, min(k - span, len(values) - 1 - 2 * span))
    return values[lo:k] + values[k + 1 : lo + 2 * span + 1]


def volume_changes(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[Finding]:
    """Days (the member's own dates) on which a member's operations of one kind
    (:data:`VOLUME_OPERATIONS`) jump far above its own usual demand.

    The member's demand is counted on its working days (days it transacted at all), a day
    after closed days carrying theirs too (at most ``volume_max_covered_days``). Its usual
    day and its spread are the median and the median absolute deviation of the log of that
    daily demand over the 2 × ``volume_baseline_days`` working days nearest to it (either
    side, or before it for the latest days, so today is judged today; at least
    ``min_days``): a member whose demand swings needs a bigger day than a steady one, and a
    member whose demand drifts, goes live or takes on a customer sets a new usual level
    within days. A day
    is a spike when its log demand lies more than ``volume_robust_z`` robust deviations
    (the MAD scaled to a standard deviation, at least ``volume_min_spread``) above the usual
    day, and its count also exceeds ``volume_ratio`` times the expected count and the
    expected count by ``volume_min_excess``, and neither neighbouring working day is over
    ``volume_ratio`` times its own expected count (a surge that lasts). Under
    ``volume_clear_ratio`` times the expected count, the day must also be followed by a lull:
    its next ``volume_lull_days`` working days together under ``volume_lull_share`` of their
    expected count. A busy day leaves the days after it as they were; a day that took stock
    off the shelf in one go (dispensed or shipped out of the channel) leaves them short until
    the stock is bought again. Such a day is judged once those days are known. A day whose
    excess the working day before it fell short by ``volume_catch_up_share`` or more is
    demand that waited (the weekend's orders after a short Sunday shift); one whose
    ``volume_lull_days`` working days before it were over their expected count by
    ``volume_rise_share`` of its excess or more tops a rise in demand (a wave of
    prescriptions builds over days; a diversion takes the stock in one). A day on which at least
    ``volume_network_members`` members of the same trade role spike together is a network
    event (the makers' campaign), not one member's. The subject is ``member@day``, the day
    counted from 1970-01-01."""
    say = _words(model, say)
    spikes = [v for v in daily_volumes(model, cfg, say) if v.is_spike(cfg)]
    together = Counter(
        (trade_role(model, s.member), s.day)
        for s in {(x.member, x.day): x for x in spikes}.values()
    )
    out = []
    seen: set[tuple[str, int]] = set()
    for s in spikes:
        if (
            together[(trade_role(model, s.member), s.day)] >= cfg.volume_network_members
            or (s.member, s.day) in seen
        ):
            continue
        seen.add((s.member, s.day))
        out.append(_spike(model, s, cfg, say))
    return out


#: The median absolute deviation of a normal distribution times this is its standard deviation.
_MAD_TO_SD = 1.4826


def _spike(model: RegistryModel, s: DayVolume, cfg: AnomalyConfig, say: Describer) -> Finding:
    v = s.count
    day = date.fromordinal(_EPOCH.toordinal() + s.day).isoformat()
    swing = math.exp(s.spread)
    lull = f"at least {cfg.volume_clear_ratio:g}x the expected count"
    if s.count < cfg.volume_clear_ratio * s.expected and s.after is not None:
        lull = (
            f"under {cfg.volume_clear_ratio:g}x, so followed by a lull: its next "
            f"{cfg.volume_lull_days} working days recorded {s.after[0]} {s.op} against "
            f"{s.after[1]:.1f} expected (under {cfg.volume_lull_share:g}x)"
        )
    return Finding(
        "VOLUME_SPIKE",
        "MEDIUM",
        f"{s.member}@{s.day}",
        f"{say.name(s.member)} recorded {v} {s.op} on {day} ({say.zone_name(s.member)}), "
        f"{v / max(s.expected, 1e-9):.1f}x the {s.expected:.1f} expected",
        f"its usual demand is {s.expected:.1f} {s.op} that day (the median of {s.days} working "
        f"days around it, closed days before it carried over), and its days swing by a factor "
        f"of {swing:.2f} (one robust deviation)",
        threshold=f"more than {s.limit:.1f} {s.op}: {cfg.volume_robust_z:g} robust deviations "
        f"(median absolute deviation of its log daily demand, at least "
        f"{cfg.volume_min_spread:g}) above its usual day, over {cfg.volume_ratio:g}x the "
        f"expected {s.expected:.1f} and at least {cfg.volume_min_excess} more, a single day "
        f"(neither neighbouring working day over {cfg.volume_ratio:g}x), not demand that "
        f"waited (the working day before it short by under {cfg.volume_catch_up_share:g}x "
        f"its excess), not the top of a rise (its {cfg.volume_lull_days} working days before "
        f"it over their expected count by under {cfg.volume_rise_share:g}x its excess), "
        f"{lull}, not shared "
        f"by {cfg.volume_network_members} or more members of its role that day",
        evidence=[say.event(i) for i in s.events[:20]],
        inputs={
            "member": s.member,
            "day": s.day,
            "operation": s.op,
            "count": v,
            "expected": round(s.expected, 2),
            "log_spread": round(s.spread, 3),
            "days": s.days,
            "threshold_count": round(s.limit, 2),
            "after_count": s.after[0] if s.after else None,
            "after_expected": round(s.after[1], 2) if s.after else None,
            "leading_count": s.leading[0] if s.leading else None,
            "leading_expected": round(s.leading[1], 2) if s.leading else None,
        },
    )


#: The operations that handle packs, which a member's opening hours bound (registering a lot
#: or setting its status is office work a system may do at any hour).
HANDLING = (
    ev.PacksCommissioned,
    ev.ItemsPacked,
    ev.ItemsUnpacked,
    ev.UnitsDissolved,
    ev.ItemsShipped,
    ev.ItemsReceived,
    ev.ShipmentCancelled,
    ev.ItemsRefused,
    ev.PacksDecommissioned,
    ev.DecommissionsUndone,
)


def quiet_hour_activity(
    model: RegistryModel, cfg: AnomalyConfig, say: Describer | None = None
) -> list[Finding]:
    """Pack handling (:data:`HANDLING`) outside the member's opening hours in its own time
    zone (widened by
    ``hours_grace_minutes``): those of its master data, holidays and closed days included;
    where the master data has none, outside ``business_hours`` at an hour its own history
    rarely works (under ``quiet_hour_share`` of its transactions, of at least
    ``min_member_events``)."""
    say = _words(model, say)
    out = []
    default = OpeningHours.every_day(cfg.business_hours[0] * 60, cfg.business_hours[1] * 60)
    for member, idx in activity_profiles(model).items():
        known = say.catalogue.opening_hours(member)
        hours = known or default
        local = {i: say.local(model.events[i].timestamp, member) for i in idx}
        per_hour = Counter(t.hour for t in local.values())
        learned = known is None and len(idx) >= cfg.min_member_events
        name, zone = say.name(member), say.zone_name(member)
        source = "its master data" if known else "the default, no master data"
        for i in idx:
            t = local[i]
            if not isinstance(model.events[i], HANDLING) or hours.is_open(
                t, cfg.hours_grace_minutes
            ):
                continue
            if known is None and (
                not learned or per_hour[t.hour] >= cfg.quiet_hour_share * len(idx)
            ):
                continue  # no master data: only an hour the member itself rarely works
            out.append(
                Finding(
                    "NIGHT_ACTIVITY",
                    "LOW",
                    "0x" + model.events[i].tx_hash.hex(),
                    f"{name} transacted at {say.when(model.events[i].timestamp, member)}, "
                    f"outside its hours that day ({hours.words(t.date())}, {zone})",
                    f"{per_hour[t.hour]} of its {len(idx)} transactions fall in the hour "
                    f"{t.hour:02d}:00-{t.hour:02d}:59; its hours are from {source}",
                    threshold=f"a transaction within its opening hours that day "
                    f"({hours.words(t.date())}, from {source}), give or take "
                    f"{cfg.hours_grace_minutes} minutes"
                    + (
                        ""
                        if known
                        else f", or in an hour holding at least {cfg.quiet_hour_share:.0%} of "
                        f"its transactions (of at least {cfg.min_member_events})"
                    ),
                    evidence=[say.event(i)],
                    inputs={
                        "hour": t.hour,
                        "time_zone": zone,
                        "hours_that_day": hours.words(t.date()),
                        "hour_count": per_hour[t.hour],
                        "member_events": len(idx),
                    },
                )
            )
    return out
