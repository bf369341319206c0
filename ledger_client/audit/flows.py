"""The supply chain's legitimate flows, as the anomaly detectors know them: members' roles,
a pack's return path, and a pack's custody and standing at any moment of its history.

DSCSA's trading partners move product forward (maker, logistics provider, wholesaler,
dispenser) and back: returns to the supplier, expired, recalled or damaged product to a
reverse distributor (:attr:`~ledger_client.contracts.Role.REVERSE_DISTRIBUTOR`) or the maker
for credit and destruction. Wholesalers balance stock between them, and a dispenser may
transfer to another dispenser for a specific patient's need; these flows are findings only
where a detector says so (:mod:`ledger_client.audit.anomalies`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from ledger_client.audit.model import RegistryModel
from ledger_client.audit.state import Pack
from ledger_client.contracts import Role
from ledger_client.events import (
    DecommissionsUndone,
    ItemsLost,
    ItemsReceived,
    ItemsRefused,
    ItemsShipped,
    LostItemsFound,
    LotRecallRequested,
    LotStatusChanged,
    PacksCommissioned,
    PacksDecommissioned,
    PacksFlagged,
    ShipmentCancelled,
)
from ledger_client.types import LotStatus

# Role bits as plain ints: the detectors test them for every pack of every shipment, and a
# test on the Flag itself builds a Role each time (a third of a detection run, measured).
_DISPENSER = int(Role.DISPENSER)
_REVERSE = int(Role.REVERSE_DISTRIBUTOR)
_LOGISTICS = int(Role.LOGISTICS)
_WHOLESALER = int(Role.WHOLESALER)
#: Roles that make a member a distributor of product (ships on to other trading partners).
_FORWARD = int(Role.MANUFACTURER | Role.REPACKAGER | Role.WHOLESALER | Role.LOGISTICS)
_PRODUCERS = int(Role.MANUFACTURER | Role.REPACKAGER)


def roles(model: RegistryModel, account: str) -> int:
    """The member's role bits (0 for an account that is no member)."""
    m = model.members.get(account)
    return m.roles if m is not None else 0


def is_dispenser_only(model: RegistryModel, account: str) -> bool:
    """True for a member that dispenses and distributes nothing (a pharmacy)."""
    r = roles(model, account)
    return bool(r & _DISPENSER) and not r & (_FORWARD | _REVERSE)


def is_reverse_distributor(model: RegistryModel, account: str) -> bool:
    """True for a member with the reverse distributor role."""
    return bool(roles(model, account) & _REVERSE)


def is_producer(model: RegistryModel, account: str) -> bool:
    """True for a manufacturer or repackager."""
    return bool(roles(model, account) & _PRODUCERS)


def is_logistics(model: RegistryModel, account: str) -> bool:
    """True for a logistics provider (3PL)."""
    return bool(roles(model, account) & _LOGISTICS)


def is_wholesaler(model: RegistryModel, account: str) -> bool:
    """True for a wholesaler."""
    return bool(roles(model, account) & _WHOLESALER)


def trade_role(model: RegistryModel, account: str) -> str:
    """The member's place in the supply chain: producer, logistics, wholesaler, dispenser,
    reverse distributor, or other (regulators, auditors)."""
    r = roles(model, account)
    for bits, name in (
        (_PRODUCERS, "producer"),
        (_LOGISTICS, "logistics"),
        (_WHOLESALER, "wholesaler"),
        (_DISPENSER, "dispenser"),
        (_REVERSE, "reverse distributor"),
    ):
        if r & bits:
            return name
    return "other"


def on_return_path(model: RegistryModel, p: Pack, to: str) -> bool:
    """True when shipping ``p`` to ``to`` takes it back for credit or destruction: to a
    reverse distributor or to the lot's owner (the maker)."""
    return to == p.lot.owner or is_reverse_distributor(model, to)


def distribution_lane(model: RegistryModel, sender: str, to: str) -> bool:
    """True for a lane of forward distribution by the roles of its ends: a producer or
    logistics provider to a wholesaler or logistics provider, a wholesaler to a wholesaler
    or dispenser."""
    a, b = roles(model, sender), roles(model, to)
    if a & (_PRODUCERS | _LOGISTICS) and b & (_WHOLESALER | _LOGISTICS):
        return True
    return bool(a & _WHOLESALER and b & (_WHOLESALER | _DISPENSER))


#: Per model: the history length :func:`shipped_packs` was computed at, and its answer.
_SHIPPED: WeakKeyDictionary[RegistryModel, tuple[int, dict[int, list[bytes]]]] = WeakKeyDictionary()


def shipped_packs(model: RegistryModel) -> dict[int, list[bytes]]:
    """Each shipment's packs: ship event index -> the ids of the packs it moved (loose or in
    its units), in the model's order of packs. Several detectors of one run read it, so it is
    computed once per history length (a model only grows, by appended events)."""
    cached = _SHIPPED.get(model)
    if cached is not None and cached[0] == len(model.events):
        return cached[1]
    events = model.events
    out: dict[int, list[bytes]] = defaultdict(list)
    for pid, p in model.packs.items():
        for i in p.history:
            if isinstance(events[i], ItemsShipped):
                out[i].append(pid)
    _SHIPPED[model] = (len(events), out)
    return out


@dataclass(frozen=True, slots=True)
class Moment:
    """A pack at one moment: who held it, to whom it was travelling (None), whether it was
    decommissioned (and by which event), its flags and whether its lot was recalled or
    quarantined."""

    holder: str | None
    pending_to: str | None
    decommission: int | None
    flags: int
    lot_blocked: bool


class LotStatuses:
    """Each lot's status over time: ``(event index, status)`` from its status events (a
    regulator's recall request quarantines it)."""

    def __init__(self, model: RegistryModel) -> None:
        self._changes: dict[bytes, list[tuple[int, int]]] = defaultdict(list)
        for i, e in enumerate(model.events):
            if isinstance(e, LotStatusChanged):
                self._changes[e.lot_id].append((i, e.status))
            elif isinstance(e, LotRecallRequested):
                self._changes[e.lot_id].append((i, int(LotStatus.QUARANTINED)))

    def changed(self, lid: bytes) -> bool:
        """True when lot ``lid``'s status ever changed (or a recall of it was requested)."""
        return lid in self._changes

    def blocked(self, lid: bytes, before: int) -> int:
        """The lot's status (RECALLED or QUARANTINED) just before event ``before`` when it
        blocks sale, else 0."""
        changes = self._changes.get(lid, [])
        k = bisect_right(changes, (before, -1))
        status = changes[k - 1][1] if k else int(LotStatus.ACTIVE)
        return status if status in (LotStatus.RECALLED, LotStatus.QUARANTINED) else 0


def moment(model: RegistryModel, p: Pack, upto: int, statuses: LotStatuses | None = None) -> Moment:
    """The pack just after the events of its history up to event index ``upto`` (included)."""
    holder: str | None = None
    pending: str | None = None
    decommission: int | None = None
    flags = 0
    for i in p.history:
        if i > upto:
            break
        e = model.events[i]
        match e:
            case PacksCommissioned():
                holder = e.by
            case ItemsShipped():
                holder, pending = e.from_, e.to
            case ItemsReceived():
                holder, pending = e.by, None
            case ShipmentCancelled():
                pending = None
            case ItemsRefused():
                holder, pending = e.by, e.sender
            case ItemsLost():
                pending = None
            case LostItemsFound():
                pending = e.recipient
            case PacksDecommissioned():
                holder, pending, decommission = e.by, None, i
            case DecommissionsUndone():
                decommission = None
            case PacksFlagged():
                flags = e.flags
    blocked = bool(statuses.blocked(p.lot.id, upto + 1)) if statuses is not None else False
    return Moment(holder, pending, decommission, flags, blocked)


def index_at(model: RegistryModel, p: Pack, ts: int) -> int:
    """The index of the last event of ``p``'s history at or before time ``ts`` (-1: none)."""
    last = -1
    for i in p.history:
        if model.events[i].timestamp > ts:
            break
        last = i
    return last


def parties(model: RegistryModel, p: Pack, start: int, end: int) -> set[str]:
    """The members that held ``p`` or had it travelling to them at some moment from time
    ``start`` to time ``end``."""
    out: set[str] = set()
    first = index_at(model, p, start)
    steps = [first] + [i for i in p.history if start < model.events[i].timestamp <= end]
    for i in steps:
        if i < 0:
            continue
        m = moment(model, p, i)
        out.update(x for x in (m.holder, m.pending_to) if x is not None)
    return out
