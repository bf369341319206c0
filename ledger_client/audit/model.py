"""An independent, pure-Python model of the registry, rebuilt from its events (a
:class:`~ledger_client.events.Projection` of the stream).

Mirrors contracts/SerialRegistry.sol (and the parts of Consortium.sol it consults): lots,
packs, logistic units with custody resolved through their top unit or their nearest
dissolved unit, shipments cancelled, refused, lost and found, decommission and undo, flags;
and contracts/ExceptionRegistry.sol (:mod:`ledger_client.audit.exceptions`). Every event is
checked against the rule the contract enforced before emitting it; an event that breaks a
rule is recorded as a :class:`~ledger_client.audit.state.RuleViolation` (the log set is
incomplete or altered) and then applied anyway, because the chain says it happened.

Records are keyed by the ids the events name. A record's id is scoped to the member that
created it, so a creating event names the creator's own lot and unit (``NotOwnRecord``
otherwise), and :meth:`RegistryModel.verify` looks a printed code up under its company
prefix's owner only. Flags and lot statuses carry the authority that set them (council,
regulator, owner, holder); lowering needs that authority or a higher one, and a regulator's
recall of another member's lot is a request (the lot is quarantined) until a second
regulator confirms it. The undo deadline is fixed when a pack is decommissioned.

Per pack the model keeps the indices of every event that touched it, directly or through a
unit it sat in (``Pack.history``), so custody chains need no second pass.

It stays one module (over 500 lines) because it is one state machine: every lot, unit and
pack handler below moves custody, and custody of a pack resolves through the units it sits in
(packing, unpacking, dissolving, shipping and receiving units all change what a pack's
handlers see), as in SerialRegistry.sol, which this module follows handler by handler. What
is separable lives apart: the state classes and constants in
:mod:`ledger_client.audit.state`, the consortium's members, prefixes, parameters, proposals and
products in :mod:`ledger_client.audit.consortium` (the base class), the lots with their
statuses in :mod:`ledger_client.audit.lots` and the exceptions between trading partners in
:mod:`ledger_client.audit.exceptions` (the next ones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any, TypeVar

from ledger_client import events as ev
from ledger_client.audit.exceptions import ExceptionModel
from ledger_client.audit.lots import NO_LOT, LotModel
from ledger_client.audit.state import (
    ACTIVE,
    ALL_ROLES,
    DECOMMISSIONED,
    FLAG_MASK,
    IN_TRANSIT,
    LOST,
    PRODUCERS,
    REGULATOR,
    SUPPLY_CHAIN,
    U_ACTIVE,
    U_DISSOLVED,
    U_LOST,
    U_TRANSIT,
    UNCONDITIONAL,
    UNDOABLE_REASONS,
    ZERO32,
    Lot,
    Member,
    Pack,
    Unit,
)
from ledger_client.contracts import Role
from ledger_client.events import handlers, handles
from ledger_client.gs1.dates import same_day
from ledger_client.ids import LOT_TAG_BYTES, lot_tag, pack_hash, record_id, split_lot_tags
from ledger_client.rules import MAX_LEVEL, blocking_status, top_holder
from ledger_client.types import (
    ZERO_ADDRESS,
    Authority,
    DecommissionReason,
    LotStatus,
    PackFlag,
    VerificationStatus,
)

#: A unit's parent, as :func:`top_holder` walks up.
_PARENT = attrgetter("parent")
#: A unit's packs, and its units (what :meth:`RegistryModel._take_out` takes from).
_PACKS: Callable[[Unit], dict[bytes, None]] = attrgetter("packs")
_UNITS: Callable[[Unit], dict[bytes, None]] = attrgetter("units")
#: A pack or a unit, as :meth:`RegistryModel._find` looks it up.
_R = TypeVar("_R", Pack, Unit)
_NO_PACK = (0, 0, 0, 0, 0, 0, 0, ZERO32, 0, ZERO_ADDRESS, ZERO_ADDRESS, False, False, bytes(3))
#: The status a pack or unit answers a wrong-status check with (``_requireActive``).
_NOT_ACTIVE = {IN_TRANSIT: "InTransit", LOST: "Lost"}
#: What the custody events of a shipment leg change: (the item status before, after).
_ShipmentLeg = ev.ShipmentCancelled | ev.ItemsRefused | ev.ItemsLost | ev.LostItemsFound


class RegistryModel(LotModel, ExceptionModel):
    """The registry's state rebuilt from events; feed events with :meth:`apply`.

    ``council`` is the consortium's address (:func:`~ledger_client.audit.replay.replay_logs`
    finds it in the logs): the registry events it causes are the council's.
    """

    def __init__(self, council: str = ZERO_ADDRESS) -> None:
        super().__init__(council)
        self.units: dict[bytes, Unit] = {}
        self.packs: dict[bytes, Pack] = {}
        #: Ids named by events but never created (looked up on chain by the comparison).
        self.unknown_ids: dict[bytes, None] = {}
        self.pack_ops = 0
        self._handlers = handlers(self)

    # ------------------------------------------------------------ feeding

    def apply(self, event: ev.ChainEvent) -> None:
        """Apply one event (events must come in chain order)."""
        index = len(self.events)
        self.events.append(event)
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(index, event)

    def apply_all(self, events: Iterable[ev.ChainEvent]) -> None:
        """Apply ``events`` in order."""
        for e in events:
            self.apply(e)

    @handles(ev.MemberKeyRotated)
    def _member_key_rotated(self, i: int, e: ev.MemberKeyRotated) -> None:
        """The member moves to its new key and so do the records naming its account: the
        contract keeps them by member index, and its views answer with the index's account."""
        super()._member_key_rotated(i, e)
        old, new = e.account, e.new_account
        for lot in self.lots.values():
            lot.owner = new if lot.owner == old else lot.owner
            if lot.recall_requested_by == old:
                lot.recall_requested_by = new
        for unit in self.units.values():
            unit.owner = new if unit.owner == old else unit.owner
            unit.custodian = new if unit.custodian == old else unit.custodian
            unit.pending_to = new if unit.pending_to == old else unit.pending_to
        for pack in self.packs.values():
            pack.custodian = new if pack.custodian == old else pack.custodian
            pack.pending_to = new if pack.pending_to == old else pack.pending_to

    # ------------------------------------------------------------ units

    def _new_unit(self, unit_id: bytes, me: str, level: int) -> Unit:
        unit = Unit(unit_id, len(self.units) + 1, me, me, ZERO_ADDRESS, None, U_ACTIVE, level)
        self.units[unit_id] = unit
        return unit

    def _loose_unit(self, i: int, unit: Unit, me: str) -> None:
        """Check ``unit`` is ACTIVE, held by ``me`` and loose; detach it from a dissolved parent."""
        if unit.status == U_DISSOLVED:
            self._violation(i, "UnitDissolved", unit.id)
        elif unit.status in _NOT_ACTIVE:
            self._violation(i, _NOT_ACTIVE[unit.status], unit.id)
        parent = unit.parent
        if parent is not None:
            if parent.status != U_DISSOLVED:
                self._violation(i, "StillPacked", unit.id)
            parent.units.pop(unit.id, None)
            unit.parent, unit.custodian = None, parent.custodian
        if unit.custodian != me:
            self._violation(i, "NotCustodian", unit.id)

    def _container_for(self, i: int, unit_id: bytes, me: str, level: int) -> Unit:
        if level > MAX_LEVEL:
            self._violation(i, "NestingTooDeep", unit_id)
        unit = self.units.get(unit_id)
        if unit is None:
            return self._new_unit(unit_id, me, level)
        if unit.owner != me:
            self._violation(i, "NotOwnRecord", unit_id)
        self._loose_unit(i, unit, me)
        if unit.level < level:
            unit.level = level
        return unit

    def _find(self, i: int, records: dict[bytes, _R], record_id: bytes, rule: str) -> _R | None:
        """``records[record_id]``; None, a violation of ``rule``, if no event created it."""
        record = records.get(record_id)
        if record is None:
            self._violation(i, rule, record_id)
            self.unknown_ids[record_id] = None
        return record

    def _known_units(self, i: int, ids: Iterable[bytes]) -> Iterator[Unit]:
        """Each unit of ``ids`` the model knows; an unknown one is a violation."""
        units = self.units
        for uid in ids:
            unit = self._find(i, units, uid, "UnknownUnit")
            if unit is not None:
                yield unit

    def _touch_unit(self, unit: Unit, i: int) -> None:
        """Record event ``i`` in the history of every pack inside ``unit`` (custody moved)."""
        stack = [unit]
        n = 0
        packs = self.packs
        while stack:
            u = stack.pop()
            for pid in u.packs:
                packs[pid].history.append(i)
            n += len(u.packs)
            stack.extend(self.units[c] for c in u.units)
        self.pack_ops += n

    # ------------------------------------------------------------ packs

    def _known_packs(self, i: int, ids: Iterable[bytes]) -> Iterator[tuple[bytes, Pack]]:
        """``(id, pack)`` of each pack of ``ids`` the model knows; an unknown one is a violation."""
        packs = self.packs
        for pid in ids:
            p = self._find(i, packs, pid, "UnknownPack")
            if p is not None:
                yield pid, p

    def _require_active(self, i: int, pid: bytes, p: Pack) -> None:
        if p.status != ACTIVE:
            self._violation(i, _NOT_ACTIVE.get(p.status, "PackDecommissioned"), pid)

    def _loose_pack(self, i: int, pid: bytes, p: Pack, me: str) -> None:
        """Check pack is ACTIVE, held by ``me`` and loose; detach it from a dissolved unit."""
        self._require_active(i, pid, p)
        parent = p.parent
        if parent is not None:
            if parent.status != U_DISSOLVED:
                self._violation(i, "StillPacked", pid)
            parent.packs.pop(pid, None)
            p.parent, p.custodian = None, parent.custodian
        if p.custodian != me:
            self._violation(i, "NotCustodian", pid)

    def _lot_tags(self, i: int, e: ev.PacksCommissioned) -> list[bytes]:
        """The lot tag of each of ``e``'s packs; a violation (and zero tags) when the event
        does not carry one 3-byte tag per pack, as the contract always does."""
        n = len(e.pack_ids)
        if len(e.lot_tags) != LOT_TAG_BYTES * n:
            self._violation(i, "LotTagsMismatch", e.lot_id)
            return [bytes(LOT_TAG_BYTES)] * n
        return split_lot_tags(e.lot_tags)

    @handles(ev.PacksCommissioned)
    def _commissioned(self, i: int, e: ev.PacksCommissioned) -> None:
        me, now = e.by, e.timestamp
        self._require_member(i, me, PRODUCERS, now)
        ids = e.pack_ids
        if not ids:
            self._violation(i, "EmptyBatch", me)
        lot = self.lots.get(e.lot_id)
        if lot is None:
            self._violation(i, "UnknownLot", e.lot_id)
            lot = self.lots[e.lot_id] = Lot(e.lot_id, len(self.lots) + 1, me, 0, 0, 1, i)
        if lot.owner != me:
            self._violation(i, "NotOwnRecord", e.lot_id)
        if lot.status != LotStatus.ACTIVE:
            self._violation(i, "LotNotActive", e.lot_id)
        unit_id = e.unit_id
        parent = None if unit_id == ZERO32 else self._container_for(i, unit_id, me, 1)
        custodian = me if parent is None else ZERO_ADDRESS
        tags = self._lot_tags(i, e)
        packs = self.packs
        lot_packs = lot.packs
        for pid, tag in zip(ids, tags, strict=True):
            if pid in packs:
                self._violation(i, "PackExists", pid)
                continue
            packs[pid] = Pack(
                custodian, ZERO_ADDRESS, lot, parent, ACTIVE, lot_tag=tag, history=[i]
            )
            lot_packs.append(pid)
        if parent is not None:
            parent.packs.update(dict.fromkeys(ids))
            parent.history.append(i)
        self.pack_ops += len(ids)

    def _batch_by(self, i: int, e: ev.ItemsPacked | ev.ItemsReceived) -> str:
        """The member moving batch ``e``: it must be in the supply chain, and the batch must
        name a pack or a unit."""
        me = e.by
        self._require_member(i, me, SUPPLY_CHAIN, e.timestamp)
        if not e.pack_ids and not e.unit_ids:
            self._violation(i, "EmptyBatch", me)
        return me

    @handles(ev.ItemsPacked)
    def _packed(self, i: int, e: ev.ItemsPacked) -> None:
        me = self._batch_by(i, e)
        pack_ids, unit_ids = e.pack_ids, e.unit_ids
        children = list(self._known_units(i, unit_ids))
        level = max((child.level + 1 for child in children), default=1)
        parent = self._container_for(i, e.unit_id, me, level)
        parent.history.append(i)
        for pid, p in self._known_packs(i, pack_ids):
            self._loose_pack(i, pid, p, me)
            p.parent, p.custodian = parent, ZERO_ADDRESS
            parent.packs[pid] = None
            p.history.append(i)
        for child in children:
            if child is parent:
                self._violation(i, "SelfNesting", child.id)
                continue
            self._loose_unit(i, child, me)
            child.parent, child.custodian = parent, ZERO_ADDRESS
            parent.units[child.id] = None
            child.history.append(i)
        self.pack_ops += len(pack_ids)

    @handles(ev.ItemsUnpacked)
    def _unpacked(self, i: int, e: ev.ItemsUnpacked) -> None:
        me = e.by
        self._require_member(i, me, SUPPLY_CHAIN, e.timestamp)
        unit = self._find(i, self.units, e.unit_id, "UnknownUnit")
        if unit is None:
            return
        top = top_holder(unit, _PARENT)
        if top.status in _NOT_ACTIVE:
            self._violation(i, _NOT_ACTIVE[top.status], unit.id)
        elif top.custodian != me:
            self._violation(i, "NotCustodian", unit.id)
        if unit.status == U_DISSOLVED:
            self._violation(i, "UnitDissolved", unit.id)
        unit.history.append(i)
        for pid, p in self._known_packs(i, e.pack_ids):
            self._take_out(i, unit, pid, p, ACTIVE, _PACKS, me)
        for child in self._known_units(i, e.unit_ids):
            self._take_out(i, unit, child.id, child, U_ACTIVE, _UNITS, me)
        self.pack_ops += len(e.pack_ids)

    def _take_out(
        self,
        i: int,
        unit: Unit,
        item_id: bytes,
        item: Pack | Unit,
        active: int,
        contents: Callable[[Unit], dict[bytes, None]],
        me: str,
    ) -> None:
        """Take pack or unit ``item`` out of ``unit`` into ``me``'s custody: it must sit in
        ``unit``, with status ``active``; ``contents`` is a unit's packs or its units."""
        if item.parent is not unit or item.status != active:
            self._violation(i, "NotInUnit", item_id)
            if item.parent is not None:
                contents(item.parent).pop(item_id, None)
        contents(unit).pop(item_id, None)
        item.parent, item.custodian = None, me
        item.history.append(i)

    @handles(ev.UnitsDissolved)
    def _dissolved(self, i: int, e: ev.UnitsDissolved) -> None:
        me = e.by
        self._require_member(i, me, SUPPLY_CHAIN, e.timestamp)
        if not e.unit_ids:
            self._violation(i, "EmptyBatch", me)
        for unit in self._known_units(i, e.unit_ids):
            self._loose_unit(i, unit, me)
            unit.status = U_DISSOLVED
            unit.history.append(i)

    @handles(ev.ItemsShipped)
    def _shipped(self, i: int, e: ev.ItemsShipped) -> None:
        me, to, now = e.from_, e.to, e.timestamp
        self._require_member(i, me, SUPPLY_CHAIN, now)
        self._require_member(i, to, SUPPLY_CHAIN, now)
        if me == to:
            self._violation(i, "ShipToSelf", to)
        pack_ids, unit_ids = e.pack_ids, e.unit_ids
        if not pack_ids and not unit_ids:
            self._violation(i, "EmptyBatch", me)
        for pid, p in self._known_packs(i, pack_ids):
            if p.status != ACTIVE or p.parent is not None or p.custodian != me:
                self._loose_pack(i, pid, p, me)
            p.status, p.pending_to = IN_TRANSIT, to
            p.history.append(i)
        for unit in self._known_units(i, unit_ids):
            self._loose_unit(i, unit, me)
            unit.status, unit.pending_to = U_TRANSIT, to
            unit.history.append(i)
            self._touch_unit(unit, i)
        self.pack_ops += len(pack_ids)

    @handles(ev.ItemsReceived)
    def _received(self, i: int, e: ev.ItemsReceived) -> None:
        me = self._batch_by(i, e)
        pack_ids, unit_ids = e.pack_ids, e.unit_ids
        for pid, p in self._known_packs(i, pack_ids):
            self._arrive(i, pid, p, IN_TRANSIT, ACTIVE, me)
        for unit in self._known_units(i, unit_ids):
            self._arrive(i, unit.id, unit, U_TRANSIT, U_ACTIVE, me)
            self._touch_unit(unit, i)
        self.pack_ops += len(pack_ids)

    def _arrive(
        self, i: int, item_id: bytes, item: Pack | Unit, in_transit: int, active: int, me: str
    ) -> None:
        """Receive pack or unit ``item`` into ``me``'s custody: it must be travelling to ``me``
        (status ``in_transit``); it becomes ``active``."""
        if item.status != in_transit:
            self._violation(i, "NotInTransit", item_id)
        elif item.pending_to != me:
            self._violation(i, "NotRecipient", item_id)
        item.status, item.pending_to, item.custodian = active, ZERO_ADDRESS, me
        item.history.append(i)

    @handles(ev.ShipmentCancelled, ev.ItemsRefused, ev.ItemsLost, ev.LostItemsFound)
    def _rerouted(self, i: int, e: _ShipmentLeg) -> None:
        """A shipment leg changes as ``SerialRegistry._reroute`` changes it: cancelled (ACTIVE
        with its sender again), refused (in transit back to its sender, from the refuser),
        reported lost (LOST, sender and recipient kept) or found (in transit again)."""
        me = e.by
        self._require_member(i, me, SUPPLY_CHAIN, e.timestamp)
        if not e.pack_ids and not e.unit_ids:
            self._violation(i, "EmptyBatch", me)
        match e:
            case ev.ShipmentCancelled():
                leg = (IN_TRANSIT, me, e.recipient, False, ACTIVE, me, ZERO_ADDRESS)
            case ev.ItemsRefused():
                leg = (IN_TRANSIT, e.sender, me, True, IN_TRANSIT, me, e.sender)
            case ev.ItemsLost():
                leg = (IN_TRANSIT, me, e.recipient, False, LOST, me, e.recipient)
            case ev.LostItemsFound():
                leg = (LOST, me, e.recipient, False, IN_TRANSIT, me, e.recipient)
        before, sender, recipient, by_recipient, after, holder, pending = leg
        for pid, p in self._known_packs(i, e.pack_ids):
            self._check_leg(i, pid, p, before, sender, recipient, by_recipient)
            p.status, p.custodian, p.pending_to = after, holder, pending
            p.history.append(i)
        for unit in self._known_units(i, e.unit_ids):
            self._check_leg(i, unit.id, unit, before, sender, recipient, by_recipient)
            unit.status, unit.custodian, unit.pending_to = after, holder, pending
            unit.history.append(i)
            self._touch_unit(unit, i)
        self.pack_ops += len(e.pack_ids)

    def _check_leg(
        self,
        i: int,
        item_id: bytes,
        item: Pack | Unit,
        before: int,
        sender: str,
        recipient: str,
        by_recipient: bool,
    ) -> None:
        """Check that ``item`` (a pack or unit: their IN_TRANSIT and LOST values are the same)
        is ``before``, shipped by ``sender`` to ``recipient``; the caller's side first."""
        if item.status != before:
            self._violation(i, "NotLost" if before == LOST else "NotInTransit", item_id)
        elif by_recipient and item.pending_to != recipient:
            self._violation(i, "NotRecipient", item_id)
        elif item.custodian != sender:
            self._violation(i, "NotShippedBy" if by_recipient else "NotSender", item_id)
        elif item.pending_to != recipient:
            self._violation(i, "NotShippedTo", item_id)

    @handles(ev.PacksDecommissioned)
    def _decommissioned(self, i: int, e: ev.PacksDecommissioned) -> None:
        me, reason, now = e.by, e.reason, e.timestamp
        roles = int(Role.DISPENSER) if reason == DecommissionReason.DISPENSED else SUPPLY_CHAIN
        self._require_member(i, me, roles, now)
        if reason == 0:
            self._violation(i, "InvalidReason", me)
        check_saleable = reason not in UNCONDITIONAL
        deadline = now + self.undo_window() if reason in UNDOABLE_REASONS else 0
        for pid, p in self._known_packs(i, e.pack_ids):
            self._require_active(i, pid, p)
            parent = p.parent
            if parent is None:
                if p.custodian != me:
                    self._violation(i, "NotCustodian", pid)
            else:
                top = top_holder(parent, _PARENT)
                if top.status in _NOT_ACTIVE:
                    self._violation(i, _NOT_ACTIVE[top.status], pid)
                elif top.custodian != me:
                    self._violation(i, "NotCustodian", pid)
                parent.packs.pop(pid, None)
            if check_saleable:
                lot = p.lot
                if p.flags:
                    self._violation(i, "PackFlagged", pid)
                if lot.status != LotStatus.ACTIVE:
                    self._violation(i, "LotNotActive", pid)
                if now > lot.expires_at:
                    self._violation(i, "PackExpired", pid)
            p.custodian, p.parent, p.status, p.reason = me, None, DECOMMISSIONED, reason
            p.decommissioned_at, p.undo_deadline = now, deadline
            p.history.append(i)
        self.pack_ops += len(e.pack_ids)

    @handles(ev.DecommissionsUndone)
    def _undone(self, i: int, e: ev.DecommissionsUndone) -> None:
        me, now = e.by, e.timestamp
        self._require_member(i, me, SUPPLY_CHAIN, now)
        for pid, p in self._known_packs(i, e.pack_ids):
            if p.status != DECOMMISSIONED:
                self._violation(i, "PackNotDecommissioned", pid)
            elif p.custodian != me:
                self._violation(i, "NotDecommissioner", pid)
            elif p.reason not in UNDOABLE_REASONS:
                self._violation(i, "UndoNotAllowed", pid)
            elif now > p.undo_deadline:
                self._violation(i, "UndoWindowClosed", pid)
            p.status, p.reason, p.decommissioned_at, p.undo_deadline = ACTIVE, 0, 0, 0
            p.history.append(i)
        self.pack_ops += len(e.pack_ids)

    def _pack_authority(self, p: Pack, m: Member | None) -> Authority:
        """Member ``m``'s authority over ``p``'s flags (as ``SerialRegistry._packAuthority``)."""
        if m is None:
            return Authority.NONE
        if m.roles & REGULATOR:
            return Authority.REGULATOR
        if p.lot.owner == m.account:
            return Authority.OWNER
        if m.roles & SUPPLY_CHAIN and self.custodian_of(p) == m.account:
            return Authority.HOLDER
        return Authority.NONE

    @handles(ev.PacksFlagged)
    def _flagged(self, i: int, e: ev.PacksFlagged) -> None:
        me, flags = e.by, e.flags
        if flags > FLAG_MASK:
            self._violation(i, "InvalidFlags", me)
        council = me == self.council
        if council:
            self._by_proposal(i, me)
        else:
            self._require_member(i, me, ALL_ROLES, e.timestamp)
        m = self.members.get(me)
        if not e.pack_ids:
            self._violation(i, "EmptyBatch", me)
        for pid, p in self._known_packs(i, e.pack_ids):
            authority = Authority.COUNCIL if council else self._pack_authority(p, m)
            if authority == Authority.NONE or (
                authority == Authority.HOLDER and flags != PackFlag.SUSPECT
            ):
                self._violation(i, "NotAuthorised", pid)
            elif p.flag_authority > authority:
                self._violation(i, "AuthorityTooLow", pid)
            p.flags, p.flag_reason = flags, e.reason_code
            p.flag_authority = int(authority) if flags else 0
            p.history.append(i)
        self.pack_ops += len(e.pack_ids)

    # ------------------------------------------------------------ views

    def custodian_of(self, p: Pack) -> str:
        """The member holding ``p`` now (custody resolved through its units)."""
        return p.custodian if p.parent is None else top_holder(p.parent, _PARENT).custodian

    def pack_view(self, p: Pack | None) -> tuple[Any, ...]:
        """The pack as the contract's ``packState`` returns it (a ``PackView`` tuple)."""
        if p is None:
            return _NO_PACK
        if p.parent is None:
            custodian, status, pending = p.custodian, p.status, p.pending_to
        else:
            top = top_holder(p.parent, _PARENT)
            custodian, status, pending = top.custodian, top.status, top.pending_to
        transit, lost = status == IN_TRANSIT, status == LOST
        return (
            p.status,
            p.reason,
            p.flags,
            p.flag_reason,
            p.decommissioned_at,
            p.undo_deadline,
            p.flag_authority,
            p.lot.id,
            p.parent.index if p.parent is not None else 0,
            custodian,
            pending if transit or lost else ZERO_ADDRESS,
            transit,
            lost,
            p.lot_tag,
        )

    def unit_view(self, u: Unit | None) -> tuple[Any, ...]:
        """The unit as the contract's ``unitState`` returns it (a ``UnitView`` tuple)."""
        if u is None:
            return (0, 0, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS, False, False)
        top = top_holder(u, _PARENT)
        transit, lost = top.status == U_TRANSIT, top.status == U_LOST
        return (
            u.index,
            u.status,
            u.level,
            u.parent.index if u.parent is not None else 0,
            top.custodian,
            top.pending_to if transit or lost else ZERO_ADDRESS,
            transit,
            lost,
        )

    def is_lost(self, p: Pack) -> bool:
        """True when ``p``, or the unit carrying it, is reported lost in transit."""
        status = p.status if p.parent is None else top_holder(p.parent, _PARENT).status
        return status == LOST

    def holder(self, p: Pack) -> tuple[str, bool]:
        """``(member, in_transit)``: who holds ``p`` now, or to whom it is travelling (its
        sender, not in transit, while it is lost)."""
        view = self.pack_view(p)
        return (view[10], True) if view[11] else (view[9], False)

    def verify(
        self, gtin14: str, serial: str, lot: str = "", expiry: int = 0, *, now: int
    ) -> tuple[Any, ...]:
        """What ``SerialRegistry.verify`` answers at time ``now``, as its ``Verification``
        tuple: the pack is looked up under the owner of the GTIN's company prefix only
        (PRODUCT_MISMATCH when no member owns it, UNKNOWN when that owner has no such pack);
        ``lot`` and ``expiry`` (YYMMDD) are what the scan says ("" and 0: not scanned)."""
        owner = self.owner_index(gtin14)
        if owner == 0:
            return (VerificationStatus.PRODUCT_MISMATCH, ZERO32, _NO_PACK, NO_LOT, ZERO_ADDRESS)
        pid = record_id(owner, pack_hash(gtin14, serial))
        account = self.member_accounts[owner]
        p = self.packs.get(pid)
        if p is None:
            return (VerificationStatus.UNKNOWN, pid, _NO_PACK, NO_LOT, account)
        view = self.pack_view(p)
        return (
            self._verdict(p, view, gtin14, serial, lot, expiry, now),
            pid,
            view,
            self.lot_view(p.lot),
            account,
        )

    @staticmethod
    def _verdict(
        p: Pack, view: tuple[Any, ...], gtin14: str, serial: str, lot: str, expiry: int, now: int
    ) -> VerificationStatus:
        """The verdict order of ``SerialRegistry._verdict``: the scanned lot is checked
        against the pack's lot tag."""
        if lot and lot_tag(gtin14, serial, lot) != p.lot_tag:
            return VerificationStatus.LOT_MISMATCH
        if expiry and not same_day(expiry, p.lot.expiry):
            return VerificationStatus.EXPIRY_MISMATCH
        blocked = blocking_status(p.flags, p.lot.status)
        if blocked is not None:
            return blocked
        if view[12]:
            return VerificationStatus.LOST
        if p.status == DECOMMISSIONED:
            return VerificationStatus.DECOMMISSIONED
        if now > p.lot.expires_at:
            return VerificationStatus.EXPIRED
        if view[11]:
            return VerificationStatus.IN_TRANSIT
        return VerificationStatus.VERIFIED
