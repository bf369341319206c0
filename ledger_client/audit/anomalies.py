"""Anomaly findings over a replayed history: the fixed rules here, the patterns learned from
history in :mod:`ledger_client.audit.learned`, and :func:`detect`, which runs them all.

Each :class:`~ledger_client.audit.findings.Finding` says what was seen and why it is unusual
(members by name, times in each member's own time zone), the threshold it crossed, the
evidence (transactions and scans), the model's inputs when a learned baseline was used, and a
severity.

Rules: decommissioned pack moved again (after an undo) or verified again; a pack verified at
two places; shipment never received; a dispenser shipping onward outside a return flow;
product-code mismatches (GTIN outside the registrant's prefix; scanned lot/expiry not what
was commissioned); expired product moving.

Learned (median and MAD, so a few outliers do not move the baseline): transit-time outliers
per lane, lanes rarely or never used for a product owner, sudden daily volume changes per
member, activity at hours a member is normally inactive.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.describe import Describer, expiry_text, plural
from ledger_client.audit.findings import DAY, AnomalyConfig, Finding
from ledger_client.audit.learned import (
    quiet_hour_activity,
    transit_outliers,
    unusual_routes,
    volume_changes,
)
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.scans import VerificationRecord
from ledger_client.audit.state import Pack
from ledger_client.contracts import Role
from ledger_client.events import (
    DecommissionsUndone,
    ItemsReceived,
    ItemsShipped,
    PacksDecommissioned,
    actor,
)
from ledger_client.gs1.dates import same_day
from ledger_client.types import ZERO_ADDRESS, DecommissionReason, PackStatus

# ------------------------------------------------------------ rules on the chain's history


def reused_after_decommission(model: RegistryModel, say: Describer) -> list[Finding]:
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
                undo = model.events[undone_at]
                out.append(
                    Finding(
                        "DECOMMISSIONED_REUSED",
                        "HIGH",
                        "0x" + pid.hex(),
                        f"pack decommissioned ({reason}) by {say.name(decommission.by)} on "
                        f"{say.when(decommission.timestamp, decommission.by)}, the decommission "
                        f"undone on {say.when(undo.timestamp, decommission.by)}, then shipped "
                        f"to {say.name(e.to)} on {say.when(e.timestamp, e.from_)}",
                        "an undo puts a pack back on its shelf, not on to another member",
                        threshold="no shipment of a pack whose decommission was undone",
                        evidence=[say.event(dec), say.event(undone_at), say.event(i)],
                    )
                )
                break
    return out


def not_received(
    model: RegistryModel, now: int, cfg: AnomalyConfig, say: Describer
) -> list[Finding]:
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
                    f"{plural(len(items), 'item')} shipped by {say.name(e.from_)} to "
                    f"{say.name(e.to)} on {say.when(e.timestamp, e.from_)} are still in "
                    f"transit {days:.1f} days later ({say.when(now, e.to)})",
                    "goods that arrive are received; a shipment left open was lost, diverted "
                    "or never recorded",
                    threshold=f"in transit longer than {cfg.not_received_days:g} days",
                    evidence=[say.event(i)],
                    inputs={"items": items[:20], "days_in_transit": round(days, 2)},
                )
            )
    return out


def _supplier(model: RegistryModel, history: list[int], before: int) -> int | None:
    """The index of the last shipment before event ``before`` in a pack's ``history``."""
    k = history.index(before)
    return next(
        (j for j in reversed(history[:k]) if isinstance(model.events[j], ItemsShipped)), None
    )


def role_order(model: RegistryModel, say: Describer) -> list[Finding]:
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
        bad: list[tuple[bytes, int | None]] = []
        for pid in pids:
            j = _supplier(model, model.packs[pid].history, i)
            supplier = model.events[j] if j is not None else None
            if not isinstance(supplier, ItemsShipped) or supplier.from_ != ship.to:
                bad.append((pid, j))
        if bad:
            deliveries = sorted({j for _, j in bad if j is not None})
            suppliers = sorted(
                {s.from_ for j in deliveries if isinstance(s := model.events[j], ItemsShipped)}
            )
            out.append(
                Finding(
                    "ROLE_ORDER",
                    "HIGH",
                    "0x" + ship.tx_hash.hex(),
                    f"dispenser {say.name(ship.from_)} shipped {plural(len(bad), 'pack')} to "
                    f"{say.name(ship.to)} on {say.when(ship.timestamp, ship.from_)}, which did "
                    "not supply them"
                    + (
                        f" (supplied by {', '.join(say.name(s) for s in suppliers)})"
                        if suppliers
                        else ""
                    ),
                    "dispensers end the supply chain; they only ship back to their supplier",
                    threshold="a dispenser ships a pack only back to the member that supplied it",
                    evidence=[say.event(i), *(say.event(j) for j in deliveries[:5])],
                    inputs={
                        "packs": ["0x" + p.hex() for p, _ in bad[:20]],
                        "suppliers": suppliers or ["none"],
                    },
                )
            )
    return out


def foreign_prefix(
    model: RegistryModel, catalogue: Catalogue, lid: bytes
) -> tuple[str, str] | None:
    """``(GTIN, prefix owner)`` when lot ``lid``'s GTIN (from the catalogue) carries a company
    prefix that is not its registrant's (the zero address: no member's); None when it is the
    registrant's own, or the GTIN is unknown."""
    lot, gtin = model.lots.get(lid), catalogue.gtin_of_lot(lid)
    if lot is None or gtin is None:
        return None
    owner = model.prefix_owner(gtin)
    return None if owner == lot.owner else (gtin, owner)


def prefix_owner_words(say: Describer, owner: str) -> str:
    """Who owns a company prefix, in words: a member's name, or no member."""
    return "no member" if owner == ZERO_ADDRESS else say.name(owner)


def product_mismatch(model: RegistryModel, catalogue: Catalogue, say: Describer) -> list[Finding]:
    """Lots whose GTIN (from the catalogue) lies outside the registering member's prefixes."""
    out = []
    for lid, lot in model.lots.items():
        found = foreign_prefix(model, catalogue, lid)
        if found is None:
            continue
        g, owner = found
        registered = model.events[lot.registered]
        commissions = sorted({model.packs[pid].history[0] for pid in lot.packs})
        out.append(
            Finding(
                "PRODUCT_MISMATCH",
                "CRITICAL",
                "0x" + lid.hex(),
                f"{say.lot(lid)} ({plural(len(lot.packs), 'pack')}) registered by "
                f"{say.name(lot.owner)} on {say.when(registered.timestamp, lot.owner)}",
                f"the GTIN's company prefix belongs to {prefix_owner_words(say, owner)}; a scan "
                "never finds these packs: verification looks a code up among the prefix "
                "owner's records only",
                threshold="a lot's GTIN carries a company prefix of the member registering it",
                evidence=[say.event(lot.registered), *(say.event(j) for j in commissions[:5])],
                inputs={"gtin": g, "prefix_owner": owner},
            )
        )
    return out


def expired_moving(model: RegistryModel, say: Describer) -> list[Finding]:
    """Shipments and receipts of packs whose lot had expired."""
    per_event: dict[int, int] = Counter()
    lot_of: dict[int, Pack] = {}
    for p in model.packs.values():
        for i in p.history:
            e = model.events[i]
            if isinstance(e, ItemsShipped | ItemsReceived) and e.timestamp > p.lot.expires_at:
                per_event[i] += 1
                lot_of.setdefault(i, p)
    out = []
    for i, n in sorted(per_event.items()):
        e = model.events[i]
        lot = lot_of[i].lot
        by = actor(e)
        if isinstance(e, ItemsShipped):
            moved = f"shipped by {say.name(by)} to {say.name(e.to)}"
        else:
            moved = f"received by {say.name(by)}"
        out.append(
            Finding(
                "EXPIRED_MOVING",
                "MEDIUM",
                "0x" + e.tx_hash.hex(),
                f"{plural(n, 'pack')} of {say.lot(lot.id)}, expired "
                f"{expiry_text(lot.expiry)}, {moved} on "
                f"{say.when(e.timestamp, by)}",
                "expired product may only go to destruction, not on through the supply chain",
                threshold=f"no shipment or receipt after the lot's expiry "
                f"({say.when(lot.expires_at, by)})",
                evidence=[say.event(i)],
                inputs={"packs": n},
            )
        )
    return out


def _decommission_of(model: RegistryModel, p: Pack) -> int:
    """The index of the event that decommissioned ``p`` last."""
    return next(i for i in reversed(p.history) if isinstance(model.events[i], PacksDecommissioned))


def _custody_at(model: RegistryModel, p: Pack, ts: int) -> int:
    """The index of the last event touching ``p`` at or before time ``ts``."""
    return next((i for i in reversed(p.history) if model.events[i].timestamp <= ts), p.history[0])


def verification_rules(
    model: RegistryModel,
    records: Iterable[VerificationRecord],
    cfg: AnomalyConfig,
    say: Describer,
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
                dec = _decommission_of(model, p)
                by = p.custodian
                out.append(
                    Finding(
                        "DECOMMISSIONED_VERIFIED",
                        "CRITICAL",
                        subject,
                        f"pack decommissioned ({DecommissionReason(p.reason).name}) by "
                        f"{say.name(by)} on {say.when(p.decommissioned_at, by)}, then "
                        f"scanned at {say.name(late[0].location)} on "
                        f"{say.when(late[0].time, late[0].location)}",
                        "a dispensed or destroyed pack is never in hand again: possible clone",
                        threshold="no scan of a pack after its decommission",
                        evidence=[say.event(dec), *(say.scan(r) for r in late[:5])],
                        inputs={"scans": len(late)},
                    )
                )
        for a, b in zip(scans, scans[1:], strict=False):
            if a.location != b.location and b.time - a.time <= cfg.two_places_window:
                out.append(
                    Finding(
                        "VERIFIED_TWO_PLACES",
                        "HIGH",
                        subject,
                        f"pack scanned at {say.name(a.location)} on "
                        f"{say.when(a.time, a.location)} and at {say.name(b.location)} on "
                        f"{say.when(b.time, b.location)}, {(b.time - a.time) / 3600:.1f} h apart",
                        "one physical pack cannot be in two places: at least one is a copy",
                        threshold=f"scans at two places within {cfg.two_places_window / 3600:g} h",
                        evidence=[
                            say.scan(a),
                            say.scan(b),
                            say.event(_custody_at(model, p, b.time)),
                        ],
                        inputs={"hours_apart": round((b.time - a.time) / 3600, 2)},
                    )
                )
                break
        clear = say.catalogue.lots.get(p.lot.id)
        for r in scans:
            where = f"at {say.name(r.location)} on {say.when(r.time, r.location)}"
            if r.lot is not None and model.lot_id(r.gtin, r.lot) != p.lot.id:
                commissioned = f"lot {clear[1]}" if clear else "the lot"
                out.append(
                    Finding(
                        "PRODUCT_MISMATCH",
                        "CRITICAL",
                        subject,
                        f"pack scanned {where} with lot {r.lot}, not {commissioned} it was "
                        "commissioned in",
                        "the printed lot does not match the record",
                        threshold="the scanned lot is the lot the pack was commissioned in",
                        evidence=[say.scan(r), say.event(p.history[0])],
                    )
                )
                break
            if r.expiry is not None and not same_day(r.expiry, p.lot.expiry):
                out.append(
                    Finding(
                        "PRODUCT_MISMATCH",
                        "CRITICAL",
                        subject,
                        f"pack scanned {where} with expiry {r.expiry:06d}, registered "
                        f"{p.lot.expiry:06d}",
                        "the printed expiry does not match the record",
                        threshold="the scanned expiry names the registered day (GS1: day 00 is "
                        "the month's last day)",
                        evidence=[say.scan(r), say.event(p.lot.registered)],
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
    """Run every rule and learned detector at time ``now`` (default: the last event's);
    findings sorted by kind and subject. Members are named and times shown in their zones
    from ``catalogue``'s master data; the lot rule needs its clear lots."""
    cfg = config or AnomalyConfig()
    now = now if now is not None else (model.events[-1].timestamp if model.events else 0)
    say = (catalogue or Catalogue()).describer(model)
    found = [
        *reused_after_decommission(model, say),
        *not_received(model, now, cfg, say),
        *role_order(model, say),
        *expired_moving(model, say),
        *verification_rules(model, verifications, cfg, say),
        *transit_outliers(model, cfg, say),
        *unusual_routes(model, cfg, say),
        *volume_changes(model, cfg, say),
        *quiet_hour_activity(model, cfg, say),
    ]
    if catalogue is not None:
        found.extend(product_mismatch(model, catalogue, say))
    return sorted(found, key=lambda f: (f.kind, f.subject))
