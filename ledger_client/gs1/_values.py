"""Checks of AI values, with precise messages: the ledger's AIs in full, the others against
their GS1 format, check digit and dates."""

from __future__ import annotations

import datetime as dt

from biip import ParseConfig, ParseError
from biip.gs1_element_strings import GS1ElementString

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _CPV, _NAMES, _describe, _known_ai
from ledger_client.gs1.dates import _check_date_ai, expiry_to_date
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


_NO_DATE_CHECK = ParseConfig(gs1_element_strings_verify_date=False)

# AIs outside the ledger identity that hold a GS1 key with a check digit:
# AI -> (offset, length) of the key in the value (GS1 General Specifications, 3.2 - 3.9).
_CHECKED_KEYS = {
    "02": (0, 14), "03": (0, 14), "253": (0, 13), "255": (0, 13), "402": (0, 17),
    **{f"41{n}": (0, 13) for n in range(8)},
    "8003": (1, 13), "8006": (0, 14), "8017": (0, 18), "8018": (0, 18), "8026": (0, 14),
}  # fmt: skip


def _check_extra(ai_code: str, value: str, today: dt.date | None) -> None:
    """Check a value of an AI outside the ledger identity.

    Raises:
        InvalidCodeError: if GS1 defines no such AI, or the value does not match the AI's
            format (biip's table), has a wrong check digit or an impossible date.
    """
    ai = _known_ai(ai_code)
    if ai is None:
        raise InvalidCodeError(f"AI ({ai_code}) is not a GS1 Application Identifier")
    what = _describe(ai_code)
    _check_date_ai(ai_code, value, what, today)  # before biip's patterns: it says more
    try:
        GS1ElementString.parse(f"{ai_code}{value}", config=_NO_DATE_CHECK)
    except ParseError:
        raise InvalidCodeError(f"{what}: {value!r} does not match its format {ai.format}") from None
    if ai_code in _CHECKED_KEYS:
        start, length = _CHECKED_KEYS[ai_code]
        key = value[start : start + length]
        expected = gs1_check_digit(key[:-1])
        if expected != int(key[-1]):
            raise InvalidCodeError(
                f"{what} {value} has a wrong check digit: expected {expected}, found {key[-1]}"
            )
