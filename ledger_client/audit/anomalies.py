"""Anomaly findings over a replayed history: fixed rules and patterns learned from history.

Each :class:`Finding` says what was seen, why it is unusual, the evidence (transactions,
times, members), the model's inputs when a learned baseline was used, and a severity.

Rules: decommissioned pack moved again (after an undo) or verified again; a pack verified at
two places; shipment never received; a dispenser shipping onward outside a return flow;
product-code mismatches (GTIN outside the commissioner's prefix; scanned lot/expiry not what
was commissioned); expired product moving.

Learned (median and MAD, so a few outliers do not move the baseline): transit-time outliers
per lane, lanes rarely or never used for a product owner, sudden daily volume changes per
member, activity at hours a member is normally inactive.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.scans import VerificationRecord
from ledger_client.contracts import Role
from ledger_client.events import (
    ChainEvent,
    DecommissionsUndone,
    ItemsReceived,
    ItemsShipped,
    LotRegistered,
    PacksDecommissioned,
    RegistryEvent,
    actor,
)
from ledger_client.gs1.dates import same_day
from ledger_client.ids import lot_id, pack_id
from ledger_client.types import DecommissionReason, PackStatus

DAY = 86_400
MAD_SCALE = 0.6745  # makes the MAD-based score comparable to a z-score for normal data


@dataclass(frozen=True)
class AnomalyConfig:
    """Thresholds of the rules and the learned detectors."""

    not_received_days: float = 14.0
    two_places_window: int = 2 * DAY
    transit_score: float = 4.0
    transit_min_spread: float = 0.25
    min_lane_samples: int = 8
    rare_lane_share: float = 0.01
    rare_lane_count: int = 2
    rare_network_count: int = 4
    volume_score: float = 6.0
    volume_ratio: float = 4.0
    min_days: int = 7
    quiet_hour_share: float = 0.002
    min_member_events: int = 200


@dataclass(frozen=True)
class Finding:
    """One anomaly: what, why, the evidence and the model's inputs; severity LOW..CRITICAL."""

    kind: str
    severity: str
    subject: str
    seen: str
    why: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return asdict(self)


def _by(e: ChainEvent) -> str | None:
    """The member an event names as ``by``, or a shipment's sender (a lot's registration
    names neither)."""
    return None if isinstance(e, LotRegistered) else actor(e)


def _ev(model: RegistryModel, i: int) -> dict[str, Any]:
    e = model.events[i]
    out = {
        "event": e.name,
        "tx": "0x" + e.tx_hash.hex(),
        "time": e.timestamp,
        "block": e.block_number,
        "by": _by(e),
    }
    if isinstance(e, ItemsShipped):
        out["to"] = e.to
    return out


def _robust(values: list[float]) -> tuple[float, float]:
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    return med, mad


def _score(x: float, med: float, mad: float, floor: float) -> float:
    return MAD_SCALE * (x - med) / max(mad, floor)


# ------------------------------------------------------------ rules on the chain's history


def reused_after_decommission(model: RegistryModel) -> list[Finding]:
    """A pack decommissioned, undone, then shipped: possible diversion of dispensed stock."""
    out = []
    for pid, p in model.packs.items():
        undone_at = None
        for i in p.history:
            e = model.events[i]
            if isinstance(e, DecommissionsUndone):
                undone_at = i
            elif isinstance(e, ItemsShipped) and undone_at is not None:
                dec, decommission = max(
                    (j, d)
                    for j in p.history
                    if j < undone_at and isinstance(d := model.events[j], PacksDecommissioned)
                )
                reason = DecommissionReason(decommission.reason).name
                out.append(
                    Finding(
                        "DECOMMISSIONED_REUSED",
                        "HIGH",
                        "0x" + pid.hex(),
                        f"pack decommissioned ({reason}), the decommission undone, then shipped on",
                        "an undo puts a pack back on its shelf, not on to another member",
                        [_ev(model, dec), _ev(model, undone_at), _ev(model, i)],
                    )
                )
                break
    return out


def not_received(model: RegistryModel, now: int, cfg: AnomalyConfig) -> list[Finding]:
    """Shipments still in transit more than ``not_received_days`` after they left."""
    out = []
    limit = now - cfg.not_received_days * DAY
    groups: dict[int, list[str]] = defaultdict(list)
    for pid, p in model.packs.items():
        if p.status == PackStatus.IN_TRANSIT and p.parent is None:
            groups[p.history[-1]].append("0x" + pid.hex())
    for u in model.units.values():
        if u.status == 2 and u.parent is None:
            groups[u.history[-1]].append("0x" + u.id.hex())
    for i, items in sorted(groups.items()):
        e = model.events[i]
        if isinstance(e, ItemsShipped) and e.timestamp < limit:
            days = (now - e.timestamp) / DAY
            out.append(
                Finding(
                    "SHIPMENT_NOT_RECEIVED",
                    "MEDIUM",
                    "0x" + e.tx_hash.hex(),
                    f"{len(items)} items shipped {days:.1f} days ago are still in transit",
                    f"shipments are expected to be received within {cfg.not_received_days:g} days",
                    [_ev(model, i)],
                    {"items": items[:20], "days_in_transit": round(days, 2)},
                )
            )
    return out


def role_order(model: RegistryModel) -> list[Finding]:
    """A dispenser shipping packs to anyone but the member that supplied them (not a return)."""
    out = []
    dispensers = {
        a
        for a, m in model.members.items()
        if m.roles & Role.DISPENSER and not m.roles & ~int(Role.DISPENSER) & 0x1F
    }
    touched: dict[int, list[bytes]] = defaultdict(list)
    shipments: dict[int, ItemsShipped] = {}
    for pid, p in model.packs.items():
        for i in p.history:
            e = model.events[i]
            if isinstance(e, ItemsShipped) and e.from_ in dispensers:
                touched[i].append(pid)
                shipments[i] = e
    for i, pids in sorted(touched.items()):
        ship = shipments[i]
        bad = []
        for pid in pids:
            h = model.packs[pid].history
            k = h.index(i)
            supplier = next(
                (
                    earlier.from_
                    for j in reversed(h[:k])
                    if isinstance(earlier := model.events[j], ItemsShipped)
                ),
                None,
            )
            if supplier != ship.to:
                bad.append((pid, supplier))
        if bad:
            out.append(
                Finding(
                    "ROLE_ORDER",
                    "HIGH",
                    "0x" + ship.tx_hash.hex(),
                    f"dispenser {ship.from_} shipped {len(bad)} packs to {ship.to}, "
                    "which did not supply them",
                    "dispensers end the supply chain; they only ship back to their supplier",
                    [_ev(model, i)],
                    {
                        "packs": ["0x" + p.hex() for p, _ in bad[:20]],
                        "suppliers": sorted({s or "none" for _, s in bad}),
                    },
                )
            )
    return out


def product_mismatch(model: RegistryModel, catalogue: Catalogue) -> list[Finding]:
    """Lots whose GTIN (from the catalogue) lies outside the commissioning member's prefixes."""
    out = []
    for lid, lot in model.lots.items():
        g = catalogue.gtin_of_lot(lid)
        if g is None:
            continue
        owner = model.prefix_owner(g)
        if owner != lot.owner:
            out.append(
                Finding(
                    "PRODUCT_MISMATCH",
                    "CRITICAL",
                    "0x" + lid.hex(),
                    f"lot of GTIN {g} with {len(lot.packs)} packs commissioned by {lot.owner}",
                    f"the GTIN's company prefix belongs to "
                    f"{owner if int(owner, 16) else 'no member'}; "
                    "every verification of these packs answers PRODUCT_MISMATCH",
                    [_ev(model, lot.registered)],
                    {"gtin": g, "prefix_owner": owner},
                )
            )
    return out


def expired_moving(model: RegistryModel) -> list[Finding]:
    """Shipments and receipts of packs whose lot had expired."""
    per_event: dict[int, int] = Counter()
    for p in model.packs.values():
        for i in p.history:
            e = model.events[i]
            if isinstance(e, ItemsShipped | ItemsReceived) and e.timestamp > p.lot.expires_at:
                per_event[i] += 1
    return [
        Finding(
            "EXPIRED_MOVING",
            "MEDIUM",
            "0x" + model.events[i].tx_hash.hex(),
            f"{n} expired packs moved by {model.events[i].name}",
            "expired product may only go to destruction, not on through the supply chain",
            [_ev(model, i)],
            {"packs": n},
        )
        for i, n in sorted(per_event.items())
    ]


def verification_rules(
    model: RegistryModel, records: Iterable[VerificationRecord], cfg: AnomalyConfig
) -> list[Finding]:
    """Scans of decommissioned packs, scans at two places, scans whose lot/expiry differ."""
    out = []
    by_pack: dict[bytes, list[VerificationRecord]] = defaultdict(list)
    for r in records:
        by_pack[pack_id(r.gtin, r.serial)].append(r)
    for pid, scans in by_pack.items():
        p = model.packs.get(pid)
        if p is None:
            continue
        scans.sort(key=lambda r: r.time)
        subject = "0x" + pid.hex()
        if p.status == PackStatus.DECOMMISSIONED:
            late = [r for r in scans if r.time > p.decommissioned_at]
            if late:
                out.append(
                    Finding(
                        "DECOMMISSIONED_VERIFIED",
                        "CRITICAL",
                        subject,
                        f"pack decommissioned ({DecommissionReason(p.reason).name}) "
                        f"then scanned at {late[0].location}",
                        "a dispensed or destroyed pack is never in hand again: possible clone",
                        [_ev(model, p.history[-1])],
                        {"scans": [asdict(r) for r in late[:5]]},
                    )
                )
        for a, b in zip(scans, scans[1:], strict=False):
            if a.location != b.location and b.time - a.time <= cfg.two_places_window:
                out.append(
                    Finding(
                        "VERIFIED_TWO_PLACES",
                        "HIGH",
                        subject,
                        f"pack scanned at {a.location} and at {b.location}, "
                        f"{(b.time - a.time) / 3600:.1f} h apart",
                        "one physical pack cannot be in two places: at least one is a copy",
                        [],
                        {"scans": [asdict(a), asdict(b)]},
                    )
                )
                break
        for r in scans:
            if r.lot is not None and lot_id(r.gtin, r.lot) != p.lot.id:
                out.append(
                    Finding(
                        "PRODUCT_MISMATCH",
                        "CRITICAL",
                        subject,
                        f"pack scanned with lot {r.lot}, not the lot it was commissioned in",
                        "the printed lot does not match the record",
                        [],
                        {"scan": asdict(r)},
                    )
                )
                break
            if r.expiry is not None and not same_day(r.expiry, p.lot.expiry):
                out.append(
                    Finding(
                        "PRODUCT_MISMATCH",
                        "CRITICAL",
                        subject,
                        f"pack scanned with expiry {r.expiry:06d}, commissioned {p.lot.expiry:06d}",
                        "the printed expiry does not match the record",
                        [],
                        {"scan": asdict(r)},
                    )
                )
                break
    return out


# ------------------------------------------------------------ learned from history


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
                        [_ev(model, s), _ev(model, r)],
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
                        [_ev(model, i)],
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
            by[str(_by(e))].append(i)
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
                        [_ev(model, i)],
                        {"hour": h, "hour_count": hours[h], "member_events": len(idx)},
                    )
                )
    return out


def detect(
    model: RegistryModel,
    catalogue: Catalogue | None = None,
    verifications: Iterable[VerificationRecord] = (),
    now: int | None = None,
    config: AnomalyConfig | None = None,
) -> list[Finding]:
    """Run every rule and learned detector; findings sorted by kind and subject."""
    cfg = config or AnomalyConfig()
    now = now if now is not None else (model.events[-1].timestamp if model.events else 0)
    found = [
        *reused_after_decommission(model),
        *not_received(model, now, cfg),
        *role_order(model),
        *expired_moving(model),
        *verification_rules(model, verifications, cfg),
        *transit_outliers(model, cfg),
        *unusual_routes(model, cfg),
        *volume_changes(model, cfg),
        *quiet_hour_activity(model, cfg),
    ]
    if catalogue is not None:
        found.extend(product_mismatch(model, catalogue))
    return sorted(found, key=lambda f: (f.kind, f.subject))
