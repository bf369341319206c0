"""Who owns a code: the member index of the GS1 company prefix a GTIN or SSCC carries.

Record ids are scoped by that index (see :mod:`ledger_client.ids`), so every lookup of a
printed code goes through here. :class:`PrefixOwners` reads the consortium's prefix table
and caches its answers for the object's lifetime (a prefix moved by governance is seen by a
new object); readers with their own copy of the table (the gateway's index) subclass
:class:`CodeOwners`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TypeVar

from web3.contract import Contract

from ledger_client.errors import UnknownPrefixError
from ledger_client.ids import check_gtin14, check_sscc18, lot_id, pack_id, unit_id

#: GS1 company prefixes are 4 to 12 digits (as Consortium.sol assigns them) and start after a
#: code's first digit (indicator or extension digit), so two codes that share these 12 digits
#: share their prefix owner.
MIN_PREFIX, MAX_PREFIX = 4, 12
_HEAD = slice(1, 1 + MAX_PREFIX)
T = TypeVar("T")


def prefix_heads(code: str) -> list[str]:
    """The company prefixes GTIN-14 or SSCC-18 ``code`` could carry, longest first."""
    return [code[1 : 1 + n] for n in range(MAX_PREFIX, MIN_PREFIX - 1, -1)]


def longest_prefix_owner(prefixes: Mapping[str, T], code: str) -> T | None:
    """The owner in ``prefixes`` (prefix -> owner) of ``code``'s longest assigned prefix, as
    ``Consortium.prefixOwner`` finds it; None when no prefix of it is assigned."""
    for n in range(MAX_PREFIX, MIN_PREFIX - 1, -1):  # prefix_heads, without building the list
        owner = prefixes.get(code[1 : 1 + n])
        if owner is not None:
            return owner
    return None


class CodeOwners(ABC):
    """The ids of codes' genuine records, given who owns each company prefix, and the lot
    keys this party holds (member index -> key: a producer's own, or those producers gave a
    regulator; see :func:`~ledger_client.ids.lot_hash`). A lot of an owner whose key is not
    held gets the id of an unkeyed lot, which only a keyless owner's lots have."""

    def __init__(
        self,
        lot_keys: Mapping[int, bytes] | None = None,
        own_lot_key: tuple[str, bytes] | None = None,
    ) -> None:
        self._lot_keys = dict(lot_keys or {})
        self._own_lot_key = own_lot_key

    @property
    def lot_keys(self) -> dict[int, bytes]:
        """The lot keys held, by member index: those given, and this party's own
        (``own_lot_key``: its address and key) under its index once it is a member."""
        if self._own_lot_key is not None:
            address, key = self._own_lot_key
            index = self.member_index(address)
            if index:
                self._lot_keys[index] = key
                self._own_lot_key = None
        return self._lot_keys

    def hold_lot_keys(self, other: CodeOwners) -> None:
        """Hold the lot keys ``other`` holds, now and as it learns its own member index."""
        self._lot_keys, self._own_lot_key = other._lot_keys, other._own_lot_key

    def member_index(self, address: str) -> int:
        """The member index of account ``address``, 0 when unknown (only readers that may
        hold their own lot key need to know)."""
        return 0

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
        return pack_id(gtin14, serial, owner=self.owner(check_gtin14(gtin14)))

    def lot_id(self, gtin14: str, lot: str) -> bytes:
        """Return the id of the genuine lot ``lot`` of ``gtin14``; raise when no member owns
        its prefix."""
        self.owner(check_gtin14(gtin14))
        return self.lookup_lot_id(gtin14, lot)

    def lookup_lot_id(self, gtin14: str, lot: str) -> bytes:
        """Return the id a lookup of lot ``lot`` of ``gtin14`` finds: under its prefix
        owner's index (0, which no record has, when none), keyed with the owner's lot key
        where it is held."""
        owner = self.index(check_gtin14(gtin14))
        return lot_id(gtin14, lot, owner=owner, key=self.lot_keys.get(owner))

    def unit_id(self, sscc18: str) -> bytes:
        """Return the id of the genuine logistic unit ``sscc18``."""
        return unit_id(sscc18, owner=self.owner(check_sscc18(sscc18)))


class PrefixOwners(CodeOwners):
    """The consortium's prefix table, read on demand and cached."""

    def __init__(
        self,
        consortium: Contract,
        lot_keys: Mapping[int, bytes] | None = None,
        own_lot_key: tuple[str, bytes] | None = None,
    ) -> None:
        super().__init__(lot_keys, own_lot_key)
        self._consortium = consortium
        self._cache: dict[str, int] = {}

    def index(self, code: str) -> int:
        """Return the member index owning the prefix of GTIN-14 or SSCC-18 ``code`` (0: none)."""
        head = code[_HEAD]
        if head not in self._cache:
            self._cache[head] = int(self._consortium.functions.prefixOwnerIndex(code).call())
        return self._cache[head]

    def member_index(self, address: str) -> int:
        """The member index of account ``address`` (0: not a member), from the consortium."""
        return int(self._consortium.functions.member(address).call()[1])
