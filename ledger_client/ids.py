"""Ledger ids: the exact byte layout shared with contracts/libraries/LedgerIds.sol.

A code hash is keccak256 over ASCII text that starts with the GS1 Application Identifier
of what it names, so hashes of different kinds never collide:

- pack: ``keccak256("01" ‖ gtin14 ‖ "21" ‖ serial)`` with its last 3 bytes zeroed
- lot: ``keccak256("01" ‖ gtin14 ‖ "10" ‖ lot)``; or, for an owner with a lot key,
  ``HMAC-SHA256(lot key, "01" ‖ gtin14 ‖ "10" ‖ lot)``, which nobody without the key can
  compute or test a guess against
- unit: ``keccak256("00" ‖ sscc18)``

Each pack also carries a 3-byte lot tag, the first bytes of
``keccak256("01" ‖ gtin14 ‖ "21" ‖ serial ‖ 0x1d ‖ "10" ‖ lot)`` (0x1d is GS1's group
separator): verification checks the printed lot against the pack's tag, never against a lot
id. A producer commissions a pack with its *pack word*, the pack hash with the tag in its last
3 bytes (see docs/identifiers.md).

A record's id on chain also names its owner, the member index that created it:
``id = keccak256(abi.encode(uint256(owner), code_hash))``. A genuine record's owner is the
member owning the code's GS1 company prefix (see :class:`ledger_client.owners.PrefixOwners`),
so a record anyone else created under the same code is never the one a lookup finds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from eth_utils import keccak

from ledger_client.errors import InvalidCodeError, InvalidInputError

_GTIN14 = re.compile(r"[0-9]{14}")  # not \d: it matches non-ASCII digits too
_SSCC18 = re.compile(r"[0-9]{18}")
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
"""GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1)."""
MAX_SERIAL_OR_LOT = 20
"""AI (21) and (10) hold 1 to 20 characters of :data:`CSET82`."""
LOT_TAG_BYTES = 3
"""Length of a pack's lot tag, the last bytes of its pack word."""
LOT_KEY_BYTES = 32
"""Length of a member's lot key (see :func:`lot_hash`)."""
GROUP_SEPARATOR = "\x1d"
"""GS1's FNC1 group separator, ending the variable-length serial in a lot tag's text."""


def hex_or_none(value: bytes | None) -> str | None:
    """Return an id or hash as ``0x``-hex, and None for none (a step not taken, no evidence)."""
    return None if value is None else "0x" + value.hex()


def gs1_check_digit(digits: str) -> int:
    """Return the GS1 mod-10 check digit for ``digits`` (the code without its last digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def with_check_digit(digits: str) -> str:
    """Return ``digits`` followed by their GS1 mod-10 check digit."""
    return digits + str(gs1_check_digit(digits))


def _require(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidCodeError(f"{what} is malformed: {value!r}")
    return value


def _require_text(value: str, what: str) -> str:
    if not (isinstance(value, str) and 1 <= len(value) <= MAX_SERIAL_OR_LOT) or not (
        CSET82.issuperset(value)
    ):
        raise InvalidCodeError(f"{what} is malformed: {value!r}")
    return value


def _require_check_digit(code: str, what: str) -> str:
    if gs1_check_digit(code[:-1]) != int(code[-1]):
        raise InvalidCodeError(f"{what} {code} has a wrong check digit")
    return code


def check_gtin14(gtin: str) -> str:
    """Return ``gtin`` if it is 14 digits with a valid check digit, else raise."""
    return _require_check_digit(_require(_GTIN14, gtin, "GTIN-14"), "GTIN-14")


def check_sscc18(sscc: str) -> str:
    """Return ``sscc`` if it is 18 digits with a valid check digit, else raise."""
    return _require_check_digit(_require(_SSCC18, sscc, "SSCC"), "SSCC")


def check_serial(serial: str) -> str:
    """Return ``serial`` if it is a valid GS1 AI (21) value, else raise."""
    return _require_text(serial, "serial number")


def check_lot(lot: str) -> str:
    """Return ``lot`` if it is a valid GS1 AI (10) value, else raise."""
    return _require_text(lot, "lot number")


def pack_hash(gtin14: str, serial: str) -> bytes:
    """Return the code hash of the pack ``gtin14`` + ``serial``: keccak256 of its text with the
    last :data:`LOT_TAG_BYTES` bytes zeroed, the room a pack word gives its lot tag."""
    full = keccak(f"01{check_gtin14(gtin14)}21{check_serial(serial)}".encode("ascii"))
    return bytes(full[:-LOT_TAG_BYTES]) + bytes(LOT_TAG_BYTES)


def lot_tag(gtin14: str, serial: str, lot: str) -> bytes:
    """Return the 3-byte lot tag of the pack ``gtin14`` + ``serial`` of lot ``lot``: the first
    bytes of ``keccak256("01" ‖ gtin14 ‖ "21" ‖ serial ‖ 0x1d ‖ "10" ‖ lot)``."""
    text = f"01{check_gtin14(gtin14)}21{check_serial(serial)}{GROUP_SEPARATOR}10{check_lot(lot)}"
    return bytes(keccak(text.encode("ascii"))[:LOT_TAG_BYTES])


def pack_word(gtin14: str, serial: str, lot: str) -> bytes:
    """Return the 32-byte word that commissions the pack ``gtin14`` + ``serial`` in lot
    ``lot``: its :func:`pack_hash` with the :func:`lot_tag` in the last 3 bytes."""
    return with_lot_tag(pack_hash(gtin14, serial), lot_tag(gtin14, serial, lot))


def with_lot_tag(code_hash: bytes, tag: bytes) -> bytes:
    """Return the pack word of pack hash ``code_hash`` (last 3 bytes zero) and lot tag ``tag``."""
    if len(code_hash) != 32 or len(tag) != LOT_TAG_BYTES:
        raise InvalidInputError("a pack word is a 32-byte pack hash and a 3-byte lot tag")
    if any(code_hash[-LOT_TAG_BYTES:]):
        raise InvalidInputError(f"0x{code_hash.hex()} is no pack hash: its last 3 bytes are set")
    return code_hash[:-LOT_TAG_BYTES] + tag


def split_pack_word(word: bytes) -> tuple[bytes, bytes]:
    """Return ``(pack_hash, lot_tag)`` of pack word ``word``, as the contract splits it."""
    if len(word) != 32:
        raise InvalidInputError("a pack word is 32 bytes")
    return word[:-LOT_TAG_BYTES] + bytes(LOT_TAG_BYTES), word[-LOT_TAG_BYTES:]


def split_lot_tags(tags: bytes) -> list[bytes]:
    """Return the 3-byte lot tags concatenated in ``tags`` (a ``PacksCommissioned`` event's
    ``lotTags``), in order."""
    if len(tags) % LOT_TAG_BYTES:
        raise InvalidInputError(f"{len(tags)} bytes of lot tags are not whole 3-byte tags")
    return [tags[i : i + LOT_TAG_BYTES] for i in range(0, len(tags), LOT_TAG_BYTES)]


def check_lot_key(key: bytes) -> bytes:
    """Return ``key`` if it is a lot key (:data:`LOT_KEY_BYTES` bytes), else raise."""
    if len(key) != LOT_KEY_BYTES:
        raise InvalidInputError(f"a lot key is {LOT_KEY_BYTES} bytes, not {len(key)}")
    return key


def lot_hash(gtin14: str, lot: str, key: bytes | None = None) -> bytes:
    """Return the code hash of lot ``lot`` of product ``gtin14``; with its owner's lot key
    ``key``, keyed (HMAC-SHA256), so that short lot numbers cannot be tried from the public
    GTINs by anyone who lacks the key."""
    text = f"01{check_gtin14(gtin14)}10{check_lot(lot)}".encode("ascii")
    if key is None:
        return keccak(text)
    return hmac.new(check_lot_key(key), text, hashlib.sha256).digest()


def unit_hash(sscc18: str) -> bytes:
    """Return the code hash of the logistic unit ``sscc18`` (case, pallet)."""
    return keccak(f"00{check_sscc18(sscc18)}".encode("ascii"))


def record_id(owner: int, code_hash: bytes) -> bytes:
    """Return the on-chain id of the record of ``code_hash`` created by member index ``owner``."""
    return keccak(owner.to_bytes(32, "big") + code_hash)


def pack_id(gtin14: str, serial: str, *, owner: int) -> bytes:
    """Return the on-chain id of the pack ``gtin14`` + ``serial`` of member index ``owner``."""
    return record_id(owner, pack_hash(gtin14, serial))


def lot_id(gtin14: str, lot: str, *, owner: int, key: bytes | None = None) -> bytes:
    """Return the on-chain id of lot ``lot`` of ``gtin14`` of member index ``owner``, whose
    lot key is ``key`` (None: it has none)."""
    return record_id(owner, lot_hash(gtin14, lot, key))


def unit_id(sscc18: str, *, owner: int) -> bytes:
    """Return the on-chain id of the unit ``sscc18`` of member index ``owner``."""
    return record_id(owner, unit_hash(sscc18))


def items_hash(ids: Iterable[bytes]) -> bytes:
    """The hash an exception record keeps of the packs and units it is about:
    ``keccak256`` of their 32-byte ledger ids, sorted ascending, concatenated.

    The order the items were scanned in does not matter; each must appear once and there
    must be at least one (:class:`InvalidInputError` otherwise).
    """
    items = list(ids)
    if not items:
        raise InvalidInputError("an exception names at least one pack or unit")
    if any(len(i) != 32 for i in items):
        raise InvalidInputError("ledger ids are 32 bytes")
    ordered = sorted(items)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a == b:
            raise InvalidInputError(f"0x{a.hex()} is named twice among the exception's items")
    return bytes(keccak(b"".join(ordered)))
