"""GS1 expiry dates (AI 17, YYMMDD) as the chain reads them: ``contracts/libraries/GS1Date.sol``.

One rule compares a scanned expiry with a lot's registered one, everywhere (the contract's
``verify``, the gateway, the auditor, the EPCIS executor): :func:`same_day`.
"""

from __future__ import annotations

import calendar
from datetime import date

from ledger_client.errors import InvalidCodeError


def expiry_yymmdd(expiry: str | int | date) -> int:
    """Return a GS1 expiry (``"261231"``, ``261231`` or a date) as the YYMMDD integer.

    Raises:
        InvalidCodeError: if a text is not six digits, or the value is not a date (day 00,
            the month's last day, is one).
    """
    if isinstance(expiry, date):
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
    last = calendar.monthrange(2000 + registered // 10000, (registered // 100) % 100)[1]
    return (scanned % 100 or last) == (registered % 100 or last)
