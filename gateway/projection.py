"""The SQL index as a projection of the chain's event stream.

Each event is stored (with the ids it names, so a pack's, unit's or lot's history is one
indexed lookup) and updates the state tables it touches: lots, packs, units, members,
prefixes, products, access grants, exceptions. Custody is stored where the contract keeps
it: a pack or unit inside a unit has no custodian of its own, the read model resolves it
through the top unit (:func:`ledger_client.rules.top_holder`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from web3 import Web3

from gateway.db import models as m
from ledger_client import events as ev
from ledger_client.events import actor, handlers, handles
from ledger_client.events.schema import META_FIELDS, abi_name
from ledger_client.gs1.dates import end_of_day
from ledger_client.ids import split_lot_tags
from ledger_client.types import (
    ZERO_HASH,
    ExceptionStatus,
    LotStatus,
    PackStatus,
    Resolver,
    UnitStatus,
)

packs_t = cast(Table, m.Pack.__table__)
units_t = cast(Table, m.Unit.__table__)

_CLASSES = {cls.name: cls for classes in ev.EVENT_TYPES.values() for cls in classes}

#: The ids an event names, each with its kind: pack, unit (moved), container, lot.
Items = list[tuple[bytes, str]]
#: A GTIN's current directory entry: owner and (name, strength, form, NDC, gateway URL).
DirectoryEntry = Callable[[str], tuple[str, Sequence[str]]]


@dataclass(frozen=True)
class AppliedEvent:
    """An event as applied: the decoded event, its block time and its row id."""

    event: ev.ChainEvent
    block_time: int
    row_id: int


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def event_of(row: m.ChainEvent) -> ev.ChainEvent:
    """The typed event a ``chain_events`` row stores (its ``args``, ids as 0x-hex; the
    schema's field types are annotation strings: ``"bytes"``)."""
    cls = _CLASSES[row.name]
    values: dict[str, Any] = {
        "block_number": row.block_number,
        "timestamp": row.block_time,
        "tx_hash": bytes(row.tx_hash),
        "log_index": row.log_index,
    }
    for f in fields(cls):
        if f.name not in META_FIELDS:
            raw = row.args[abi_name(f.name)]
            if isinstance(raw, list):
                values[f.name] = tuple(bytes.fromhex(str(v)[2:]) for v in raw)
            else:
                values[f.name] = bytes.fromhex(str(raw)[2:]) if f.type == "bytes" else raw
    return cls(**values)


def _evidence(value: bytes) -> bytes | None:
    """An evidence hash as stored: None for none (zero)."""
    return None if value == ZERO_HASH else value


def _packs_and_units(packs: Iterable[bytes], units: Iterable[bytes], unit_kind: str) -> Items:
    return [(i, "pack") for i in packs] + [(i, unit_kind) for i in units]


class IndexProjection:
    """Applies events to the index inside the open transaction ``conn``; ``applied`` lists
    them with their rows. ``directory_entry`` reads a GTIN's entry, which its event does not
    carry."""

    def __init__(self, conn: Connection, directory_entry: DirectoryEntry) -> None:
        self.conn = conn
        self.directory_entry = directory_entry
        self.applied: list[AppliedEvent] = []
        self._handlers = handlers(self)

    def apply(self, event: ev.ChainEvent) -> None:
        """Store ``event`` with the ids it names and update the state it changes."""
        event_hash = event.event_hash if isinstance(event, ev.RegistryEvent) else ZERO_HASH
        row_id = self.conn.execute(
            insert(m.ChainEvent)
            .values(
                block_number=event.block_number,
                block_time=event.timestamp,
                tx_hash=event.tx_hash,
                log_index=event.log_index,
                name=event.name,
                actor=actor(event),
                event_hash=event_hash if event_hash != ZERO_HASH else None,
                args={k: _jsonable(v) for k, v in event.args.items()},
            )
            .returning(m.ChainEvent.id)
        ).scalar_one()
        items = self.restate(event)
        if items:
            self.conn.execute(
                insert(m.EventItem),
                [{"event_id": row_id, "item_id": i, "kind": k} for i, k in items],
            )
        self.applied.append(AppliedEvent(event, event.timestamp, row_id))

    def restate(self, event: ev.ChainEvent) -> Items | None:
        """Update the state ``event`` changes without storing it (a rebuild from the stored
        events, after a reorg); return the ids it names."""
        handler = self._handlers.get(type(event))
        return handler(event) if handler is not None else None

    # ---------------------------------------------------- lots

    @handles(ev.LotRegistered)
    def _lot_registered(self, e: ev.LotRegistered) -> Items:
        self.conn.execute(
            insert(m.Lot).values(
                lot_id=e.lot_id,
                owner=e.owner,
                expiry=e.expiry,
                expires_at=end_of_day(e.expiry),
                status=int(LotStatus.ACTIVE),
            )
        )
        return [(e.lot_id, "lot")]

    @handles(ev.LotStatusChanged)
    def _lot_status_changed(self, e: ev.LotStatusChanged) -> Items:
        self.conn.execute(update(m.Lot).where(m.Lot.lot_id == e.lot_id).values(status=e.status))
        return [(e.lot_id, "lot")]

    # ---------------------------------------------------- access grants

    @handles(ev.AccessGranted)
    def _access_granted(self, e: ev.AccessGranted) -> Items:
        self._drop_grant(e.lot_id, e.grantee)
        self.conn.execute(
            insert(m.AccessGrant).values(
                lot_id=e.lot_id, grantee=e.grantee, expires_at=e.expires_at, granted_by=e.by
            )
        )
        return [(e.lot_id, "lot")]

    @handles(ev.AccessRevoked)
    def _access_revoked(self, e: ev.AccessRevoked) -> Items:
        self._drop_grant(e.lot_id, e.grantee)
        return [(e.lot_id, "lot")]

    def _drop_grant(self, lot: bytes, grantee: str) -> None:
        self.conn.execute(
            delete(m.AccessGrant).where(
                m.AccessGrant.lot_id == lot, m.AccessGrant.grantee == grantee
            )
        )

    # ---------------------------------------------------- packs and units

    def _upsert_container(self, unit: bytes, by: str, level: int) -> None:
        row = self.conn.execute(select(m.Unit.level).where(m.Unit.unit_id == unit)).first()
        if row is None:
            self.conn.execute(
                insert(m.Unit).values(
                    unit_id=unit,
                    status=int(UnitStatus.ACTIVE),
                    level=level,
                    parent=None,
                    custodian=by,
                    pending_to=None,
                )
            )
        else:
            self.conn.execute(
                update(m.Unit)
                .where(m.Unit.unit_id == unit)
                .values(parent=None, custodian=by, level=max(level, int(row[0])))
            )

    def _set_packs(self, ids: Sequence[bytes], **values: Any) -> None:
        if ids:
            self.conn.execute(
                packs_t.update().where(packs_t.c.pack_id == bindparam("b_id")).values(**values),
                [{"b_id": i} for i in ids],
            )

    def _set_units(self, ids: Sequence[bytes], **values: Any) -> None:
        if ids:
            self.conn.execute(
                units_t.update().where(units_t.c.unit_id == bindparam("b_id")).values(**values),
                [{"b_id": i} for i in ids],
            )

    @handles(ev.PacksCommissioned)
    def _commissioned(self, e: ev.PacksCommissioned) -> Items:
        parent = None if e.unit_id == ZERO_HASH else e.unit_id
        if parent is not None:
            self._upsert_container(parent, e.by, 1)
        self.conn.execute(
            insert(m.Pack),
            [
                {
                    "pack_id": i,
                    "lot_id": e.lot_id,
                    "lot_tag": tag,
                    "status": int(PackStatus.ACTIVE),
                    "reason": 0,
                    "flags": 0,
                    "flag_reason": 0,
                    "decommissioned_at": 0,
                    "parent": parent,
                    "custodian": None if parent else e.by,
                    "pending_to": None,
                }
                for i, tag in zip(e.pack_ids, split_lot_tags(e.lot_tags), strict=True)
            ],
        )
        items = [(i, "pack") for i in e.pack_ids] + [(e.lot_id, "lot")]
        return items + ([(parent, "container")] if parent else [])

    @handles(ev.ItemsPacked)
    def _packed(self, e: ev.ItemsPacked) -> Items:
        level = 1
        if e.unit_ids:
            levels = self.conn.execute(
                select(m.Unit.level).where(m.Unit.unit_id.in_(e.unit_ids))
            ).scalars()
            level = max([1, *(lv + 1 for lv in levels)])
        self._upsert_container(e.unit_id, e.by, level)
        self._set_packs(e.pack_ids, parent=e.unit_id, custodian=None)
        self._set_units(e.unit_ids, parent=e.unit_id, custodian=None)
        return _packs_and_units(e.pack_ids, e.unit_ids, "unit") + [(e.unit_id, "container")]

    @handles(ev.ItemsUnpacked)
    def _unpacked(self, e: ev.ItemsUnpacked) -> Items:
        self._set_packs(e.pack_ids, parent=None, custodian=e.by)
        self._set_units(e.unit_ids, parent=None, custodian=e.by)
        return _packs_and_units(e.pack_ids, e.unit_ids, "unit") + [(e.unit_id, "container")]

    @handles(ev.UnitsDissolved)
    def _dissolved(self, e: ev.UnitsDissolved) -> Items:
        self._set_units(e.unit_ids, parent=None, custodian=e.by, status=int(UnitStatus.DISSOLVED))
        return [(i, "container") for i in e.unit_ids]

    @handles(ev.ItemsShipped)
    def _shipped(self, e: ev.ItemsShipped) -> Items:
        moved = {"parent": None, "custodian": e.from_, "pending_to": e.to}
        self._set_packs(e.pack_ids, status=int(PackStatus.IN_TRANSIT), **moved)
        self._set_units(e.unit_ids, status=int(UnitStatus.IN_TRANSIT), **moved)
        return _packs_and_units(e.pack_ids, e.unit_ids, "container")

    @handles(ev.ItemsReceived)
    def _received(self, e: ev.ItemsReceived) -> Items:
        self._set_packs(e.pack_ids, custodian=e.by, status=int(PackStatus.ACTIVE), pending_to=None)
        self._set_units(e.unit_ids, custodian=e.by, status=int(UnitStatus.ACTIVE), pending_to=None)
        return _packs_and_units(e.pack_ids, e.unit_ids, "container")

    @handles(ev.ShipmentCancelled)
    def _cancelled(self, e: ev.ShipmentCancelled) -> Items:
        home = {"custodian": e.by, "pending_to": None}
        self._set_packs(e.pack_ids, status=int(PackStatus.ACTIVE), **home)
        self._set_units(e.unit_ids, status=int(UnitStatus.ACTIVE), **home)
        return _packs_and_units(e.pack_ids, e.unit_ids, "container")

    @handles(ev.ItemsRefused)
    def _refused(self, e: ev.ItemsRefused) -> Items:
        back = {"custodian": e.by, "pending_to": e.sender}
        self._set_packs(e.pack_ids, status=int(PackStatus.IN_TRANSIT), **back)
        self._set_units(e.unit_ids, status=int(UnitStatus.IN_TRANSIT), **back)
        return _packs_and_units(e.pack_ids, e.unit_ids, "container")

    @handles(ev.ItemsLost, ev.LostItemsFound)
    def _lost_or_found(self, e: ev.ItemsLost | ev.LostItemsFound) -> Items:
        lost = isinstance(e, ev.ItemsLost)
        pack = PackStatus.LOST if lost else PackStatus.IN_TRANSIT
        unit = UnitStatus.LOST if lost else UnitStatus.IN_TRANSIT
        self._set_packs(e.pack_ids, status=int(pack))
        self._set_units(e.unit_ids, status=int(unit))
        return _packs_and_units(e.pack_ids, e.unit_ids, "container")

    @handles(ev.PacksDecommissioned)
    def _decommissioned(self, e: ev.PacksDecommissioned) -> Items:
        self._set_packs(
            e.pack_ids,
            custodian=e.by,
            parent=None,
            status=int(PackStatus.DECOMMISSIONED),
            reason=e.reason,
            decommissioned_at=e.timestamp,
        )
        return [(i, "pack") for i in e.pack_ids]

    @handles(ev.DecommissionsUndone)
    def _undone(self, e: ev.DecommissionsUndone) -> Items:
        self._set_packs(e.pack_ids, status=int(PackStatus.ACTIVE), reason=0, decommissioned_at=0)
        return [(i, "pack") for i in e.pack_ids]

    @handles(ev.PacksFlagged)
    def _flagged(self, e: ev.PacksFlagged) -> Items:
        self._set_packs(e.pack_ids, flags=e.flags, flag_reason=e.reason_code)
        return [(i, "pack") for i in e.pack_ids]

    # ---------------------------------------------------- exceptions

    @handles(ev.ExceptionOpened)
    def _exception_opened(self, e: ev.ExceptionOpened) -> None:
        self.conn.execute(
            insert(m.ExceptionCase).values(
                id=e.id,
                opener=e.opener,
                counterparty=e.counterparty,
                kind=e.kind,
                status=int(ExceptionStatus.OPEN),
                resolved_by=int(Resolver.NONE),
                items_hash=e.items_hash,
                evidence_hash=_evidence(e.evidence_hash),
                opened_at=e.timestamp,
                answered_at=0,
                resolved_at=0,
            )
        )

    @handles(ev.ExceptionAnswered)
    def _exception_answered(self, e: ev.ExceptionAnswered) -> None:
        self._set_exception(
            e.id,
            status=int(ExceptionStatus.ANSWERED),
            answer_hash=_evidence(e.evidence_hash),
            answered_at=e.timestamp,
        )

    @handles(ev.ExceptionResolved)
    def _exception_resolved(self, e: ev.ExceptionResolved) -> None:
        self._set_exception(
            e.id,
            status=int(ExceptionStatus.RESOLVED),
            resolved_by=e.resolved_by,
            resolution_hash=_evidence(e.evidence_hash),
            resolved_at=e.timestamp,
        )

    def _set_exception(self, case: int, **values: Any) -> None:
        self.conn.execute(
            update(m.ExceptionCase).where(m.ExceptionCase.id == case).values(**values)
        )

    # ---------------------------------------------------- consortium and directory

    @handles(ev.MemberAdded)
    def _member_added(self, e: ev.MemberAdded) -> None:
        self.conn.execute(
            insert(m.Member).values(
                address=e.account,
                index=e.index,
                gln=str(e.gln).zfill(13),
                roles=e.roles,
                status=1,
                licence_expiry=e.licence_expiry,
            )
        )

    @handles(ev.MemberKeyRotated)
    def _member_key_rotated(self, e: ev.MemberKeyRotated) -> None:
        """The member, and everything the index names by its account (lots it owns, packs
        and units it holds or has coming, its prefixes, its access grants, its exceptions), move
        to its new key, as the contracts' views, which resolve the member's index, answer."""
        old, new = e.account, e.new_account
        self._set_member(old, address=new)
        for table, column in (
            (m.Lot, m.Lot.owner),
            (m.Pack, m.Pack.custodian),
            (m.Pack, m.Pack.pending_to),
            (m.Unit, m.Unit.custodian),
            (m.Unit, m.Unit.pending_to),
            (m.Prefix, m.Prefix.owner),
            (m.AccessGrant, m.AccessGrant.grantee),
            (m.ExceptionCase, m.ExceptionCase.opener),
            (m.ExceptionCase, m.ExceptionCase.counterparty),
        ):
            self.conn.execute(update(table).where(column == old).values({column.key: new}))

    @handles(ev.MemberStatusChanged)
    def _member_status(self, e: ev.MemberStatusChanged) -> None:
        self._set_member(e.account, status=e.status)

    @handles(ev.MemberRolesChanged)
    def _member_roles(self, e: ev.MemberRolesChanged) -> None:
        self._set_member(e.account, roles=e.roles)

    @handles(ev.MemberLicenceChanged)
    def _member_licence(self, e: ev.MemberLicenceChanged) -> None:
        self._set_member(e.account, licence_expiry=e.licence_expiry)

    def _set_member(self, account: str, **values: int | str) -> None:
        self.conn.execute(update(m.Member).where(m.Member.address == account).values(**values))

    @handles(ev.PrefixAssigned)
    def _prefix_assigned(self, e: ev.PrefixAssigned) -> None:
        self.conn.execute(delete(m.Prefix).where(m.Prefix.prefix == e.prefix))
        self.conn.execute(insert(m.Prefix).values(prefix=e.prefix, owner=e.account))

    @handles(ev.PrefixRevoked)
    def _prefix_revoked(self, e: ev.PrefixRevoked) -> None:
        self.conn.execute(delete(m.Prefix).where(m.Prefix.prefix == e.prefix))

    @handles(ev.ProductRegistered)
    def _product_registered(self, e: ev.ProductRegistered) -> None:
        owner, info = self.directory_entry(e.gtin14)
        self.conn.execute(delete(m.Product).where(m.Product.gtin == e.gtin14))
        self.conn.execute(
            insert(m.Product).values(
                gtin=e.gtin14,
                owner=Web3.to_checksum_address(owner),
                name=info[0],
                strength=info[1],
                dosage_form=info[2],
                ndc=info[3],
                gateway_url=info[4],
            )
        )
