"""Anomaly rules on the flows of product between roles (:mod:`ledger_client.audit.flows`).

- ``ROLE_ORDER``: a dispenser ships only back to its supplier, to the return path (reverse
  distributor, maker), or to another dispenser for a patient's need while its transfers
  stay under the de-minimis share of what it dispenses; a reverse distributor ships only to
  the maker or another reverse distributor.
- ``EXPIRED_MOVING``: expired product shipped or received anywhere but on its return path.
- ``RECALLED_SHIPPED``: product of a recalled or quarantined lot, or a flagged pack, shipped
  anywhere but on its return path.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict

from ledger_client.audit.describe import Describer, expiry_text, plural
from ledger_client.audit.findings import DAY, AnomalyConfig, Finding
from ledger_client.audit.flows import (
    LotStatuses,
    is_dispenser_only,
    is_reverse_distributor,
    on_return_path,
    shipped_packs,
)
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.state import Pack
from ledger_client.events import (
    ItemsReceived,
    ItemsShipped,
    PacksDecommissioned,
    PacksFlagged,
    actor,
)
from ledger_client.types import DecommissionReason, LotStatus, PackFlag


def _supplier(model: RegistryModel, history: list[int], before: int) -> int | None:
    """The index of the last shipment before event ``before`` in a pack's ``history``."""
    k = history.index(before)
    return next(
        (j for j in reversed(history[:k]) if isinstance(model.events[j], ItemsShipped)), None
    )


def _dispensed(model: RegistryModel) -> dict[str, tuple[list[int], list[int]]]:
    """Per member, the times of its dispensing events and the running count of packs."""
    out: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for e in model.events:
        if isinstance(e, PacksDecommissioned) and e.reason == DecommissionReason.DISPENSED:
            times, totals = out[e.by]
            times.append(e.timestamp)
            totals.append((totals[-1] if totals else 0) + len(e.pack_ids))
    return out


def _count_between(series: tuple[list[int], list[int]], start: int, end: int) -> int:
    times, totals = series
    hi, lo = bisect_right(times, end), bisect_left(times, start)
    return (totals[hi - 1] if hi else 0) - (totals[lo - 1] if lo else 0)


def role_order(model: RegistryModel, cfg: AnomalyConfig, say: Describer) -> list[Finding]:
    """Dispensers and reverse distributors shipping outside their flows."""
    per_ship: dict[int, list[bytes]] = {}
    for i, pids in shipped_packs(model).items():
        sender = model.events[i].from_  # type: ignore[attr-defined]
        if is_dispenser_only(model, sender) or is_reverse_distributor(model, sender):
            per_ship[i] = pids
    dispensed = _dispensed(model)
    transfers: dict[str, list[tuple[int, int]]] = defaultdict(list)  # (time, packs)
    out = []
    for i, pids in sorted(per_ship.items()):
        ship: ItemsShipped = model.events[i]  # type: ignore[assignment]
        if is_reverse_distributor(model, ship.from_):
            bad = [
                pid
                for pid in pids
                if ship.to != model.packs[pid].lot.owner
                and not is_reverse_distributor(model, ship.to)
            ]
            if bad:
                out.append(_reverse_onward(model, i, ship, bad, say))
            continue
        if is_dispenser_only(model, ship.to):
            transfers[ship.from_].append((ship.timestamp, len(pids)))
            found = _too_many_transfers(model, i, ship, transfers[ship.from_], dispensed, cfg, say)
            if found is not None:
                out.append(found)
            continue
        bad_packs: list[tuple[bytes, int | None]] = []
        for pid in pids:
            p = model.packs[pid]
            if on_return_path(model, p, ship.to):
                continue
            j = _supplier(model, p.history, i)
            supplier = model.events[j] if j is not None else None
            if not isinstance(supplier, ItemsShipped) or supplier.from_ != ship.to:
                bad_packs.append((pid, j))
        if bad_packs:
            out.append(_onward(model, i, ship, bad_packs, say))
    return out


def _onward(
    model: RegistryModel,
    i: int,
    ship: ItemsShipped,
    bad: list[tuple[bytes, int | None]],
    say: Describer,
) -> Finding:
    deliveries = sorted({j for _, j in bad if j is not None})
    suppliers = sorted(
        {s.from_ for j in deliveries if isinstance(s := model.events[j], ItemsShipped)}
    )
    supplied = f" (supplied by {', '.join(say.name(s) for s in suppliers)})" if suppliers else ""
    return Finding(
        "ROLE_ORDER",
        "HIGH",
        "0x" + ship.tx_hash.hex(),
        f"dispenser {say.name(ship.from_)} shipped {plural(len(bad), 'pack')} to "
        f"{say.name(ship.to)} on {say.when(ship.timestamp, ship.from_)}, which did not supply "
        f"them{supplied}",
        "dispensers end the supply chain; they ship back to their supplier, to a reverse "
        "distributor or the maker, or to another dispenser for a patient",
        threshold="a dispenser ships a pack only to the member that supplied it, a reverse "
        "distributor, the maker or another dispenser",
        evidence=[say.event(i), *(say.event(j) for j in deliveries[:5])],
        inputs={"packs": ["0x" + p.hex() for p, _ in bad[:20]], "suppliers": suppliers or ["none"]},
    )


def _reverse_onward(
    model: RegistryModel, i: int, ship: ItemsShipped, bad: list[bytes], say: Describer
) -> Finding:
    return Finding(
        "ROLE_ORDER",
        "HIGH",
        "0x" + ship.tx_hash.hex(),
        f"reverse distributor {say.name(ship.from_)} shipped {plural(len(bad), 'pack')} to "
        f"{say.name(ship.to)} on {say.when(ship.timestamp, ship.from_)}",
        "a reverse distributor takes product out of the supply chain: it destroys it or "
        "returns it to its maker for credit",
        threshold="a reverse distributor ships a pack only to its maker or another reverse "
        "distributor",
        evidence=[say.event(i)],
        inputs={"packs": ["0x" + p.hex() for p in bad[:20]]},
    )


def _too_many_transfers(
    model: RegistryModel,
    i: int,
    ship: ItemsShipped,
    sent: list[tuple[int, int]],
    dispensed: dict[str, tuple[list[int], list[int]]],
    cfg: AnomalyConfig,
    say: Describer,
) -> Finding | None:
    """A dispenser-to-dispenser transfer, a finding when it carries more packs than a
    patient's need (``patient_transfer_max_packs``) or the sender's transfers over the last
    ``dispenser_transfer_days`` exceed the de-minimis share of its dispensing."""
    start = ship.timestamp - cfg.dispenser_transfer_days * DAY
    small = cfg.patient_transfer_max_packs
    moved = sum(n for t, n in sent if t > start and n <= small)  # the large are findings
    own = _count_between(dispensed.get(ship.from_, ([], [])), start, ship.timestamp)
    allowed = max(cfg.dispenser_transfer_min_packs, cfg.dispenser_transfer_share * own)
    packs = sent[-1][1]
    if packs <= small and moved <= allowed:
        return None
    days = cfg.dispenser_transfer_days
    return Finding(
        "ROLE_ORDER",
        "MEDIUM",
        "0x" + ship.tx_hash.hex(),
        f"dispenser {say.name(ship.from_)} transferred {plural(packs, 'pack')} to dispenser "
        f"{say.name(ship.to)} on {say.when(ship.timestamp, ship.from_)}: {moved} packs to "
        f"other dispensers in {days} days, against {own} it dispensed",
        "a dispenser may transfer to another for a specific patient's need; transfers on "
        "this scale are wholesale distribution, which needs a wholesaler's licence",
        threshold=f"a transfer to another dispenser of at most "
        f"{plural(cfg.patient_transfer_max_packs, 'pack')}, and transfers over {days} days of "
        f"at most {cfg.dispenser_transfer_share:.0%} of the packs dispensed in them (at least "
        f"{cfg.dispenser_transfer_min_packs})",
        evidence=[say.event(i)],
        inputs={
            "packs": packs,
            "transferred_packs": moved,
            "dispensed_packs": own,
            "allowed": allowed,
        },
    )


def expired_moving(model: RegistryModel, say: Describer) -> list[Finding]:
    """Shipments and receipts of packs whose lot had expired, not on their return path."""
    per_event: Counter[int] = Counter()
    lot_of: dict[int, Pack] = {}
    events = model.events
    for p in model.packs.values():
        if not p.history or events[p.history[-1]].timestamp <= p.lot.expires_at:
            continue  # nothing of its history came after its lot's expiry
        for i in p.history:
            e = events[i]
            if e.timestamp <= p.lot.expires_at:
                continue
            if isinstance(e, ItemsShipped):
                dest = e.to
            elif isinstance(e, ItemsReceived):
                dest = e.by
            else:
                continue
            if on_return_path(model, p, dest):
                continue
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
                f"{plural(n, 'pack')} of {say.lot(lot.id)}, expired {expiry_text(lot.expiry)}, "
                f"{moved} on {say.when(e.timestamp, by)}",
                "expired product may only go to destruction (a reverse distributor or its "
                "maker), not on through the supply chain",
                threshold="no shipment or receipt after the lot's expiry "
                f"({say.when(lot.expires_at, by)}) except to a reverse distributor or the maker",
                evidence=[say.event(i)],
                inputs={"packs": n},
            )
        )
    return out


def recalled_shipped(model: RegistryModel, say: Describer) -> list[Finding]:
    """Shipments of packs of a recalled or quarantined lot, or flagged packs, anywhere but
    their return path."""
    statuses = LotStatuses(model)
    flagged = {pid for e in model.events if isinstance(e, PacksFlagged) for pid in e.pack_ids}
    per_ship: dict[int, list[tuple[bytes, str]]] = defaultdict(list)
    for pid, p in model.packs.items():
        if pid not in flagged and not statuses.changed(p.lot.id):
            continue  # never flagged, its lot never recalled nor quarantined
        flags = 0
        for i in p.history:
            e = model.events[i]
            if isinstance(e, PacksFlagged):
                flags = e.flags
            if not isinstance(e, ItemsShipped) or on_return_path(model, p, e.to):
                continue
            lot = statuses.blocked(p.lot.id, i)
            if lot:
                per_ship[i].append((pid, f"lot {LotStatus(lot).name.lower()}"))
            elif flags:
                per_ship[i].append((pid, f"pack flagged {PackFlag(flags).name}"))
    out = []
    for i, rows in sorted(per_ship.items()):
        ship: ItemsShipped = model.events[i]  # type: ignore[assignment]
        why = sorted({w for _, w in rows})
        out.append(
            Finding(
                "RECALLED_SHIPPED",
                "HIGH",
                "0x" + ship.tx_hash.hex(),
                f"{say.name(ship.from_)} shipped {plural(len(rows), 'pack')} ({', '.join(why)}) to "
                f"{say.name(ship.to)} on {say.when(ship.timestamp, ship.from_)}",
                "recalled, quarantined or flagged product leaves trade: it goes back to a "
                "reverse distributor or its maker only",
                threshold="a pack whose lot is recalled or quarantined, or which is flagged, "
                "ships only to a reverse distributor or its maker",
                evidence=[say.event(i)],
                inputs={"packs": ["0x" + pid.hex() for pid, _ in rows[:20]], "standing": why},
            )
        )
    return out
