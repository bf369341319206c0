"""The simulated world's clocks: each member's local calendar (time zone, opening hours per
weekday, holidays) and helpers for dates. Day ``d`` is the ``d``-th calendar day after the
start (a Monday); every dependent step is at least one slot after the step before it."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ledger_client.sim.plan import DAY, SLOT

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Public holidays (members close on those of their country).
HOLIDAYS = {
    "US": (
        "2026-11-26",
        "2026-12-25",
        "2027-01-01",
        "2027-01-18",
        "2027-02-15",
        "2027-05-31",
        "2027-07-05",
        "2027-09-06",
        "2027-11-25",
        "2027-12-24",
        "2027-12-31",
        "2028-01-17",
    ),
    "IN": ("2026-11-08", "2027-01-26", "2027-03-22", "2027-08-15", "2027-10-02", "2027-10-29"),
}


def next_monday(ts: int) -> int:
    """The first Monday 00:00 UTC after ``ts``."""
    days = ts // DAY + 1
    while (days - 4) % 7:
        days += 1
    return days * DAY


def yymmdd(ts: int) -> int:
    """The date of ``ts`` (UTC) as the integer YYMMDD (a lot's expiry)."""
    t = time.gmtime(ts)
    return (t.tm_year % 100) * 10000 + t.tm_mon * 100 + t.tm_mday


Hours = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Site:
    """A member's location: time zone, opening hours per weekday (Monday first; intervals
    of local hours, the first one where goods are received), holidays (ISO dates)."""

    zone: str
    hours: tuple[Hours, ...]
    holidays: tuple[str, ...]
    start: int

    @property
    def tz(self) -> ZoneInfo:
        """The time zone."""
        return ZoneInfo(self.zone)

    def date(self, d: int) -> date:
        """The local date of day ``d``."""
        return datetime.fromtimestamp(self.start, ZoneInfo("UTC")).date() + timedelta(days=d)

    def local(self, d: int, hour: float) -> int:
        """Unix time of local ``hour`` on day ``d``."""
        base = datetime.combine(self.date(d), datetime.min.time(), self.tz)
        return int(base.timestamp() + hour * 3600)

    def day_of(self, ts: int) -> int:
        """The day index of ``ts`` at this site."""
        return (datetime.fromtimestamp(ts, self.tz).date() - self.date(0)).days

    def local_day(self, ts: int) -> int:
        """The local date of ``ts`` as days from 1970-01-01 (the detectors' day numbers)."""
        return (datetime.fromtimestamp(ts, self.tz).date() - date(1970, 1, 1)).days

    def intervals(self, d: int) -> Hours:
        """The opening intervals of day ``d`` (none on a holiday)."""
        if self.date(d).isoformat() in self.holidays:
            return ()
        return self.hours[self.date(d).weekday()]

    def is_open(self, d: int) -> bool:
        """Whether the site opens on day ``d``."""
        return bool(self.intervals(d))

    def open_at(self, ts: int) -> bool:
        """Whether ``ts`` falls in the opening hours."""
        d = self.day_of(ts)
        return any(self.local(d, a) <= ts < self.local(d, b) for a, b in self.intervals(d))

    def at(self, rng: random.Random, d: int, part: int = 0, after: int = 0) -> int | None:
        """A random time on day ``d`` in opening interval ``part`` (the last one if there are
        fewer), later than ``after`` + a slot; None when there is none."""
        iv = self.intervals(d)
        if not iv:
            return None
        a, b = iv[min(part, len(iv) - 1)]
        lo, hi = max(self.local(d, a), after + SLOT + 1), self.local(d, b) - 60
        return rng.randint(lo, hi) if lo < hi else None

    def after(self, rng: random.Random, ts: int, days: int = 0, part: int = 0) -> int:
        """A time in interval ``part`` of the first open day ``days`` or more after ``ts``'s
        day, later than ``ts`` + a slot."""
        d = self.day_of(ts) + days
        for k in range(d, d + 30):
            t = self.at(rng, k, part, ts)
            if t is not None:
                return t
        raise ValueError("no opening hours within 30 days")

    def master_data(self) -> dict[str, object]:
        """The location master data the catalogue carries: time zone, hours, holidays."""
        return {
            "time_zone": self.zone,
            "business_hours": {
                WEEKDAYS[k]: [f"{_hm(a)}-{_hm(b)}" for a, b in self.hours[k]] for k in range(7)
            },
            "holidays": list(self.holidays),
        }


def _hm(h: float) -> str:
    m = round(h * 60)
    return f"{m // 60:02d}:{m % 60:02d}"
