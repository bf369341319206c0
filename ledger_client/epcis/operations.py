"""Typed ledger operations that EPCIS events map to, one dataclass per transaction kind.

Identifiers are clear GS1 values (GTIN-14, serial, lot, SSCC-18, GLN); ``ledger_client``
hashes them into ledger ids when it builds transactions. ``event_hash`` is the 32-byte
EPCIS event hash anchored with the transaction (empty when the operation did not come
from an event yet). Statuses and reasons are the chain's own enums
(:class:`ledger_client.types.LotStatus`, :class:`ledger_client.types.DecommissionReason`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ledger_client.types import DecommissionReason, FlagReason, LotStatus, PackFlag

__all__ = [
    "PackRef",
    "LotStatus",
    "DecommissionReason",
    "RegisterLot",
    "Commission",
    "Pack",
    "Unpack",
    "Ship",
    "Receive",
    "CancelShipment",
    "Refuse",
    "ReportLost",
    "ReportFound",
    "CustodyStep",
    "Decommission",
    "UndoDecommission",
    "SetLotStatus",
    "FlagPacks",
    "LedgerOperation",
]

PackRef = tuple[str, str]
"""A saleable pack: (gtin14, serial)."""


@dataclass(frozen=True)
class RegisterLot:
    """Register lot ``lot`` of product ``gtin`` with its expiry date."""

    gtin: str
    lot: str
    expiry: date
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class Commission:
    """Commission serials of one lot, optionally straight into logistic unit ``into_sscc``."""

    gtin: str
    lot: str
    serials: tuple[str, ...]
    into_sscc: str | None = None
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class _ParentItems:
    """Packs and units moved into or out of one parent: an SSCC unit or an SGTIN case."""

    parent_sscc: str | None
    packs: tuple[PackRef, ...]
    units: tuple[str, ...]
    parent_pack: PackRef | None = None
    event_hash: bytes = field(default=b"", kw_only=True)

    def __post_init__(self) -> None:
        if (self.parent_sscc is None) == (self.parent_pack is None):
            raise ValueError(
                f"{type(self).__name__} needs exactly one of parent_sscc and parent_pack"
            )


@dataclass(frozen=True)
class Pack(_ParentItems):
    """Put packs and logistic units into a parent: an SSCC unit or an SGTIN case."""


@dataclass(frozen=True)
class Unpack(_ParentItems):
    """Take packs and units out of a parent; both empty means everything in it."""


@dataclass(frozen=True)
class Ship:
    """Ship packs and units (with their contents) from one party to another (GLNs)."""

    packs: tuple[PackRef, ...]
    units: tuple[str, ...]
    to_party: str | None = None
    from_party: str | None = None
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class Receive:
    """Receive packs and units (with their contents) into the receiver's custody."""

    packs: tuple[PackRef, ...]
    units: tuple[str, ...]
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class _ShipmentLeg:
    """A step on packs and units of a shipment still on its way. ``to_party`` (a GLN) is the
    other side the chain call names: the recipient of the shipment, or, for a refusal, the
    sender the items go back to; ``from_party`` is the member taking the step."""

    packs: tuple[PackRef, ...]
    units: tuple[str, ...]
    to_party: str | None = None
    from_party: str | None = None
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class CancelShipment(_ShipmentLeg):
    """The sender cancels its shipment to ``to_party`` before receipt (the items are its own
    again)."""


@dataclass(frozen=True)
class Refuse(_ShipmentLeg):
    """The recipient refuses items shipped to it: they travel back to ``to_party``, their
    sender."""


@dataclass(frozen=True)
class ReportLost(_ShipmentLeg):
    """The sender reports items on their way to ``to_party`` lost in transit."""


@dataclass(frozen=True)
class ReportFound(_ShipmentLeg):
    """The sender reports lost items found: in transit to ``to_party`` again."""


CustodyStep = CancelShipment | Refuse | ReportLost | ReportFound
"""The four steps on a shipment that did not go as planned."""


@dataclass(frozen=True)
class Decommission:
    """Take packs out of the supply chain for ``reason``."""

    packs: tuple[PackRef, ...]
    reason: DecommissionReason
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class UndoDecommission:
    """Revert an erroneous decommissioning of packs."""

    packs: tuple[PackRef, ...]
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class SetLotStatus:
    """Recall, quarantine or release a lot."""

    gtin: str
    lot: str
    status: LotStatus
    event_hash: bytes = field(default=b"", kw_only=True)


@dataclass(frozen=True)
class FlagPacks:
    """Flag packs suspect or illegitimate (with the 3911 classification), or clear their
    flags (``PackFlag(0)``)."""

    packs: tuple[PackRef, ...]
    flags: PackFlag = PackFlag.SUSPECT
    reason: FlagReason = FlagReason.NONE
    event_hash: bytes = field(default=b"", kw_only=True)


LedgerOperation = (
    RegisterLot
    | Commission
    | Pack
    | Unpack
    | Ship
    | Receive
    | CancelShipment
    | Refuse
    | ReportLost
    | ReportFound
    | Decommission
    | UndoDecommission
    | SetLotStatus
    | FlagPacks
)
