"""The state the auditor's model of the registry keeps (:mod:`ledger_client.audit.model`):
members, proposals, lots, logistic units and packs with the contracts' fields, the rule
violations it records, and the role, status and reason constants its checks use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger_client.contracts import SUPPLY_CHAIN_ROLES, Role
from ledger_client.events import ChainEvent
from ledger_client.types import (
    UNDOABLE,
    ZERO_ADDRESS,
    DecommissionReason,
    PackStatus,
    UnitStatus,
)

ZERO32 = b"\x00" * 32
PRODUCERS = int(Role.MANUFACTURER | Role.REPACKAGER)
SUPPLY_CHAIN = int(SUPPLY_CHAIN_ROLES)
ALL_ROLES = (1 << 9) - 1
REGULATOR, COUNCIL = int(Role.REGULATOR), int(Role.COUNCIL)
FLAG_MASK = 3
UNDOABLE_REASONS = frozenset(int(r) for r in UNDOABLE)
UNCONDITIONAL = frozenset({int(DecommissionReason.DESTROYED), int(DecommissionReason.STOLEN)})
ACTIVE, IN_TRANSIT, DECOMMISSIONED = int(PackStatus.ACTIVE), int(PackStatus.IN_TRANSIT), 3
LOST = int(PackStatus.LOST)
U_ACTIVE, U_TRANSIT, U_DISSOLVED = int(UnitStatus.ACTIVE), int(UnitStatus.IN_TRANSIT), 3
U_LOST = int(UnitStatus.LOST)


@dataclass(slots=True)
class Member:
    """A consortium member as the events describe it."""

    account: str
    index: int
    gln: int
    roles: int
    status: int
    licence_expiry: int


@dataclass(slots=True)
class Proposal:
    """A consortium proposal: who approved it, and whether it ran or was cancelled."""

    id: int
    proposer: str
    deadline: int
    data: bytes
    approvers: list[str] = field(default_factory=list)
    executed: bool = False
    cancelled: bool = False


@dataclass(slots=True)
class Lot:
    """A lot: owner, expiry, status (with the authority that set it and a pending recall
    request) and the packs commissioned in it."""

    id: bytes
    index: int
    owner: str
    expiry: int
    expires_at: int
    status: int
    registered: int
    status_authority: int = 0
    recall_requested_by: str = ZERO_ADDRESS
    packs: list[bytes] = field(default_factory=list)
    history: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Unit:
    """A logistic unit (case, pallet) with the same fields as the contract's ``Unit``, and
    the member that created it (its id is scoped to that member)."""

    id: bytes
    index: int
    owner: str
    custodian: str
    pending_to: str
    parent: Unit | None
    status: int
    level: int
    packs: dict[bytes, None] = field(default_factory=dict)
    units: dict[bytes, None] = field(default_factory=dict)
    history: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Pack:
    """A pack with the same fields as the contract's ``PackState`` (ids instead of indices)."""

    custodian: str
    pending_to: str
    lot: Lot
    parent: Unit | None
    status: int
    reason: int = 0
    flags: int = 0
    flag_reason: int = 0
    decommissioned_at: int = 0
    undo_deadline: int = 0
    flag_authority: int = 0
    lot_tag: bytes = bytes(3)
    history: list[int] = field(default_factory=list)


class _EventLog(Protocol):
    """What :meth:`RuleViolation.as_dict` reads of the model: its events, in chain order."""

    @property
    def events(self) -> Sequence[ChainEvent]: ...


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """An event the contract could not have emitted from the state the earlier events built."""

    event: int
    rule: str
    subject: bytes | str

    def as_dict(self, model: _EventLog) -> dict[str, Any]:
        """Return a JSON-ready description with the offending event's evidence."""
        ev = model.events[self.event]
        subject = "0x" + self.subject.hex() if isinstance(self.subject, bytes) else self.subject
        return {
            "rule": self.rule,
            "subject": subject,
            "event": ev.name,
            "tx": "0x" + ev.tx_hash.hex(),
            "block": ev.block_number,
            "log_index": ev.log_index,
            "timestamp": ev.timestamp,
        }
