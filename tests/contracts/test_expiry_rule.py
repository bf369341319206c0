"""One expiry rule: a day 00 expiry (YYMM00, the month's last day) is the same expiry as that
day written in full, on chain (SerialRegistry.verify) and in the gateway's index verdict."""

from __future__ import annotations

import calendar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger_client.gs1 import PackCode
from ledger_client.rules import verdict
from ledger_client.types import Verification, VerificationStatus
from tests.utils.chain import Chain
from tests.utils.factories import GTIN
from tests.utils.facts import Facts

V = VerificationStatus


@settings(max_examples=30)
@given(yy=st.integers(0, 99), month=st.integers(1, 12), registered_day_00=st.booleans())
@example(yy=28, month=2, registered_day_00=True)  # leap year: 280200 is 280229
@example(yy=28, month=2, registered_day_00=False)
@example(yy=27, month=2, registered_day_00=True)  # 270200 is 270228
@example(yy=0, month=2, registered_day_00=True)  # 2000 is a leap year (divisible by 400)
def test_day_00_and_the_last_day_verify_the_same_on_chain_and_in_the_gateway(
    chain: Chain, yy: int, month: int, registered_day_00: bool
) -> None:
    last = calendar.monthrange(2000 + yy, month)[1]
    day_00, full = f"{yy:02d}{month:02d}00", f"{yy:02d}{month:02d}{last:02d}"
    lot, serial = "X1", "S1"
    chain.revert(chain.deployed)
    m = chain.net["manufacturer"]
    m.register_lot(GTIN, lot, day_00 if registered_day_00 else full)
    m.commission(GTIN, lot, [serial])
    now = chain.now()
    for scanned in (day_00, full, f"{yy:02d}{month:02d}{last - 1:02d}"):
        v = m.verify(GTIN, serial, lot, scanned)
        code = PackCode(GTIN, serial, lot, expiry_yymmdd=scanned)
        assert verdict(code, Facts.of(v), m.owners.index(GTIN), now) == v.status, scanned
        if scanned in (day_00, full):
            assert v.status in (V.VERIFIED, V.EXPIRED), scanned
        else:
            assert v.status == V.EXPIRY_MISMATCH, scanned


@pytest.mark.parametrize(
    ("scanned", "status"),
    [
        (280630, V.VERIFIED),
        (280600, V.VERIFIED),
        (0, V.VERIFIED),  # no expiry scanned
        (280629, V.EXPIRY_MISMATCH),
        (280631, V.EXPIRY_MISMATCH),  # not a date: June has 30 days
        (280700, V.EXPIRY_MISMATCH),
        (270600, V.EXPIRY_MISMATCH),
        (1280630, V.EXPIRY_MISMATCH),  # seven digits
    ],
)
def test_chain_matches_a_scanned_expiry_only_on_the_lot_s_day(
    chain: Chain, scanned: int, status: V
) -> None:
    chain.revert(chain.deployed)
    m = chain.net["manufacturer"]
    m.register_lot(GTIN, "X1", "280600")
    m.commission(GTIN, "X1", ["S1"])
    # the contract's own answer for any scanned number (Ledger.verify refuses a non-date first)
    raw = m.registry.functions.verify(GTIN, "S1", "X1", scanned).call()
    assert Verification.from_tuple(raw).status == status
