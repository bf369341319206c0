"""The codes the ledger identifies: packs, logistic units, lots and bare products."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._values import _check_gtin, _check_sscc, _check_text
from ledger_client.gs1.dates import _same_expiry, expiry_to_date
from ledger_client.ids import lot_hash, pack_hash, record_id, unit_hash

__all__ = [
    "AIData",
    "Code",
    "LotCode",
    "PackCode",
    "ProductCode",
    "ScanResult",
    "SourceFormat",
    "UnitCode",
    "ids_of",
]

SourceFormat: TypeAlias = Literal["element_string", "datamatrix", "digital_link", "epc_urn"]


@dataclass(frozen=True)
class PackCode:
    """A saleable pack: GTIN + serial number, with its lot and expiry when known.

    ``expiry`` is the calendar date (a GS1 day ``00`` means the last day of the month);
    ``expiry_yymmdd`` is the raw value of AI (17), which the chain compares. Give either or
    both; the missing one is derived (a ``date`` gives its exact day, never ``00``).
    """

    gtin: str
    serial: str
    lot: str | None = None
    expiry: dt.date | None = None
    expiry_yymmdd: str | None = None

    def __post_init__(self) -> None:
        _check_gtin(self.gtin)
        _check_text("21", self.serial)
        if self.lot is not None:
            _check_text("10", self.lot)
        if self.expiry_yymmdd is not None:
            if self.expiry is None:
                object.__setattr__(self, "expiry", expiry_to_date(self.expiry_yymmdd))
            elif not _same_expiry(self.expiry, self.expiry_yymmdd):
                raise InvalidCodeError(
                    f"expiry {self.expiry.isoformat()} does not match "
                    f"expiry_yymmdd {self.expiry_yymmdd!r}"
                )
        elif self.expiry is not None:
            object.__setattr__(self, "expiry_yymmdd", self.expiry.strftime("%y%m%d"))


@dataclass(frozen=True)
class UnitCode:
    """A logistic unit (case, pallet) identified by its SSCC."""

    sscc: str

    def __post_init__(self) -> None:
        _check_sscc(self.sscc)


@dataclass(frozen=True)
class LotCode:
    """A lot (batch) of a product: what ``urn:epc:class:lgtin`` names."""

    gtin: str
    lot: str

    def __post_init__(self) -> None:
        _check_gtin(self.gtin)
        _check_text("10", self.lot)


@dataclass(frozen=True)
class ProductCode:
    """A product (trade item) alone: a GTIN with no serial or lot."""

    gtin: str

    def __post_init__(self) -> None:
        _check_gtin(self.gtin)


Code: TypeAlias = PackCode | UnitCode | LotCode | ProductCode


@dataclass(frozen=True)
class ScanResult:
    """What :func:`parse_code` read, from which format, and what it had to repair.

    ``extras`` keeps the (AI, value) pairs that are not part of the ledger identity, in
    the order they were read (e.g. ``("11", "250101")``, national codes such as ``710``).
    ``company_prefix_length`` is known only when the source states it (EPC URNs).
    """

    code: Code
    source_format: SourceFormat
    warnings: tuple[str, ...] = ()
    symbology: str | None = None
    extras: tuple[tuple[str, str], ...] = ()
    company_prefix_length: int | None = None


@dataclass(frozen=True)
class AIData:
    """What :func:`parse_ai_data` read: the (AI, value) pairs in the order given (an AI
    repeated with its value once), the format, and what had to be repaired."""

    elements: tuple[tuple[str, str], ...]
    source_format: SourceFormat
    warnings: tuple[str, ...] = ()


def ids_of(code: Code, owner_of: Callable[[str], int]) -> bytes:
    """Return the 32-byte ledger id of ``code``'s record: packId, unitId or lotId, scoped to
    the member index ``owner_of`` gives for its GTIN or SSCC (see :mod:`ledger_client.ids`;
    the genuine record's owner is ``PrefixOwners.owner``).

    Raises:
        InvalidCodeError: for a :class:`ProductCode`, which has no ledger id.
    """
    if isinstance(code, PackCode):
        return record_id(owner_of(code.gtin), pack_hash(code.gtin, code.serial))
    if isinstance(code, UnitCode):
        return record_id(owner_of(code.sscc), unit_hash(code.sscc))
    if isinstance(code, LotCode):
        return record_id(owner_of(code.gtin), lot_hash(code.gtin, code.lot))
    raise InvalidCodeError(
        f"a bare GTIN {code.gtin} has no ledger id; the ledger tracks packs, units and lots"
    )
