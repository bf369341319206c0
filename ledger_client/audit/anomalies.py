"""Anomaly findings over a replayed history: the fixed rules here, the patterns learned from
history in :mod:`ledger_client.audit.learned`, and :func:`detect`, which runs them all.

Each :class:`~ledger_client.audit.findings.Finding` says what was seen, why it is unusual, the
evidence (transactions, times, members), the model's inputs when a learned baseline was used,
and a severity.

Rules: decommissioned pack moved again (after an undo) or verified again; a pack verified at
two places; shipment never received; a dispenser shipping onward outside a return flow;
product-code mismatches (GTIN outside the commissioner's prefix; scanned lot/expiry not what
was commissioned); expired product moving.

Learned (median and MAD, so a few outliers do not move the baseline): transit-time outliers
per lane, lanes rarely or never used for a product owner, sudden daily volume changes per
member, activity at hours a member is normally inactive.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import DAY, AnomalyConfig, Finding, evidence
from ledger_client.audit.learned import (
    quiet_hour_activity,
    transit_outliers,
    unusual_routes,
    volume_changes,
)
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.scans import VerificationRecord
from ledger_client.contracts import Role
from ledger_client.events import (
    DecommissionsUndone,
    ItemsReceived,
    ItemsShipped,
    PacksDecommissioned,
)
from ledger_client.gs1.dates import same_day
from ledger_client.types import DecommissionReason, PackStatus

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
                        [evidence(model, dec), evidence(model, undone_at), evidence(model, i)],
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
                    [evidence(model, i)],
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
                    [evidence(model, i)],
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
                    "a scan never finds these packs: verification looks a code up among the "
                    "prefix owner's records only",
                    [evidence(model, lot.registered)],
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
            [evidence(model, i)],
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
        by_pack[model.pack_id(r.gtin, r.serial)].append(r)
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
                        [evidence(model, p.history[-1])],
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
            if r.lot is not None and model.lot_id(r.gtin, r.lot) != p.lot.id:
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
