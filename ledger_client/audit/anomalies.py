"""Anomaly findings over a replayed history, and :func:`detect`, the one entry point that
runs every detector.

Each :class:`~ledger_client.audit.findings.Finding` says what was seen and why it is unusual
(members by name, times in each member's own time zone), the threshold it crossed, the
evidence (transactions and scans), the model's inputs when a learned baseline was used, and a
severity. The detectors, each a function of the model returning findings:

- here: a decommissioned pack moved again after an undo; a lot's GTIN outside its
  registrant's company prefix;
- :mod:`~ledger_client.audit.flow_rules`: role order, expired product moving, recalled or
  flagged product shipped, all aware of the return path (reverse distributor, maker) and of
  the flows DSCSA allows (:mod:`~ledger_client.audit.flows`);
- :mod:`~ledger_client.audit.scan_rules`: scans against custody (never commissioned,
  decommissioned, at two places, without custody, lot or expiry mismatch);
- :mod:`~ledger_client.audit.lanes`: late deliveries and shipments not received, against
  each lane's own transit times;
- :mod:`~ledger_client.audit.learned`: lanes new for an owner's goods, volume spikes, work
  outside business hours.

Every threshold is in :class:`~ledger_client.audit.findings.AnomalyConfig`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.describe import Describer, plural
from ledger_client.audit.findings import AnomalyConfig, Finding
from ledger_client.audit.flow_rules import expired_moving, recalled_shipped, role_order
from ledger_client.audit.lanes import WorkingDays, not_received, transit_outliers
from ledger_client.audit.learned import quiet_hour_activity, unusual_routes, volume_changes
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.scan_rules import verification_rules
from ledger_client.audit.scans import VerificationRecord
from ledger_client.events import DecommissionsUndone, ItemsShipped, PacksDecommissioned
from ledger_client.types import ZERO_ADDRESS, DecommissionReason

# ------------------------------------------------------------ rules on the chain's history


def reused_after_decommission(model: RegistryModel, say: Describer) -> list[Finding]:
    """A pack decommissioned, undone, then shipped: possible diversion of dispensed stock."""
    undone = {pid for e in model.events if isinstance(e, DecommissionsUndone) for pid in e.pack_ids}
    out = []
    for pid, p in model.packs.items():
        if pid not in undone:
            continue
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
    days = WorkingDays(model, say, cfg.max_days_off)
    found = [
        *reused_after_decommission(model, say),
        *not_received(model, now, cfg, say, days),
        *role_order(model, cfg, say),
        *expired_moving(model, say),
        *recalled_shipped(model, say),
        *verification_rules(model, verifications, cfg, say),
        *transit_outliers(model, cfg, say, days),
        *unusual_routes(model, cfg, say),
        *volume_changes(model, cfg, say),
        *quiet_hour_activity(model, cfg, say),
    ]
    if catalogue is not None:
        found.extend(product_mismatch(model, catalogue, say))
    return sorted(_reported_once(found), key=lambda f: (f.kind, f.subject))


def _reported_once(found: list[Finding]) -> list[Finding]:
    """Drop the role order and route findings on a shipment that a reuse finding (a pack
    dispensed, undone and shipped on) already names: one incident, one finding."""
    reused = {e["tx"] for f in found if f.kind == "DECOMMISSIONED_REUSED" for e in f.evidence[-1:]}
    return [f for f in found if f.kind not in _EXPLAINED_BY_REUSE or f.subject not in reused]


_EXPLAINED_BY_REUSE = frozenset({"ROLE_ORDER", "UNUSUAL_ROUTE"})
