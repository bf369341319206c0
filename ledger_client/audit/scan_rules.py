"""Anomaly rules over off-chain scans checked against the chain's custody.

Each scan of a pack is read against the pack's history at the scan's time
(:func:`~ledger_client.audit.flows.moment`):

- a serial never commissioned, or scanned before it was: ``UNCOMMISSIONED_SCAN``;
- a pack decommissioned at the time: ``DECOMMISSIONED_VERIFIED``, except the dispensing
  member's own re-scan within ``rescan_seconds`` and its scans of a decommission it undid;
- a pack neither held by, nor travelling to, the scanning member (within
  ``custody_slack_seconds``): ``SCAN_WITHOUT_CUSTODY`` (a clone, or diverted stock scanned
  where the chain says it never went), and ``VERIFIED_TWO_PLACES`` too when the pack was
  scanned at another place, at any time apart (one of the two is a copy): two facts, each
  with its own evidence. A saleable return verified at the wholesaler and resold is scanned
  at each holder in turn: no finding;
- a scanned lot or expiry that is not the commissioned one: ``PRODUCT_MISMATCH``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ledger_client.audit.describe import Describer
from ledger_client.audit.findings import AnomalyConfig, Finding
from ledger_client.audit.flows import index_at, moment, parties
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.scans import VerificationRecord
from ledger_client.audit.state import Pack
from ledger_client.events import DecommissionsUndone
from ledger_client.gs1.dates import same_day
from ledger_client.types import DecommissionReason


def _locations(model: RegistryModel, say: Describer) -> dict[str, str]:
    """A scan's location (a member's address in any case, or its name in the master data)
    to the member's account."""
    out = {a.lower(): a for a in model.members}
    for account, entry in say.catalogue.members.items():
        if entry.get("name") and account in model.members:
            out.setdefault(str(entry["name"]).lower(), account)
    return out


def _undone_later(model: RegistryModel, p: Pack, dec: int) -> bool:
    """True when the decommission at event ``dec`` was undone later."""
    return any(i > dec and isinstance(model.events[i], DecommissionsUndone) for i in p.history)


def verification_rules(
    model: RegistryModel,
    records: Iterable[VerificationRecord],
    cfg: AnomalyConfig,
    say: Describer,
) -> list[Finding]:
    """Scans of packs never commissioned, decommissioned, elsewhere than their custody, or
    with a lot or expiry other than the commissioned one."""
    where = _locations(model, say)
    by_pack: dict[bytes, list[VerificationRecord]] = defaultdict(list)
    for r in records:
        by_pack[model.pack_id(r.gtin, r.serial)].append(r)
    out: list[Finding] = []
    for pid, scans in by_pack.items():
        scans.sort(key=lambda r: r.time)
        p = model.packs.get(pid)
        subject = "0x" + pid.hex()
        early = scans if p is None else [r for r in scans if r.time < _commissioned_at(model, p)]
        if early:
            out.append(_uncommissioned(model, p, early, subject, say))
        if p is None:
            continue
        later = scans[len(early) :]
        out.extend(_custody_findings(model, p, later, where, cfg, say, subject))
        out.extend(_mismatch(model, p, later, say, subject))
    return out


def _commissioned_at(model: RegistryModel, p: Pack) -> int:
    return model.events[p.history[0]].timestamp


def _uncommissioned(
    model: RegistryModel,
    p: Pack | None,
    scans: list[VerificationRecord],
    subject: str,
    say: Describer,
) -> Finding:
    first = scans[0]
    code = f"GTIN {first.gtin} serial {first.serial}"
    at = f"at {say.name(first.location)} on {say.when(first.time, first.location)}"
    if p is None:
        seen = f"{code} scanned {at}: no member ever commissioned this serial"
        evidence = [say.scan(r) for r in scans[:5]]
    else:
        commissioned = model.events[p.history[0]]
        seen = (
            f"{code} scanned {at}, before it was commissioned on "
            f"{say.when(commissioned.timestamp, commissioned.by)}"  # type: ignore[attr-defined]
        )
        evidence = [*(say.scan(r) for r in scans[:5]), say.event(p.history[0])]
    return Finding(
        "UNCOMMISSIONED_SCAN",
        "CRITICAL",
        subject,
        seen,
        "a genuine pack is commissioned by its maker before anyone holds it: the code was "
        "printed by someone else (counterfeit) or copied",
        threshold="every scanned serial was commissioned before the scan",
        evidence=evidence,
        inputs={"scans": len(scans)},
    )


def _custody_findings(
    model: RegistryModel,
    p: Pack,
    scans: list[VerificationRecord],
    where: dict[str, str],
    cfg: AnomalyConfig,
    say: Describer,
    subject: str,
) -> list[Finding]:
    out: list[Finding] = []
    late: list[tuple[VerificationRecord, int]] = []
    held: list[VerificationRecord] = []
    stray: list[VerificationRecord] = []
    slack = cfg.custody_slack_seconds
    for r in scans:
        member = where.get(r.location.lower())
        at = moment(model, p, index_at(model, p, r.time))
        dec = at.decommission
        if dec is not None:
            d = model.events[dec]
            own = member == at.holder
            if own and (r.time - d.timestamp <= cfg.rescan_seconds or _undone_later(model, p, dec)):
                held.append(r)
            else:
                late.append((r, dec))
        elif member is not None and member in parties(model, p, r.time - slack, r.time + slack):
            held.append(r)
        else:
            stray.append(r)
    if late:
        out.append(_decommissioned_verified(model, p, late, cfg, say, subject))
    if not stray:
        return out
    out.append(_without_custody(model, p, stray, cfg, say, subject))
    first = stray[0]
    elsewhere = [r for r in held + stray if r.location.lower() != first.location.lower()]
    if elsewhere:
        other = min(elsewhere, key=lambda r: abs(r.time - first.time))
        out.append(_two_places(model, p, first, other, cfg, say, subject))
    return out


def _decommissioned_verified(
    model: RegistryModel,
    p: Pack,
    late: list[tuple[VerificationRecord, int]],
    cfg: AnomalyConfig,
    say: Describer,
    subject: str,
) -> Finding:
    r, dec = late[0]
    d = model.events[dec]
    by = d.by  # type: ignore[attr-defined]
    reason = DecommissionReason(d.reason).name  # type: ignore[attr-defined]
    return Finding(
        "DECOMMISSIONED_VERIFIED",
        "CRITICAL",
        subject,
        f"pack decommissioned ({reason}) by {say.name(by)} on {say.when(d.timestamp, by)}, "
        f"then scanned at {say.name(r.location)} on {say.when(r.time, r.location)}",
        "a dispensed or destroyed pack is never in hand again: possible clone",
        threshold="no scan of a pack while it is decommissioned, except the decommissioning "
        f"member's own within {cfg.rescan_seconds} s, or before it undid the decommission",
        evidence=[say.event(dec), *(say.scan(s) for s, _ in late[:5])],
        inputs={"scans": len(late)},
    )


def _holder_words(model: RegistryModel, p: Pack, ts: int, say: Describer) -> str:
    at = moment(model, p, index_at(model, p, ts))
    if at.pending_to is not None:
        return f"in transit from {say.name(at.holder)} to {say.name(at.pending_to)}"
    return f"held by {say.name(at.holder)}"


def _two_places(
    model: RegistryModel,
    p: Pack,
    a: VerificationRecord,
    b: VerificationRecord,
    cfg: AnomalyConfig,
    say: Describer,
    subject: str,
) -> Finding:
    first, second = sorted((a, b), key=lambda r: r.time)
    hours = (second.time - first.time) / 3600
    window = cfg.two_places_window / 3600
    return Finding(
        "VERIFIED_TWO_PLACES",
        "HIGH",
        subject,
        f"pack scanned at {say.name(first.location)} on "
        f"{say.when(first.time, first.location)} and at {say.name(second.location)} on "
        f"{say.when(second.time, second.location)}, {hours:.1f} h apart "
        f"({'within' if hours <= window else 'beyond'} {window:g} h); at the scan at "
        f"{say.name(a.location)} the pack was {_holder_words(model, p, a.time, say)}",
        "one physical pack cannot be in two places and no shipment on the chain took it "
        "from one to the other: at least one is a copy",
        threshold="scans at two places are explained by the pack's custody (held by, or "
        f"travelling to, each place within {cfg.custody_slack_seconds} s of its scan)",
        evidence=[
            say.scan(first),
            say.scan(second),
            say.event(max(index_at(model, p, a.time), p.history[0])),
        ],
        inputs={"hours_apart": round(hours, 2)},
    )


def _without_custody(
    model: RegistryModel,
    p: Pack,
    stray: list[VerificationRecord],
    cfg: AnomalyConfig,
    say: Describer,
    subject: str,
) -> Finding:
    r = stray[0]
    return Finding(
        "SCAN_WITHOUT_CUSTODY",
        "HIGH",
        subject,
        f"pack scanned at {say.name(r.location)} on {say.when(r.time, r.location)} while "
        f"{_holder_words(model, p, r.time, say)}",
        "a member scans what it holds or is receiving: a scan elsewhere is of a copy, or of "
        "stock diverted off the chain's record",
        threshold="a scan is at the pack's holder or the member it is travelling to (within "
        f"{cfg.custody_slack_seconds} s)",
        evidence=[
            *(say.scan(s) for s in stray[:5]),
            say.event(max(index_at(model, p, r.time), p.history[0])),
        ],
        inputs={"scans": len(stray)},
    )


def _mismatch(
    model: RegistryModel,
    p: Pack,
    scans: list[VerificationRecord],
    say: Describer,
    subject: str,
) -> list[Finding]:
    clear = say.catalogue.lots.get(p.lot.id)
    for r in scans:
        where = f"at {say.name(r.location)} on {say.when(r.time, r.location)}"
        if r.lot is not None and model.lot_tag(r.gtin, r.serial, r.lot) != p.lot_tag:
            commissioned = f"lot {clear[1]}" if clear else "the lot"
            return [
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
            ]
        if r.expiry is not None and not same_day(r.expiry, p.lot.expiry):
            return [
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
            ]
    return []
