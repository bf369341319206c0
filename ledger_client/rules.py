"""The registry's rules as pure functions, for every reader that answers without a contract
call: who holds what sits in a unit, and what a scan of a pack answers.

``contracts/SerialRegistry.sol`` is the authority; these mirror it (tested against it). The
auditor's independent model uses them too: they read no chain state, only what they are given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from ledger_client.gs1.dates import same_day
from ledger_client.ids import lot_tag
from ledger_client.types import (
    LotStatus,
    PackFlag,
    PackStatus,
    UnitStatus,
    VerificationStatus,
)

#: ``SerialRegistry.MAX_LEVEL``: the deepest nesting of logistic units (case, pallet, ...).
MAX_LEVEL = 4

S = VerificationStatus
_DISSOLVED = int(UnitStatus.DISSOLVED)


class UnitNode(Protocol):
    """A logistic unit as a store holds it: its status is what the custody walk needs."""

    @property
    def status(self) -> int: ...


U = TypeVar("U", bound=UnitNode)


def top_holder(unit: U, parent: Callable[[U], U | None]) -> U:
    """The unit whose custodian holds ``unit`` and all it contains, as
    ``SerialRegistry._unitCustody`` finds it: its top unit, or its nearest dissolved unit.

    ``parent`` gives a unit's parent (None for a top unit). Nesting is at most
    :data:`MAX_LEVEL` units deep on chain, so the walk stops at the ``MAX_LEVEL``-th unit: a
    longer chain (a tampered history, a corrupt store) cannot make it loop.
    """
    steps = MAX_LEVEL - 1
    while steps and unit.status != _DISSOLVED:  # the auditor's hot path: no range, no enum
        up = parent(unit)
        if up is None:
            return unit
        unit, steps = up, steps - 1
    return unit


def blocking_status(flags: int, lot_status: int) -> VerificationStatus | None:
    """The status a pack's flags or its lot's recall or quarantine impose whatever else is
    true of it, in the registry's order (ILLEGITIMATE, SUSPECT, RECALLED, QUARANTINED), or
    None."""
    if flags & PackFlag.ILLEGITIMATE:
        return S.ILLEGITIMATE
    if flags & PackFlag.SUSPECT:
        return S.SUSPECT
    if lot_status == LotStatus.RECALLED:
        return S.RECALLED
    if lot_status == LotStatus.QUARANTINED:
        return S.QUARANTINED
    return None


class ScannedPack(Protocol):
    """What a scan says of a pack (:class:`ledger_client.gs1.PackCode`)."""

    @property
    def gtin(self) -> str: ...
    @property
    def serial(self) -> str: ...
    @property
    def lot(self) -> str | None: ...
    @property
    def expiry_yymmdd(self) -> str | None: ...


class PackFacts(Protocol):
    """What the ledger says of a pack and its lot, custody resolved through its units."""

    @property
    def status(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def lot_tag(self) -> bytes: ...
    @property
    def lot_expiry(self) -> int: ...
    @property
    def lot_expires_at(self) -> int: ...
    @property
    def lot_status(self) -> int: ...
    @property
    def in_transit(self) -> bool: ...
    @property
    def lost(self) -> bool: ...


def verdict(code: ScannedPack, pack: PackFacts | None, owner: int, now: int) -> VerificationStatus:
    """The single answer to a scan of ``code`` at time ``now``, by the rules and in the order
    of ``SerialRegistry.verify``. ``owner`` is the member index owning the GTIN's company
    prefix (0 for nobody) and ``pack`` the record of the scanned code under that owner (None
    when there is none): a record anyone else created under the same code is never it."""
    if owner == 0:
        return S.PRODUCT_MISMATCH
    if pack is None:
        return S.UNKNOWN
    if code.lot and lot_tag(code.gtin, code.serial, code.lot) != pack.lot_tag:
        return S.LOT_MISMATCH
    if code.expiry_yymmdd and not same_day(int(code.expiry_yymmdd), pack.lot_expiry):
        return S.EXPIRY_MISMATCH
    blocked = blocking_status(pack.flags, pack.lot_status)
    if blocked is not None:
        return blocked
    if pack.lost:
        return S.LOST
    if pack.status == PackStatus.DECOMMISSIONED:
        return S.DECOMMISSIONED
    if now > pack.lot_expires_at:
        return S.EXPIRED
    if pack.in_transit:
        return S.IN_TRANSIT
    return S.VERIFIED
