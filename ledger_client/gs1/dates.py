"""GS1 dates (YYMMDD): the calendar date a value stands for, and expiries as the chain reads them.

:func:`expiry_to_date` reads a date with the century rule of the GS1 General
Specifications. :func:`expiry_yymmdd`, :func:`end_of_day` and :func:`same_day` mirror
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
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if not 1 <= month <= 12:
        raise InvalidCodeError(f"{what} {yymmdd}: month {yymmdd[2:4]} is not 01-12")
    if today is None:
        today = dt.datetime.now(tz=dt.UTC).date()
    century = today.year - today.year % 100
    diff = yy - today.year % 100
    if 51 <= diff <= 99:
        century -= 100
    elif -99 <= diff <= -50:
        century += 100
    year = century + yy
    last = calendar.monthrange(year, month)[1]
    if day > last:
        raise InvalidCodeError(
            f"{what} {yymmdd}: day {yymmdd[4:]} is not valid for "
            f"{calendar.month_name[month]} {year} (01-{last:02d}, or 00 for the end of the month)"
        )
    return dt.date(year, month, day or last)


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
