"""GS1 expiry dates as the chain reads them (``contracts/libraries/GS1Date.sol``)."""

from __future__ import annotations

import calendar
import datetime as dt


def end_of_day(yymmdd: int) -> int:
    """Return the last second (UTC) of GS1 date ``yymmdd`` in 20YY, as GS1Date.endOfDay does.

    Day 00 is the month's last day; an invalid date gives 0, as on chain.
    """
    year, month, day = 2000 + yymmdd // 10000, (yymmdd // 100) % 100, yymmdd % 100
    if yymmdd > 991231 or not 1 <= month <= 12:
        return 0
    last = calendar.monthrange(year, month)[1]
    day = day or last
    if day > last:
        return 0
    midnight = dt.datetime(year, month, day, tzinfo=dt.UTC) + dt.timedelta(days=1)
    return int(midnight.timestamp()) - 1
