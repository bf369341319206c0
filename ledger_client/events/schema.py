"""One frozen dataclass per contract event, fields named after the ABI's in snake case.

The field names, their order and their types follow the compiled ABI in
``ledger_client/artifacts/`` (``packIds: bytes32[]`` is ``pack_ids: Ids``;
``from`` is ``from_``); ``tests/ledger_client/test_chain_events.py`` fails when a contract
change makes them drift. Every event also says where it happened: block, block time,
transaction and log index.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeAlias, dataclass_transform

#: Fields every event has besides its ABI arguments.
META_FIELDS = ("block_number", "timestamp", "tx_hash", "log_index")

#: A ``bytes32[]`` argument: 32-byte ledger ids.
Ids: TypeAlias = tuple[bytes, ...]


def field_name(abi: str) -> str:
    """The field of ABI argument ``abi``: ``packIds`` -> ``pack_ids``, ``from`` -> ``from_``."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in abi)
    return f"{snake}_" if keyword.iskeyword(snake) else snake


def abi_name(field: str) -> str:
    """The ABI name of event field ``field``: ``pack_ids`` -> ``packIds``, ``from_`` -> ``from``."""
    head, *rest = field.rstrip("_").split("_")
    return head + "".join(part.capitalize() for part in rest)


#: The fields naming the member an event is by or about, in the order :func:`actor` prefers
#: them: the member acting (``by``, a shipment's sender, an exception's opener, a lot's or
#: product's owner, a proposer or approver), else the member it concerns (an account, a
#: gateway's member).
ACTOR_FIELDS = ("by", "from_", "opener", "owner", "proposer", "approver", "account", "member")

#: Every event class, by contract, in the order of this module (each class adds itself).
EVENT_TYPES: dict[str, tuple[type[ChainEvent], ...]] = {}
#: (field, ABI name) of each event's arguments, in ABI order.
_ARGUMENTS: dict[type[ChainEvent], tuple[tuple[str, str], ...]] = {}


@dataclass_transform(frozen_default=True, kw_only_default=True)
@dataclass(frozen=True, kw_only=True)
class ChainEvent:
    """An RxLedger contract event and where it happened.

    A subclass given ``contract=`` is the base of that contract's events; a class below it is
    one event: made a frozen keyword-only dataclass and added to :data:`EVENT_TYPES`.
    """

    #: The event's name in the ABI (the class name).
    name: ClassVar[str]
    #: The contract that emits it.
    contract: ClassVar[str]
    #: The field naming the member the event is by or about (:data:`ACTOR_FIELDS`), or None.
    actor_field: ClassVar[str | None]

    block_number: int
    timestamp: int
    tx_hash: bytes
    log_index: int

    def __init_subclass__(cls, contract: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if contract is not None:
            cls.contract = contract
            return
        cls.name = cls.__name__
        dataclass(frozen=True, kw_only=True)(cls)
        EVENT_TYPES[cls.contract] = (*EVENT_TYPES.get(cls.contract, ()), cls)
        _ARGUMENTS[cls] = tuple(
            (f.name, abi_name(f.name)) for f in fields(cls) if f.name not in META_FIELDS
        )
        own = {name for name, _ in _ARGUMENTS[cls]}
        cls.actor_field = next((f for f in ACTOR_FIELDS if f in own), None)

    @property
    def args(self) -> dict[str, Any]:
        """The event's arguments under their ABI names (``packIds``, ``from``), for storage
        and display; read the typed fields everywhere else."""
        return {abi: getattr(self, field) for field, abi in _ARGUMENTS[type(self)]}


class ConsortiumEvent(ChainEvent, contract="Consortium"):
    """An event of ``Consortium``."""


class DirectoryEvent(ChainEvent, contract="ProductDirectory"):
    """An event of ``ProductDirectory``."""


class GrantsEvent(ChainEvent, contract="AccessGrants"):
    """An event of ``AccessGrants``."""


class ExceptionEvent(ChainEvent, contract="ExceptionRegistry"):
    """An event of ``ExceptionRegistry``: each names the exception's id."""

    id: int  # typed here for readers of any exception event; a field of each class


class RegistryEvent(ChainEvent, contract="SerialRegistry"):
    """An event of ``SerialRegistry``: each anchors an EPCIS event hash (zero for none)."""

    event_hash: bytes  # typed here for readers of any registry event; a field of each class


# ---------------------------------------------------------------------- Consortium


class GatewayUrlSet(ConsortiumEvent):
    member: str
    index: int
    url: str


class MemberAdded(ConsortiumEvent):
    account: str
    index: int
    gln: int
    roles: int
    licence_expiry: int


class MemberKeyRotated(ConsortiumEvent):
    account: str
    new_account: str
    index: int


class MemberLicenceChanged(ConsortiumEvent):
    account: str
    licence_expiry: int


class MemberRolesChanged(ConsortiumEvent):
    account: str
    roles: int


class MemberStatusChanged(ConsortiumEvent):
    account: str
    status: int


class ParameterChanged(ConsortiumEvent):
    key: bytes
    value: int


class PrefixAssigned(ConsortiumEvent):
    prefix: str
    account: str


class PrefixRevoked(ConsortiumEvent):
    prefix: str
    account: str


class ProposalApproved(ConsortiumEvent):
    id: int
    approver: str
    approvals: int


class ProposalCancelled(ConsortiumEvent):
    id: int
    by: str


class ProposalCreated(ConsortiumEvent):
    id: int
    proposer: str
    data: bytes
    deadline: int


class ProposalExecuted(ConsortiumEvent):
    id: int


# ---------------------------------------------------------------------- ProductDirectory


class ProductRegistered(DirectoryEvent):
    gtin_hash: bytes
    gtin14: str
    owner: str


# ---------------------------------------------------------------------- AccessGrants


class AccessGranted(GrantsEvent):
    lot_id: bytes
    grantee: str
    by: str
    expires_at: int


class AccessRevoked(GrantsEvent):
    lot_id: bytes
    grantee: str
    by: str


# ---------------------------------------------------------------------- ExceptionRegistry


class ExceptionAnswered(ExceptionEvent):
    id: int
    by: str
    evidence_hash: bytes


class ExceptionOpened(ExceptionEvent):
    id: int
    opener: str
    counterparty: str
    kind: int
    items_hash: bytes
    evidence_hash: bytes


class ExceptionClosureRequested(ExceptionEvent):
    id: int
    by: str
    evidence_hash: bytes


class ExceptionResolved(ExceptionEvent):
    id: int
    by: str
    resolved_by: int
    evidence_hash: bytes


# ---------------------------------------------------------------------- SerialRegistry


class DecommissionsUndone(RegistryEvent):
    by: str
    pack_ids: Ids
    event_hash: bytes


class ItemsPacked(RegistryEvent):
    unit_id: bytes
    by: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class ItemsLost(RegistryEvent):
    by: str
    recipient: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class ItemsReceived(RegistryEvent):
    by: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class ItemsRefused(RegistryEvent):
    by: str
    sender: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class ItemsShipped(RegistryEvent):
    from_: str
    to: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class ItemsUnpacked(RegistryEvent):
    unit_id: bytes
    by: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class LostItemsFound(RegistryEvent):
    by: str
    recipient: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class LotRecallRequested(RegistryEvent):
    lot_id: bytes
    by: str
    event_hash: bytes


class LotRegistered(RegistryEvent):
    lot_id: bytes
    owner: str
    expiry: int
    event_hash: bytes


class LotStatusChanged(RegistryEvent):
    lot_id: bytes
    by: str
    status: int
    event_hash: bytes


class PacksCommissioned(RegistryEvent):
    lot_id: bytes
    by: str
    unit_id: bytes
    pack_ids: Ids
    #: The packs' 3-byte lot tags, concatenated in the order of ``pack_ids``
    #: (:func:`ledger_client.ids.split_lot_tags`).
    lot_tags: bytes
    event_hash: bytes


class PacksDecommissioned(RegistryEvent):
    by: str
    reason: int
    pack_ids: Ids
    event_hash: bytes


class PacksFlagged(RegistryEvent):
    by: str
    flags: int
    reason_code: int
    pack_ids: Ids
    event_hash: bytes


class ShipmentCancelled(RegistryEvent):
    by: str
    recipient: str
    pack_ids: Ids
    unit_ids: Ids
    event_hash: bytes


class UnitsDissolved(RegistryEvent):
    by: str
    unit_ids: Ids
    event_hash: bytes


def actor(event: ChainEvent) -> str | None:
    """The member an event names as acting or as its subject: the field its class's
    ``actor_field`` names (``by``, a shipment's sender, an exception's opener, a lot's or
    product's owner, a proposer or approver, a member's or prefix's account); None for
    events naming no member."""
    field = event.actor_field
    return None if field is None else str(getattr(event, field))
