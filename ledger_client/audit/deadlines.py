"""Deadlines in business days: when an exception's answer is due, how old it is, and which
exceptions are overdue at a given time.

A business day is a weekday that is not on the holiday list, in the time zone of the member
who must act (the counterparty answers an exception), from its location master data where
the catalogue has one, else UTC (every result says which zone it used). An exception opened
on day D is due by the end of the Nth business day after D: opened on a Monday with 3 days,
it is due at midnight ending Thursday; opened on a Saturday, at midnight ending Wednesday.
Its age is the number of business days after D up to the day of "now". "Now" is the time the
caller gives: the chain's latest block time (or ``--at``), never the machine's clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from ledger_client.errors import InvalidInputError

#: HDA's figure: an exception is to be answered within three business days.
DEFAULT_ANSWER_DAYS = 3
_WEEKEND = (5, 6)  # Saturday, Sunday


def parse_holidays(texts: Iterable[str]) -> frozenset[date]:
    """Holiday dates from ISO 8601 texts (``2026-12-25``); a precise error for any other."""
    days = set()
    for text in texts:
        try:
            days.add(date.fromisoformat(text.strip()))
        except ValueError:
            raise InvalidInputError(
                f"holiday {text!r} is not a date: give it as YYYY-MM-DD (2026-12-25)"
            ) from None
    return frozenset(days)


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekdays but ``holidays``; ``answer_days`` business days to answer an exception."""

    answer_days: int = DEFAULT_ANSWER_DAYS
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 1 <= self.answer_days <= 365:
            raise InvalidInputError(
                f"business days to answer must be 1 to 365, got {self.answer_days}"
            )

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is a weekday off the holiday list."""
        return day.weekday() not in _WEEKEND and day not in self.holidays

    def due(self, opened_at: int, zone: tzinfo | None) -> int:
        """When an exception opened at ``opened_at`` (Unix seconds) must be answered by: the
        end of the ``answer_days``-th business day after its opening day, in ``zone``."""
        zone = zone or UTC
        day, left = datetime.fromtimestamp(opened_at, zone).date(), self.answer_days
        while left:
            day += timedelta(days=1)
            left -= self.is_business_day(day)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        return int(end.timestamp())

    def age(self, start: int, end: int, zone: tzinfo | None) -> int:
        """Business days after the day of ``start`` up to and including the day of ``end``."""
        zone = zone or UTC
        first = datetime.fromtimestamp(start, zone).date()
        last = datetime.fromtimestamp(end, zone).date()
        return sum(
            self.is_business_day(first + timedelta(days=n))
            for n in range(1, (last - first).days + 1)
        )


def iso(ts: int) -> str:
    """Unix seconds as ISO 8601 UTC (``2026-12-01T09:00:00Z``)."""
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def zone_name(zone: tzinfo | None) -> str:
    """The IANA name of ``zone``; ``UTC`` for None (no master data)."""
    return "UTC" if zone is None else str(getattr(zone, "key", zone))


class Steps(Protocol):
    """An exception's step times (Unix seconds; 0 for a step not taken)."""

    @property
    def opened_at(self) -> int: ...
    @property
    def answered_at(self) -> int: ...
    @property
    def resolved_at(self) -> int: ...


def answer_timing(
    calendar: BusinessCalendar, case: Steps, still_open: bool, now: int, zone: tzinfo | None
) -> tuple[int, dict[str, Any]]:
    """``case``'s answer deadline in ``zone``, and its times as the reports and the gateway
    show them: each step's (ISO 8601, None for one not taken), the deadline, whether it is
    overdue (``still_open`` past it at ``now``), its age in business days (to its resolution,
    or to ``now``) and the zone's name."""
    due = calendar.due(case.opened_at, zone)
    return due, {
        "opened_at": iso(case.opened_at),
        "answered_at": iso(case.answered_at) if case.answered_at else None,
        "resolved_at": iso(case.resolved_at) if case.resolved_at else None,
        "answer_due_at": iso(due),
        "answer_overdue": still_open and now >= due,
        "age_business_days": calendar.age(case.opened_at, case.resolved_at or now, zone),
        "time_zone": zone_name(zone),
    }
