"""Alerts and shortage signals over a replayed model: expiry, recall reach, days of supply.

Plain functions over :class:`RegistryModel` (and a :class:`Catalogue` where a GTIN, a region
or a member's name is needed), so the gateway can call them on its own replayed model.

Days of supply count the stock a member holds and the stock already travelling to it. The
other holders a short member can turn to are ranked by kind (:data:`HOLDER_KINDS`: wholesaler,
manufacturer, repackager, logistics provider, other dispenser), then same region first, then
most stock; each says which kind it is. A reverse distributor's stock is never an
alternative: it holds product taken out of trade, for destruction or credit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.describe import Describer
from ledger_client.audit.flows import is_reverse_distributor
from ledger_client.audit.history import lot_trace
from ledger_client.audit.model import RegistryModel
from ledger_client.contracts import Role
from ledger_client.types import DecommissionReason, LotStatus, PackStatus

DAY = 86_400
#: The kinds of member holding stock, in the order a member short of a product turns to
#: them: its suppliers' trade first, the maker next, another dispenser last.
HOLDER_KINDS = (
    (Role.WHOLESALER, "wholesaler"),
    (Role.MANUFACTURER, "manufacturer"),
    (Role.REPACKAGER, "repackager"),
    (Role.LOGISTICS, "logistics"),
    (Role.DISPENSER, "dispenser"),
)


def holder_kind(model: RegistryModel, account: str) -> tuple[int, str]:
    """``(rank, kind)`` of a member holding stock: its first role in :data:`HOLDER_KINDS`
    (``other`` last, for a member with none of them)."""
    m = model.members.get(account)
    roles = m.roles if m is not None else 0
    for rank, (role, kind) in enumerate(HOLDER_KINDS):
        if roles & role:
            return rank, kind
    return len(HOLDER_KINDS), "other"


def holdings(model: RegistryModel) -> Iterator[tuple[bytes, str, bool]]:
    """Yield ``(pack id, member, in_transit)`` for every pack held or travelling: neither
    decommissioned nor lost in transit."""
    for pid, p in model.packs.items():
        if p.status == PackStatus.DECOMMISSIONED or model.is_lost(p):
            continue
        member, transit = model.holder(p)
        yield pid, member, transit


def expiring(
    model: RegistryModel,
    now: int,
    days: int,
    member: str | None = None,
    say: Describer | None = None,
) -> list[dict[str, Any]]:
    """Packs in each member's custody (not in transit) whose lot expires within ``days`` of
    ``now`` (already expired included), grouped per member (named by ``say``) and lot,
    soonest first."""
    say = say or Catalogue().describer(model)
    horizon = now + days * DAY
    groups: Counter[tuple[str, bytes]] = Counter()
    for pid, holder, transit in holdings(model):
        if transit or (member is not None and holder != member):
            continue
        lot = model.packs[pid].lot
        if lot.expires_at <= horizon:
            groups[(holder, lot.id)] += 1
    out = []
    for (holder, lid), n in groups.items():
        lot = model.lots[lid]
        out.append(
            {
                "member": holder,
                "member_name": say.name(holder),
                "lot": "0x" + lid.hex(),
                "packs": n,
                "expiry": lot.expiry,
                "expires_at": lot.expires_at,
                "expired": lot.expires_at < now,
                "days_left": round((lot.expires_at - now) / DAY, 2),
            }
        )
    return sorted(out, key=lambda r: (r["expires_at"], r["member"]))


def recall_reach(model: RegistryModel, lid: bytes) -> dict[str, Any]:
    """For a recalled (or any) lot: who holds how many of its packs now, and what is in transit."""
    return lot_trace(model, lid)


def _saleable(
    model: RegistryModel, catalogue: Catalogue, now: int | None
) -> Iterator[tuple[str, str, bool]]:
    """``(member, GTIN, in_transit)`` of every saleable pack: not flagged, lot ACTIVE and not
    expired at ``now``, lot known to the catalogue; held by, or travelling to, ``member``."""
    gtin_of = {lid: g for lid, (g, _) in catalogue.lots.items()}
    for pid, holder, transit in holdings(model):
        p = model.packs[pid]
        if p.flags or p.lot.status != LotStatus.ACTIVE:
            continue
        if now is not None and p.lot.expires_at < now:
            continue
        g = gtin_of.get(p.lot.id)
        if g is not None:
            yield holder, g, transit


def stock_on_hand(
    model: RegistryModel, catalogue: Catalogue, now: int | None = None
) -> dict[tuple[str, str], int]:
    """Saleable packs per ``(member, GTIN)``: held (not in transit), not flagged, lot ACTIVE and
    not expired at ``now``, lot known to the catalogue."""
    return dict(
        Counter((m, g) for m, g, transit in _saleable(model, catalogue, now) if not transit)
    )


def inbound_stock(
    model: RegistryModel, catalogue: Catalogue, now: int | None = None
) -> dict[tuple[str, str], int]:
    """Saleable packs per ``(member, GTIN)`` shipped to the member and not yet received."""
    return dict(Counter((m, g) for m, g, transit in _saleable(model, catalogue, now) if transit))


def dispense_rate(
    model: RegistryModel, catalogue: Catalogue, now: int, window_days: int
) -> dict[tuple[str, str], float]:
    """Packs dispensed per day per ``(member, GTIN)`` over the ``window_days`` before ``now``."""
    since = now - window_days * DAY
    counts: Counter[tuple[str, str]] = Counter()
    gtin_of = {lid: g for lid, (g, _) in catalogue.lots.items()}
    for p in model.packs.values():
        dispensed = (
            p.status == PackStatus.DECOMMISSIONED and p.reason == DecommissionReason.DISPENSED
        )
        if dispensed and since < p.decommissioned_at <= now:
            g = gtin_of.get(p.lot.id)
            if g is not None:
                counts[(p.custodian, g)] += 1
    return {k: v / window_days for k, v in counts.items()}


@dataclass(frozen=True)
class ShortageSignal:
    """Days of supply of one GTIN at one member (its stock and the stock travelling to it),
    with the other holders it can turn to, ranked by kind."""

    member: str
    name: str
    region: str
    gtin: str
    stock: int
    inbound: int
    dispensed_per_day: float
    days_of_supply: float
    alert: bool
    alternatives: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return asdict(self)


def shortage(
    model: RegistryModel,
    catalogue: Catalogue,
    now: int,
    window_days: int = 30,
    threshold_days: float = 7.0,
    alerts_only: bool = True,
) -> list[ShortageSignal]:
    """Days of supply ((stock on hand + stock in transit to the member) / dispense rate) per
    member and GTIN; an alert below ``threshold_days`` lists the other members holding the
    GTIN with their kind (reverse distributors left out), ranked by kind
    (:data:`HOLDER_KINDS`), then same region first, then most stock."""
    say = catalogue.describer(model)
    stock = stock_on_hand(model, catalogue, now)
    inbound = inbound_stock(model, catalogue, now)
    rate = dispense_rate(model, catalogue, now, window_days)
    holders: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (member, g), n in stock.items():
        if not is_reverse_distributor(model, member):
            holders[g].append((member, n))
    signals = []
    for (member, g), per_day in sorted(rate.items()):
        on_hand, coming = stock.get((member, g), 0), inbound.get((member, g), 0)
        days = (on_hand + coming) / per_day if per_day else float("inf")
        alert = days < threshold_days
        if alerts_only and not alert:
            continue
        region = catalogue.region(member)
        others = sorted(
            (m for m in holders[g] if m[0] != member),
            key=lambda m: (
                holder_kind(model, m[0])[0],
                catalogue.region(m[0]) != region,
                -m[1],
                m[0],
            ),
        )
        alternatives = [
            {
                "member": m,
                "name": say.name(m),
                "kind": holder_kind(model, m)[1],
                "region": catalogue.region(m),
                "stock": n,
            }
            for m, n in others
        ]
        signals.append(
            ShortageSignal(
                member,
                say.name(member),
                region,
                g,
                on_hand,
                coming,
                round(per_day, 3),
                round(days, 2),
                alert,
                alternatives,
            )
        )
    return signals


def regional_supply(
    model: RegistryModel, catalogue: Catalogue, now: int, window_days: int = 30
) -> list[dict[str, Any]]:
    """Stock, dispense rate and days of supply per ``(region, GTIN)``."""
    stock: Counter[tuple[str, str]] = Counter()
    rate: dict[tuple[str, str], float] = defaultdict(float)
    for (m, g), n in stock_on_hand(model, catalogue, now).items():
        stock[(catalogue.region(m), g)] += n
    for (m, g), r in dispense_rate(model, catalogue, now, window_days).items():
        rate[(catalogue.region(m), g)] += r
    out = []
    for key in sorted(set(stock) | set(rate)):
        r = rate[key]
        out.append(
            {
                "region": key[0],
                "gtin": key[1],
                "stock": stock[key],
                "dispensed_per_day": round(r, 3),
                "days_of_supply": round(stock[key] / r, 2) if r else None,
            }
        )
    return out
