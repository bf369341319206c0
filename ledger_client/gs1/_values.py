"""Checks of the values of the ledger's AIs, with precise messages."""

from __future__ import annotations

import datetime as dt

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _CPV, _NAMES
from ledger_client.gs1.dates import expiry_to_date
from ledger_client.ids import CSET82, MAX_SERIAL_OR_LOT, gs1_check_digit


def _check_digits(ai: str, value: str, length: int) -> str:
    what = _NAMES[ai]
    if not isinstance(value, str):
        raise InvalidCodeError(f"{what} must be a string of {length} digits, got {value!r}")
    for pos, char in enumerate(value, 1):
        if not char.isascii() or not char.isdigit():
            raise InvalidCodeError(
                f"{what} must be {length} digits; found {char!r} at position {pos} in {value!r}"
            )
    if len(value) != length:
        hint = (
            " (pad a GTIN-8/12/13 with leading zeros)"
            if ai == "01" and len(value) in (8, 12, 13)
            else ""
        )
        raise InvalidCodeError(f"{what} must be {length} digits, got {len(value)}: {value!r}{hint}")
    expected = gs1_check_digit(value[:-1])
    if expected != int(value[-1]):
        raise InvalidCodeError(
            f"{what} {value} has a wrong check digit: expected {expected}, found {value[-1]}"
        )
    return value


def _check_gtin(value: str) -> str:
    return _check_digits("01", value, 14)


def _check_sscc(value: str) -> str:
    return _check_digits("00", value, 18)


def _check_text(ai: str, value: str) -> str:
    """Check a serial (21), lot (10) or CPV (22): 1 to 20 characters of GS1 character set 82."""
    what = _NAMES.get(ai) or _CPV
    if not isinstance(value, str):
        raise InvalidCodeError(f"{what} must be a string, got {value!r}")
    if not value:
        raise InvalidCodeError(f"{what} is empty")
    for pos, char in enumerate(value, 1):
        if char not in CSET82:
            raise InvalidCodeError(
                f"{what} {value!r} contains {char!r} at position {pos}, "
                "which is not in the GS1 character set 82"
            )
    if len(value) > MAX_SERIAL_OR_LOT:
        raise InvalidCodeError(
            f"{what} {value!r} is {len(value)} characters long; at most "
            f"{MAX_SERIAL_OR_LOT} are allowed"
        )
    return value


def _check_value(ai: str, value: str, today: dt.date | None) -> None:
    if ai == "01":
        _check_gtin(value)
    elif ai == "00":
        _check_sscc(value)
    elif ai in ("10", "21"):
        _check_text(ai, value)
    elif ai == "17":
        expiry_to_date(value, today=today)
