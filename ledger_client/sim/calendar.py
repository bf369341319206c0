"""The simulated world's clock: business days (Monday to Friday, UTC) and random times in
business hours, every dependent step at least one slot after the step before it."""

from __future__ import annotations

import random
import time

from ledger_client.sim.plan import DAY, SLOT


def next_monday(ts: int) -> int:
    """The first Monday 00:00 UTC after ``ts``."""
    days = ts // DAY + 1
    while (days - 4) % 7:
        days += 1
    return days * DAY


def yymmdd(ts: int) -> int:
    """The date of ``ts`` as the integer YYMMDD (a lot's expiry)."""
    t = time.gmtime(ts)
    return (t.tm_year % 100) * 10000 + t.tm_mon * 100 + t.tm_mday


class BusinessCalendar:
    """Business days counted from ``start`` (a Monday 00:00 UTC); times drawn from ``rng``."""

    def __init__(self, start: int, rng: random.Random) -> None:
        if start % (7 * DAY) != 4 * DAY:  # the epoch was a Thursday
            raise ValueError("start must be a Monday 00:00 UTC")
        self.t0, self.rng = start, rng

    def midnight(self, bd: int) -> int:
        """Midnight of business day ``bd``."""
        return self.t0 + ((bd // 5) * 7 + bd % 5) * DAY

    def day_of(self, ts: int) -> int:
        """The business day of ``ts`` (a weekend counts as the next Monday)."""
        w, r = divmod((ts - self.t0) // DAY, 7)
        return int(w * 5 + min(r, 5))

    def at(self, bd: int, h0: float, h1: float) -> int:
        """A random time on business day ``bd`` between hours ``h0`` and ``h1``."""
        return self.midnight(bd) + self.rng.randint(int(h0 * 3600), int(h1 * 3600) - 1)

    def after(self, ts: int, h0: float, h1: float, days: int = 0) -> int:
        """A business-hours time ``days`` business days after ``ts`` (same day: after it)."""
        bd = self.day_of(ts) + days
        lo = max(self.midnight(bd) + int(h0 * 3600), ts + SLOT + 1)
        hi = self.midnight(bd) + int(h1 * 3600)
        if lo >= hi:
            return self.after(ts, h0, h1, days + 1) if days == 0 else self.at(bd + 1, h0, h1)
        return self.rng.randint(lo, hi)

    def transit(self, ship: int) -> int:
        """When a shipment is received: next business day mostly, sometimes same day or two."""
        u = self.rng.random()
        hour = (ship - self.t0) % DAY / 3600
        if hour < 11 and u < 0.15:
            return self.after(ship, 15, 18)
        return self.after(ship, 8, 12, 1 if u < 0.85 else 2)
