"""A member's opening hours from its location master data: per weekday, intervals of its
local day, and the holidays it closes on.

The master data's ``business_hours`` is ``"08:00-20:00"`` (every day), a list of such
intervals (``["07:00-17:00", "21:00-23:45"]``), or a weekday map
(``{"mon": [...], ..., "sun": []}``; a weekday it does not name, or names with no interval,
is closed); ``"00:00-24:00"`` is a site open round the clock. ``holidays`` lists ISO dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ledger_client.errors import InvalidInputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = tuple[int, int]  # minutes of the local day: [opening, closing)


def parse_interval(text: str) -> Interval:
    """``"08:00-19:30"`` as (opening, closing) minutes of the day; raise
    :class:`InvalidInputError` for anything else."""
    try:
        start, end = (part.strip() for part in text.split("-"))
        opening, closing = (int(t[:2]) * 60 + int(t[3:5]) for t in (start, end))
        ok = len(start) == len(end) == 5 and 0 <= opening < closing <= 24 * 60
    except ValueError:
        ok = False
    if not ok:
        raise InvalidInputError(f"business hours {text!r} are not HH:MM-HH:MM (08:00-19:00)")
    return opening, closing


def _intervals(value: object) -> tuple[Interval, ...]:
    if isinstance(value, str):
        return (parse_interval(value),)
    if isinstance(value, list | tuple):
        return tuple(parse_interval(str(v)) for v in value)
    raise InvalidInputError(f"business hours {value!r} are not HH:MM-HH:MM or a list of them")


def clock(minutes: int) -> str:
    """Minutes of the day as ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class OpeningHours:
    """Opening intervals per weekday (Monday first) and the holidays closed."""

    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, hours: object, holidays: object = ()) -> OpeningHours:
        """From master data values (see the module); raise :class:`InvalidInputError`."""
        if isinstance(hours, dict):
            unknown = set(hours) - set(WEEKDAYS)
            if unknown:
                raise InvalidInputError(f"business hours name no weekday {sorted(unknown)}")
            week = tuple(_intervals(hours.get(d, [])) for d in WEEKDAYS)
        else:
            week = (_intervals(hours),) * 7
        if not isinstance(holidays, list | tuple):
            raise InvalidInputError(f"holidays {holidays!r} are not a list of ISO dates")
        try:
            days = frozenset(date.fromisoformat(str(d)) for d in holidays)
        except ValueError:
            raise InvalidInputError(f"holidays {holidays!r} are not ISO dates") from None
        return cls(week, days)

    @classmethod
    def every_day(cls, opening: int, closing: int) -> OpeningHours:
        """The same hours (minutes of the day) every day, no holidays."""
        return cls(tuple(((opening, closing),) for _ in WEEKDAYS))

    def intervals(self, day: date) -> tuple[Interval, ...]:
        """The opening intervals of ``day`` (none on a holiday)."""
        return () if day in self.holidays else self.week[day.weekday()]

    def is_open(self, local: datetime, grace: int = 0) -> bool:
        """Whether ``local`` (a time in the member's zone) falls within its hours, widened by
        ``grace`` minutes either side."""
        t = local.hour * 60 + local.minute
        return any(a - grace <= t < b + grace for a, b in self.intervals(local.date()))

    def words(self, day: date) -> str:
        """``day``'s hours as people read them: ``08:00-20:00``, ``closed (holiday)``."""
        if day in self.holidays:
            return "closed (holiday)"
        spans = self.intervals(day)
        return ", ".join(f"{clock(a)}-{clock(b)}" for a, b in spans) if spans else "closed"
