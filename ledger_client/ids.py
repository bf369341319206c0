"""Ledger ids: the exact byte layout shared with contracts/libraries/LedgerIds.sol.

Every id is keccak256 over ASCII text that starts with the GS1 Application Identifier
of what it names, so ids of different kinds never collide:

- ``packId = keccak256("01" ‖ gtin14 ‖ "21" ‖ serial)``
- ``lotId  = keccak256("01" ‖ gtin14 ‖ "10" ‖ lot)``
- ``unitId = keccak256("00" ‖ sscc18)``
"""

from __future__ import annotations

import re

from eth_utils import keccak

from ledger_client.errors import InvalidCodeError

_GTIN14 = re.compile(r"[0-9]{14}")  # not \d: it matches non-ASCII digits too
_SSCC18 = re.compile(r"[0-9]{18}")
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
"""GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1)."""
MAX_SERIAL_OR_LOT = 20
"""AI (21) and (10) hold 1 to 20 characters of :data:`CSET82`."""


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


def pack_id(gtin14: str, serial: str) -> bytes:
    """Return the 32-byte ledger id of the pack ``gtin14`` + ``serial``."""
    text = f"01{check_gtin14(gtin14)}21{check_serial(serial)}"
    return keccak(text.encode("ascii"))


def lot_id(gtin14: str, lot: str) -> bytes:
    """Return the 32-byte ledger id of lot ``lot`` of product ``gtin14``."""
    text = f"01{check_gtin14(gtin14)}10{check_lot(lot)}"
    return keccak(text.encode("ascii"))


def unit_id(sscc18: str) -> bytes:
    """Return the 32-byte ledger id of the logistic unit ``sscc18`` (case, pallet)."""
    return keccak(f"00{check_sscc18(sscc18)}".encode("ascii"))
