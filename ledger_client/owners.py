"""Who owns a code: the member index of the GS1 company prefix a GTIN or SSCC carries.

Record ids are scoped by that index (see :mod:`ledger_client.ids`), so every lookup of a
printed code goes through here. :class:`PrefixOwners` reads the consortium's prefix table
and caches its answers for the object's lifetime (a prefix moved by governance is seen by a
new object); readers with their own copy of the table (the gateway's index) subclass
:class:`CodeOwners`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from web3.contract import Contract

from ledger_client.errors import UnknownPrefixError
from ledger_client.ids import (
    check_gtin14,
    check_sscc18,
    lot_hash,
    pack_hash,
    record_id,
    unit_hash,
)

#: GS1 company prefixes are at most 12 digits and start after a code's first digit, so two
#: codes that share these digits share their prefix owner.
_HEAD = slice(1, 13)


class CodeOwners(ABC):
    """The ids of codes' genuine records, given who owns each company prefix."""

    @abstractmethod
    def index(self, code: str) -> int:
        """Return the member index owning the prefix of GTIN-14 or SSCC-18 ``code`` (0: none)."""

    def owner(self, code: str) -> int:
        """Return the member index owning ``code``'s prefix; raise when no member owns it."""
        index = self.index(code)
        if index == 0:
            raise UnknownPrefixError(f"no member owns the GS1 company prefix of {code}")
        return index

    def pack_id(self, gtin14: str, serial: str) -> bytes:
        """Return the id of the genuine pack ``gtin14`` + ``serial``."""
        return record_id(self.owner(check_gtin14(gtin14)), pack_hash(gtin14, serial))

    def lot_id(self, gtin14: str, lot: str) -> bytes:
        """Return the id of the genuine lot ``lot`` of ``gtin14``."""
        return record_id(self.owner(check_gtin14(gtin14)), lot_hash(gtin14, lot))

    def unit_id(self, sscc18: str) -> bytes:
        """Return the id of the genuine logistic unit ``sscc18``."""
        return record_id(self.owner(check_sscc18(sscc18)), unit_hash(sscc18))


class PrefixOwners(CodeOwners):
    """The consortium's prefix table, read on demand and cached."""

    def __init__(self, consortium: Contract) -> None:
        self._consortium = consortium
        self._cache: dict[str, int] = {}

    def index(self, code: str) -> int:
        """Return the member index owning the prefix of GTIN-14 or SSCC-18 ``code`` (0: none)."""
        head = code[_HEAD]
        if head not in self._cache:
            self._cache[head] = int(self._consortium.functions.prefixOwnerIndex(code).call())
        return self._cache[head]
