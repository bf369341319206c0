"""Typed views of the registry's enums and structs."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the event stream sits above these shared types; annotations only
    from ledger_client.events import ChainEvent

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = b"\x00" * 32


class LotStatus(enum.IntEnum):
    """Lot status on chain."""

    NONE = 0
    ACTIVE = 1
    QUARANTINED = 2
    RECALLED = 3


class UnitStatus(enum.IntEnum):
    """Logistic unit status on chain."""

    NONE = 0
    ACTIVE = 1
    IN_TRANSIT = 2
    DISSOLVED = 3
    LOST = 4


class PackStatus(enum.IntEnum):
    """Pack status on chain."""

    NONE = 0
    ACTIVE = 1
    IN_TRANSIT = 2
    DECOMMISSIONED = 3
    LOST = 4


class DecommissionReason(enum.IntEnum):
    """EU FMD-style decommission reasons; see :data:`UNDOABLE`."""

    NONE = 0
    DISPENSED = 1
    DESTROYED = 2
    SAMPLE = 3
    FREE_SAMPLE = 4
    EXPORTED = 5
    STOLEN = 6
    LOCKED = 7


#: Reasons whose decommission the same member may undo within the undo window.
UNDOABLE = frozenset(
    {
        DecommissionReason.DISPENSED,
        DecommissionReason.SAMPLE,
        DecommissionReason.FREE_SAMPLE,
        DecommissionReason.EXPORTED,
        DecommissionReason.LOCKED,
    }
)


class PackFlag(enum.IntFlag):
    """Pack flags on chain."""

    SUSPECT = 1
    ILLEGITIMATE = 2


class FlagReason(enum.IntEnum):
    """Why packs were flagged (``flagPacks``' reason code): the Form FDA 3911 classifications
    of illegitimate product; NONE when none was given."""

    NONE = 0
    COUNTERFEIT = 1
    DIVERTED = 2
    STOLEN = 3
    INTENTIONAL_ADULTERATION = 4
    UNFIT_FOR_DISTRIBUTION = 5
    FRAUDULENT_TRANSACTION = 6


class Authority(enum.IntEnum):
    """Who raised a pack's flags or set a lot's status; only this level or above lowers it."""

    NONE = 0
    HOLDER = 1
    OWNER = 2
    REGULATOR = 3
    COUNCIL = 4


class VerificationStatus(enum.IntEnum):
    """The single answer of a verification, most serious first (LOST, added last, comes
    after QUARANTINED: see docs/contracts.md)."""

    VERIFIED = 0
    UNKNOWN = 1
    PRODUCT_MISMATCH = 2
    LOT_MISMATCH = 3
    EXPIRY_MISMATCH = 4
    ILLEGITIMATE = 5
    SUSPECT = 6
    RECALLED = 7
    QUARANTINED = 8
    DECOMMISSIONED = 9
    EXPIRED = 10
    IN_TRANSIT = 11
    LOST = 12


@dataclass(frozen=True)
class PackView:
    """A pack's state with its custody resolved through its units: ``custodian`` holds it (its
    sender while in transit or lost); ``pending_to`` is the recipient of the shipment carrying
    it while that is in transit or lost; ``lot_tag`` is the 3-byte tag it was commissioned
    with (:func:`ledger_client.ids.lot_tag`)."""

    status: PackStatus
    reason: DecommissionReason
    flags: PackFlag
    flag_reason: int
    decommissioned_at: int
    undo_deadline: int
    flag_authority: Authority
    lot_id: bytes
    parent: int
    custodian: str
    pending_to: str
    in_transit: bool
    lost: bool
    lot_tag: bytes

    @classmethod
    def from_tuple(cls, t: Any) -> PackView:
        """Build from the ABI-decoded ``PackView`` tuple."""
        return cls(
            PackStatus(t[0]),
            DecommissionReason(t[1]),
            PackFlag(t[2]),
            t[3],
            t[4],
            t[5],
            Authority(t[6]),
            bytes(t[7]),
            t[8],
            t[9],
            t[10],
            t[11],
            t[12],
            bytes(t[13]),
        )


@dataclass(frozen=True)
class LotView:
    """A lot on chain."""

    id: bytes
    owner: str
    expiry: int
    expires_at: int
    status: LotStatus
    status_authority: Authority
    recall_requested_by: str
    """The regulator whose recall waits for a second regulator (zero address: none)."""

    @classmethod
    def from_tuple(cls, t: Any) -> LotView:
        """Build from the ABI-decoded ``LotView`` tuple."""
        return cls(bytes(t[0]), t[1], t[2], t[3], LotStatus(t[4]), Authority(t[5]), t[6])


class GrantAuthority(enum.IntEnum):
    """Who made an access grant (``IAccessGrants.GrantAuthority``): NONE means no grant."""

    NONE = 0
    OWNER = 1
    COUNCIL = 2


@dataclass(frozen=True)
class AccessGrant:
    """A member's read access to a lot's events; ``expires_at`` 0: until revoked."""

    expires_at: int
    authority: GrantAuthority

    @classmethod
    def from_tuple(cls, t: Any) -> AccessGrant:
        """Build from the ABI-decoded ``Grant`` tuple."""
        return cls(int(t[0]), GrantAuthority(t[1]))

    def live_at(self, when: float) -> bool:
        """True if the grant exists and has not expired at time ``when``."""
        return self.authority != GrantAuthority.NONE and (
            self.expires_at == 0 or self.expires_at > when
        )


@dataclass(frozen=True)
class UnitView:
    """A logistic unit with its custody resolved through its parents."""

    index: int
    status: UnitStatus
    level: int
    parent: int
    custodian: str
    pending_to: str
    in_transit: bool
    lost: bool

    @classmethod
    def from_tuple(cls, t: Any) -> UnitView:
        """Build from the ABI-decoded ``UnitView`` tuple."""
        return cls(t[0], UnitStatus(t[1]), t[2], t[3], t[4], t[5], t[6], t[7])


class ExceptionKind(enum.IntEnum):
    """The kind of an exception (``IExceptionRegistry.ExceptionKind``): HDA's five categories,
    and aggregation errors on their own (a data issue in HDA's terms)."""

    NONE = 0
    DATA_ISSUE = 1
    PRODUCT_WITHOUT_DATA = 2
    DATA_WITHOUT_PRODUCT = 3
    PACKAGING_LABELLING = 4
    UNAVAILABLE_FOR_DISTRIBUTION = 5
    AGGREGATION_ERROR = 6


class ExceptionStatus(enum.IntEnum):
    """Where an exception stands: opened, answered by the counterparty, resolved."""

    NONE = 0
    OPEN = 1
    ANSWERED = 2
    RESOLVED = 3


class Resolver(enum.IntEnum):
    """Who resolved an exception: its opener, a regulator or the council."""

    NONE = 0
    OPENER = 1
    REGULATOR = 2
    COUNCIL = 3


@dataclass(frozen=True)
class ExceptionRecord:
    """An exception on chain (``IExceptionRegistry.ExceptionView``); times are block times,
    0 for a step not taken yet. ``evidence_hash`` is the opener's."""

    opener: str
    counterparty: str
    kind: ExceptionKind
    status: ExceptionStatus
    resolved_by: Resolver
    opened_at: int
    answered_at: int
    resolved_at: int
    items_hash: bytes
    evidence_hash: bytes

    @classmethod
    def from_tuple(cls, t: Any) -> ExceptionRecord:
        """Build from the ABI-decoded ``ExceptionView`` tuple."""
        return cls(
            t[0],
            t[1],
            ExceptionKind(t[2]),
            ExceptionStatus(t[3]),
            Resolver(t[4]),
            t[5],
            t[6],
            t[7],
            bytes(t[8]),
            bytes(t[9]),
        )


@dataclass(frozen=True)
class Verification:
    """The registry's answer for one scanned pack."""

    status: VerificationStatus
    pack_id: bytes
    pack: PackView
    lot: LotView
    product_owner: str

    @classmethod
    def from_tuple(cls, t: Any) -> Verification:
        """Build from the ABI-decoded ``Verification`` tuple."""
        return cls(
            VerificationStatus(t[0]),
            bytes(t[1]),
            PackView.from_tuple(t[2]),
            LotView.from_tuple(t[3]),
            t[4],
        )


@dataclass(frozen=True)
class Receipt:
    """The outcome of one transaction."""

    tx_hash: bytes
    block_number: int
    gas_used: int
    events: tuple[ChainEvent, ...]
