"""GS1 dates (YYMMDD): the calendar date a value stands for, and expiries as the chain reads them.

:func:`expiry_to_date` reads a date with the century rule of the GS1 General
Specifications; ``_check_date_ai`` checks the dates and times of every date AI.
:func:`expiry_yymmdd`, :func:`end_of_day` and :func:`same_day` mirror
``contracts/libraries/GS1Date.sol``, which reads the year as 20YY. One rule compares a
scanned expiry with a lot's registered one, everywhere (the contract's ``verify``, the
gateway, the auditor, the EPCIS executor): :func:`same_day`.
"""

from __future__ import annotations

import calendar
import datetime as dt

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _NAMES

__all__ = ["end_of_day", "expiry_to_date", "expiry_yymmdd", "same_day"]


def expiry_to_date(yymmdd: str, *, today: dt.date | None = None) -> dt.date:
    """Return the date a GS1 YYMMDD value (AI 17 and other date AIs) stands for.

    Day ``00`` means the last day of the month: ``expiry_to_date("261200")`` is
    2026-12-31 (GS1 General Specifications, section 3.4.2 and following).

    The century comes from the sliding window of GS1 General Specifications,
    section 7.12 ("Determination of century in dates"): with ``d = YY - (today's YY)``,
    ``51 <= d <= 99`` is the previous century, ``-99 <= d <= -50`` the next one and anything
    else the current one (so a date is at most 49 years back or 50 years ahead).
    ``today`` defaults to the current UTC date; pass it for deterministic results.

    Raises:
        InvalidCodeError: if the value is not six digits or not a date.
    """
    what = _NAMES["17"]
    if not isinstance(yymmdd, str) or len(yymmdd) != 6 or not yymmdd.isdigit():
        raise InvalidCodeError(f"{what} must be 6 digits YYMMDD, got {yymmdd!r}")
    return _yymmdd(yymmdd, f"{what} {yymmdd}", today, day00=True)


# The date AIs and the parts of their values (GS1 General Specifications, sections 3.4, 3.7
# and 3.8, as the linters of GS1's Barcode Syntax Dictionary check them): "d0" YYMMDD whose
# day may be 00 (no day given: the month's last), "d" YYMMDD with a day, "D" YYYYMMDD,
# "t" HHMM, "h" HH; "m" minutes and "s" seconds are optional.
_DATE_PARTS: dict[str, tuple[str, ...]] = {
    "11": ("d0",), "12": ("d0",), "13": ("d0",), "15": ("d0",), "16": ("d0",), "17": ("d0",),
    "4324": ("d0", "t"), "4325": ("d0", "t"), "4326": ("d",),
    "7003": ("d", "t"), "7006": ("d",), "7007": ("d", "d?"), "7011": ("d", "t?"),
    "7250": ("D",), "7251": ("D", "t"), "8008": ("d", "h", "m", "s"),
}  # fmt: skip
_PART_LENGTHS = {"d0": 6, "d": 6, "d?": 6, "D": 8, "t": 4, "t?": 4, "h": 2, "m": 2, "s": 2}
_OPTIONAL = frozenset({"d?", "t?", "m", "s"})


def _check_date_ai(ai: str, value: str, what: str, today: dt.date | None) -> None:
    """Raise :class:`InvalidCodeError` unless the dates and times in ``value`` of the date
    AI ``ai`` are real; a value of another shape, or of an AI without dates, is left to the
    format check."""
    parts = _DATE_PARTS.get(ai)
    if parts is None or not (value.isascii() and value.isdigit()):
        return
    fields: list[tuple[str, str]] = []
    pos = 0
    for part in parts:
        size = _PART_LENGTHS[part]
        if pos == len(value) and part in _OPTIONAL:
            break
        if len(value) - pos < size:
            return
        fields.append((part, value[pos : pos + size]))
        pos += size
    if pos != len(value):
        return
    dates: list[dt.date] = []
    for part, text in fields:
        if part in ("d0", "d", "d?"):
            dates.append(_yymmdd(text, f"{what} {value}", today, day00=part == "d0"))
        elif part == "D":
            dates.append(_yyyymmdd(text, f"{what} {value}"))
        else:
            _check_time(part, text, f"{what} {value}")
    if len(dates) == 2 and dates[1] < dates[0]:
        raise InvalidCodeError(
            f"{what} {value}: the range ends ({dates[1].isoformat()}) before it starts "
            f"({dates[0].isoformat()})"
        )


def _yymmdd(yymmdd: str, what: str, today: dt.date | None, *, day00: bool) -> dt.date:
    """The date of six digits YYMMDD (century from ``today``); ``what`` names it in errors."""
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if not 1 <= month <= 12:
        raise InvalidCodeError(f"{what}: month {yymmdd[2:4]} is not 01-12")
    if today is None:
        today = dt.datetime.now(tz=dt.UTC).date()
    century = today.year - today.year % 100
    diff = yy - today.year % 100
    if 51 <= diff <= 99:
        century -= 100
    elif -99 <= diff <= -50:
        century += 100
    return _calendar_day(century + yy, month, day, yymmdd[4:], what, day00)


def _yyyymmdd(text: str, what: str) -> dt.date:
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not 1 <= month <= 12:
        raise InvalidCodeError(f"{what}: month {text[4:6]} is not 01-12")
    return _calendar_day(year, month, day, text[6:], what, day00=False)


def _calendar_day(year: int, month: int, day: int, dd: str, what: str, day00: bool) -> dt.date:
    last = calendar.monthrange(year, month)[1]
    if day == 0 and not day00:
        raise InvalidCodeError(
            f"{what}: day 00 (no day) is not allowed here; only the dates of (11), (12), (13),"
            " (15), (16), (17), (4324) and (4325) may leave the day out"
        )
    if day > last:
        allowed = f"01-{last:02d}, or 00 for the end of the month" if day00 else f"01-{last:02d}"
        raise InvalidCodeError(
            f"{what}: day {dd} is not valid for {calendar.month_name[month]} {year} ({allowed})"
        )
    return dt.date(year, month, day or last)


def _check_time(part: str, text: str, what: str) -> None:
    hour = int(text[:2]) if part in ("t", "t?", "h") else 0
    minute = int(text[2:]) if part in ("t", "t?") else int(text) if part == "m" else 0
    second = int(text) if part == "s" else 0
    if hour > 23:
        raise InvalidCodeError(f"{what}: hour {hour:02d} is not 00-23")
    if minute > 59:
        raise InvalidCodeError(f"{what}: minute {minute:02d} is not 00-59")
    if second > 59:
        raise InvalidCodeError(f"{what}: second {second:02d} is not 00-59")


def _same_expiry(date: dt.date, yymmdd: str) -> bool:
    if not isinstance(yymmdd, str) or len(yymmdd) != 6 or not yymmdd.isdigit():
        return False
    if date.strftime("%y%m") != yymmdd[:4]:
        return False
    return date.day == _day_of(date.year, date.month, int(yymmdd[4:]))


def _day_of(year: int, month: int, day: int) -> int:
    """The day GS1 day ``day`` of ``year``-``month`` names: day 00 is the month's last day."""
    last = calendar.monthrange(year, month)[1]
    return day or last


def expiry_yymmdd(expiry: str | int | dt.date) -> int:
    """Return a GS1 expiry (``"261231"``, ``261231`` or a date) as the YYMMDD integer.

    Raises:
        InvalidCodeError: if a text is not six digits, or the value is not a date (day 00,
            the month's last day, is one).
    """
    if isinstance(expiry, dt.date):
        return (expiry.year % 100) * 10000 + expiry.month * 100 + expiry.day
    if isinstance(expiry, str) and not (len(expiry) == 6 and expiry.isdigit()):
        raise InvalidCodeError(f"expiry {expiry!r} is not a GS1 date: six digits YYMMDD")
    value = int(expiry)
    if end_of_day(value) == 0:
        raise InvalidCodeError(f"expiry {value:06d} is not a date (YYMMDD; day 00 ends the month)")
    return value


def end_of_day(yymmdd: int) -> int:
    """Return the last second (UTC) of GS1 date ``yymmdd`` read as 20YY, as ``GS1Date.endOfDay``
    does: day 00 is the month's last day; an invalid date gives 0."""
    year, month, day = 2000 + yymmdd // 10000, (yymmdd // 100) % 100, yymmdd % 100
    if yymmdd > 991231 or not 1 <= month <= 12:
        return 0
    last = calendar.monthrange(year, month)[1]
    day = day or last
    if day > last:
        return 0
    return calendar.timegm((year, month, day, 23, 59, 59, 0, 0, 0))


def same_day(scanned: int, registered: int) -> bool:
    """Return whether GS1 dates ``scanned`` and ``registered`` name the same day, as
    ``GS1Date.sameDay`` does: YYMM00 is YYMM<last day of that month>.

    ``registered`` must be a valid date (a lot's expiry); ``scanned`` may be anything.
    """
    if scanned == registered:
        return True
    if scanned // 100 != registered // 100:
        return False
    year, month = 2000 + registered // 10000, (registered // 100) % 100
    return _day_of(year, month, scanned % 100) == _day_of(year, month, registered % 100)
