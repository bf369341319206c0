"""Tests for ledger_client.gs1.dates: GS1 expiries as the chain reads them, and the one rule that
compares a scanned expiry with a lot's (day 00 is the month's last day)."""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_client.gs1.dates import end_of_day, same_day


@st.composite
def valid_dates(draw: st.DrawFn) -> int:
    """A valid GS1 YYMMDD (day 00 included), as an integer."""
    yy, month = draw(st.integers(0, 99)), draw(st.integers(1, 12))
    day = draw(st.integers(0, calendar.monthrange(2000 + yy, month)[1]))
    return yy * 10000 + month * 100 + day


@given(yy=st.integers(0, 99), month=st.integers(1, 12))
def test_day_00_is_the_same_day_as_the_month_s_last_day(yy: int, month: int) -> None:
    day_00 = yy * 10000 + month * 100
    full = day_00 + calendar.monthrange(2000 + yy, month)[1]
    assert same_day(day_00, full) and same_day(full, day_00)
    assert not same_day(full - 1, day_00) and not same_day(day_00, full - 1)


@given(valid_dates(), st.integers(0, 999_999) | valid_dates())
def test_same_day_means_the_chain_s_end_of_day_is_the_same(registered: int, scanned: int) -> None:
    expires = end_of_day(scanned)
    assert same_day(scanned, registered) == (expires != 0 and expires == end_of_day(registered))


@pytest.mark.parametrize(
    ("scanned", "registered", "same"),
    [
        (280229, 280200, True),  # 2028 is a leap year
        (280228, 280200, False),
        (270228, 270200, True),
        (270229, 270200, False),  # not a date
        (229, 200, True),  # 2000 is a leap year: divisible by 400
        (280631, 280600, False),  # June has 30 days
    ],
)
def test_same_day_at_the_end_of_february_and_of_short_months(
    scanned: int, registered: int, same: bool
) -> None:
    assert same_day(scanned, registered) is same
