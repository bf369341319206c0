"""One frozen dataclass per contract event, fields named after the ABI's in snake case.

The field names, their order and their types follow the compiled ABI in
``ledger_client/artifacts/`` (``packIds: bytes32[]`` is ``pack_ids: tuple[bytes, ...]``;
``from`` is ``from_``); ``tests/ledger_client/test_chain_events.py`` fails when a contract
change makes them drift. Every event also says where it happened: block, block time,
transaction and log index.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, fields
from typing import Any, ClassVar

#: Fields every event has besides its ABI arguments.
META_FIELDS = ("block_number", "timestamp", "tx_hash", "log_index")


def field_name(abi: str) -> str:
    """The field of ABI argument ``abi``: ``packIds`` -> ``pack_ids``, ``from`` -> ``from_``."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in abi)
    return f"{snake}_" if keyword.iskeyword(snake) else snake


def abi_name(field: str) -> str:
    """The ABI name of event field ``field``: ``pack_ids`` -> ``packIds``, ``from_`` -> ``from``."""
    head, *rest = field.rstrip("_").split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True, kw_only=True)
class ChainEvent:
    """An RxLedger contract event and where it happened."""

    #: The event's name in the ABI (the class name).
    name: ClassVar[str]
    #: The contract that emits it.
    contract: ClassVar[str]

    block_number: int
    timestamp: int
    tx_hash: bytes
    log_index: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__

    @property
    def args(self) -> dict[str, Any]:
        """The event's arguments under their ABI names (``packIds``, ``from``), for storage
        and display; read the typed fields everywhere else."""
        return {abi: getattr(self, field) for field, abi in _ARGUMENTS[type(self)]}


class ConsortiumEvent(ChainEvent):
    """An event of ``Consortium``."""

    contract = "Consortium"


class DirectoryEvent(ChainEvent):
    """An event of ``ProductDirectory``."""

    contract = "ProductDirectory"


class RegistryEvent(ChainEvent):
    """An event of ``SerialRegistry``: each anchors an EPCIS event hash (zero for none)."""

    contract = "SerialRegistry"
    event_hash: bytes  # typed here for readers of any registry event; a field of each class


# ---------------------------------------------------------------------- Consortium


@dataclass(frozen=True, kw_only=True)
class MemberAdded(ConsortiumEvent):
    account: str
    index: int
    gln: int
    roles: int
    licence_expiry: int


@dataclass(frozen=True, kw_only=True)
class MemberLicenceChanged(ConsortiumEvent):
    account: str
    licence_expiry: int


@dataclass(frozen=True, kw_only=True)
class MemberRolesChanged(ConsortiumEvent):
    account: str
    roles: int


@dataclass(frozen=True, kw_only=True)
class MemberStatusChanged(ConsortiumEvent):
    account: str
    status: int


@dataclass(frozen=True, kw_only=True)
class ParameterChanged(ConsortiumEvent):
    key: bytes
    value: int


@dataclass(frozen=True, kw_only=True)
class PrefixAssigned(ConsortiumEvent):
    prefix: str
    account: str


@dataclass(frozen=True, kw_only=True)
class PrefixRevoked(ConsortiumEvent):
    prefix: str
    account: str


@dataclass(frozen=True, kw_only=True)
class ProposalApproved(ConsortiumEvent):
    id: int
    approver: str
    approvals: int


@dataclass(frozen=True, kw_only=True)
class ProposalCancelled(ConsortiumEvent):
    id: int
    by: str


@dataclass(frozen=True, kw_only=True)
class ProposalCreated(ConsortiumEvent):
    id: int
    proposer: str
    data: bytes
    deadline: int


@dataclass(frozen=True, kw_only=True)
class ProposalExecuted(ConsortiumEvent):
    id: int


# ---------------------------------------------------------------------- ProductDirectory


@dataclass(frozen=True, kw_only=True)
class ProductRegistered(DirectoryEvent):
    gtin_hash: bytes
    gtin14: str
    owner: str


# ---------------------------------------------------------------------- SerialRegistry


@dataclass(frozen=True, kw_only=True)
class DecommissionsUndone(RegistryEvent):
    by: str
    pack_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class ItemsPacked(RegistryEvent):
    unit_id: bytes
    by: str
    pack_ids: tuple[bytes, ...]
    unit_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class ItemsReceived(RegistryEvent):
    by: str
    pack_ids: tuple[bytes, ...]
    unit_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class ItemsShipped(RegistryEvent):
    from_: str
    to: str
    pack_ids: tuple[bytes, ...]
    unit_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class ItemsUnpacked(RegistryEvent):
    unit_id: bytes
    by: str
    pack_ids: tuple[bytes, ...]
    unit_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class LotRecallRequested(RegistryEvent):
    lot_id: bytes
    by: str
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class LotRegistered(RegistryEvent):
    lot_id: bytes
    owner: str
    expiry: int
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class LotStatusChanged(RegistryEvent):
    lot_id: bytes
    by: str
    status: int
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class PacksCommissioned(RegistryEvent):
    lot_id: bytes
    by: str
    unit_id: bytes
    pack_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class PacksDecommissioned(RegistryEvent):
    by: str
    reason: int
    pack_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class PacksFlagged(RegistryEvent):
    by: str
    flags: int
    reason_code: int
    pack_ids: tuple[bytes, ...]
    event_hash: bytes


@dataclass(frozen=True, kw_only=True)
class UnitsDissolved(RegistryEvent):
    by: str
    unit_ids: tuple[bytes, ...]
    event_hash: bytes


#: Every event class, by contract.
EVENT_TYPES: dict[str, tuple[type[ChainEvent], ...]] = {
    "Consortium": (
        MemberAdded,
        MemberLicenceChanged,
        MemberRolesChanged,
        MemberStatusChanged,
        ParameterChanged,
        PrefixAssigned,
        PrefixRevoked,
        ProposalApproved,
        ProposalCancelled,
        ProposalCreated,
        ProposalExecuted,
    ),
    "ProductDirectory": (ProductRegistered,),
    "SerialRegistry": (
        DecommissionsUndone,
        ItemsPacked,
        ItemsReceived,
        ItemsShipped,
        ItemsUnpacked,
        LotRecallRequested,
        LotRegistered,
        LotStatusChanged,
        PacksCommissioned,
        PacksDecommissioned,
        PacksFlagged,
        UnitsDissolved,
    ),
}

#: (field, ABI name) of each event's arguments, in ABI order.
_ARGUMENTS = {
    cls: tuple((f.name, abi_name(f.name)) for f in fields(cls) if f.name not in META_FIELDS)
    for classes in EVENT_TYPES.values()
    for cls in classes
}


def actor(event: ChainEvent) -> str | None:
    """The member an event names as acting or as its subject: ``by``, a shipment's sender, a
    lot's or product's owner, a member's or prefix's account; None for governance events."""
    match event:
        case ItemsShipped():
            return event.from_
        case LotRegistered() | ProductRegistered():
            return event.owner
        case (
            MemberAdded()
            | MemberLicenceChanged()
            | MemberRolesChanged()
            | MemberStatusChanged()
            | PrefixAssigned()
            | PrefixRevoked()
        ):
            return event.account
        case (
            DecommissionsUndone()
            | ItemsPacked()
            | ItemsReceived()
            | ItemsUnpacked()
            | LotStatusChanged()
            | PacksCommissioned()
            | PacksDecommissioned()
            | PacksFlagged()
            | UnitsDissolved()
        ):
            return event.by
    return None
