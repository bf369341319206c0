"""Weak serials: the detector tells counters and short serials from random ones, Ledger.commission
warns (and still commissions), and an observer with only the chain's logs and the product
directory reverses counter serials' pack ids but not random ones'."""

from __future__ import annotations

import math
import random
import string
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_client.devnet import DevNetwork
from ledger_client.errors import WeakSerialsWarning
from ledger_client.events import decode
from ledger_client.events.schema import MemberAdded, PacksCommissioned, ProductRegistered
from ledger_client.gs1.serial_entropy import (
    MIN_SERIAL_BITS,
    assess_serials,
    serial_bits,
)
from ledger_client.ids import pack_id
from ledger_client.logs import fetch_logs
from ledger_client.types import PackStatus
from tests.utils.factories import EXPIRY, GTIN

ALPHANUMERIC = string.ascii_letters + string.digits
#: The formats the observer tries, with every counter value below :data:`SEARCH`.
FORMATS = ("{n}", "{n:04d}", "{n:06d}", "{n:09d}", "S{n}", "S{n:04d}", "S{n:06d}", "S{n:09d}")
SEARCH = 2_000


def random_serials(seed: int, count: int, length: int, alphabet: str = ALPHANUMERIC) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(alphabet, k=length)) for _ in range(count)]


@given(seed=st.integers(0, 2**32), count=st.integers(1, 300))
def test_random_twenty_character_alphanumeric_serials_never_warn(seed: int, count: int) -> None:
    report = assess_serials(random_serials(seed, count, 20))
    assert not report.weak, report
    assert report.min_bits >= MIN_SERIAL_BITS


@given(
    start=st.integers(0, 10**12),
    count=st.integers(2, 300),
    step=st.integers(1, 16),
    head=st.text(ALPHANUMERIC + "-", max_size=8),
    tail=st.text(string.ascii_letters + "-", max_size=4),
    width=st.integers(1, 15),
)
def test_counters_always_warn(
    start: int, count: int, step: int, head: str, tail: str, width: int
) -> None:
    serials = [f"{head}{start + k * step:0{width}d}{tail}"[:20] for k in range(count)]
    serials = list(dict.fromkeys(serials))  # a cut that leaves duplicates is no batch
    if len(serials) < 2:
        return
    report = assess_serials(serials)
    assert report.weak, serials
    assert report.sequential == len(serials)


def test_the_estimate_is_length_times_log2_of_the_classes_used() -> None:
    assert serial_bits("123456789012") == pytest.approx(12 * 3.321928, abs=1e-5)  # 40 bits
    assert serial_bits("A1B2C3D4E5F6") == pytest.approx(12 * 5.169925, abs=1e-5)  # 36 chars
    assert serial_bits("aB3-") == pytest.approx(4 * 6.357552, abs=1e-5)  # all 82 of set 82


def test_a_fixed_prefix_adds_no_entropy_in_a_batch() -> None:
    serials = [f"ACME-{s}" for s in random_serials(7, 50, 6, string.ascii_uppercase)]
    report = assess_serials(serials)
    # 6 varying capitals (28 bits), not the whole text's 11 characters of capitals and
    # symbols (61 bits)
    assert report.sequential == 0 and report.low_entropy == 50
    assert report.min_bits == pytest.approx(6 * math.log2(26))


@given(seed=st.integers(0, 2**32), count=st.integers(50, 300))
def test_random_twelve_capitals_and_digits_do_not_warn_though_some_hold_no_digit(
    seed: int, count: int
) -> None:
    """12 random characters of 36 carry 62 bits. About one in fifty such serials holds no
    digit; alone it would read as 12 capitals (56 bits), but its batch shows the generator.
    (From 50 serials a case: in a batch of 8, five of the twelve positions lack a digit by
    chance about once in a thousand batches, and the estimate falls under 60 bits.)"""
    serials = random_serials(seed, count, 12, string.ascii_uppercase + string.digits)
    report = assess_serials(serials)
    assert not report.weak, report
    assert report.min_bits > MIN_SERIAL_BITS + 1


def test_one_odd_serial_does_not_lend_its_letters_to_a_batch_of_digits() -> None:
    serials = random_serials(3, 99, 12, string.digits) + ["XKQWZRTPLMVB"]
    report = assess_serials(serials)
    assert report.low_entropy == 100  # 12 digits carry 40 bits; 12 capitals 56
    assert report.min_bits == pytest.approx(12 * math.log2(10))
    assert serial_bits("XKQWZRTPLMVB") == pytest.approx(12 * math.log2(26))


def test_sequential_serials_are_counted_and_named_in_the_message() -> None:
    report = assess_serials([f"S{k:09d}" for k in range(100)] + random_serials(1, 10, 20))
    assert (report.serials, report.sequential, report.low_entropy) == (110, 100, 100)
    text = report.message(GTIN)
    assert "100 of 110 follow a counter" in text and GTIN in text


def test_commissioning_counter_serials_warns_and_still_commissions(net: DevNetwork) -> None:
    maker = net["manufacturer"]
    maker.register_lot(GTIN, "WEAK1", EXPIRY)
    with pytest.warns(WeakSerialsWarning, match=r"3 of 3 follow a counter") as caught:
        maker.commission(GTIN, "WEAK1", ["S1", "S2", "S3"])
    assert caught[0].filename == __file__  # it points at the caller, not at the library
    assert maker.pack_state(GTIN, "S2").status == PackStatus.ACTIVE


def test_commissioning_random_serials_does_not_warn(net: DevNetwork) -> None:
    maker = net["manufacturer"]
    maker.register_lot(GTIN, "STRONG1", EXPIRY)
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakSerialsWarning)
        maker.commission(GTIN, "STRONG1", random_serials(3, 20, 20))


def _observed_pack_ids(net: DevNetwork) -> tuple[list[str], list[int], set[bytes]]:
    """What anyone reading the chain sees: the directory's GTINs, the member indexes of the
    accounts that commissioned, and every commissioned pack id."""
    events = decode(fetch_logs(net["manufacturer"].w3, net.deployment))
    gtins = [e.gtin14 for e in events if isinstance(e, ProductRegistered)]
    index = {e.account: e.index for e in events if isinstance(e, MemberAdded)}
    commissioned = [e for e in events if isinstance(e, PacksCommissioned)]
    owners = sorted({index[e.by] for e in commissioned})
    ids = {i for e in commissioned for i in e.pack_ids}
    return gtins, owners, ids


def _reverse(gtins: list[str], owners: list[int], ids: set[bytes]) -> dict[bytes, str]:
    """The observer's bounded search: every counter format below SEARCH, for every GTIN of
    the directory under every member index that commissioned."""
    found = {}
    for gtin in gtins:
        for owner in owners:
            for fmt in FORMATS:
                for n in range(SEARCH):
                    serial = fmt.format(n=n)
                    candidate = pack_id(gtin, serial, owner=owner)
                    if candidate in ids:
                        found[candidate] = serial
    return found


@pytest.mark.filterwarnings("ignore::ledger_client.errors.WeakSerialsWarning")
def test_an_observer_reverses_counter_serials_from_the_logs_but_not_random_ones(
    net: DevNetwork,
) -> None:
    maker = net["manufacturer"]
    maker.register_product(GTIN, "Amoxicillin 500 mg caps", "500 mg", "capsule", "0614-1410-01")
    maker.register_lot(GTIN, "SEQ1", EXPIRY)
    counter = [f"S{k:09d}" for k in range(1, 201)]
    maker.commission(GTIN, "SEQ1", counter)
    maker.register_lot(GTIN, "RND1", EXPIRY)
    strong = random_serials(11, 200, 12)
    maker.commission(GTIN, "RND1", strong)
    gtins, owners, ids = _observed_pack_ids(net)
    assert len(ids) == 400
    found = _reverse(gtins, owners, ids)
    assert sorted(found.values()) == counter  # every counter pack: the lot's exact volume
    strong_ids = {pack_id(GTIN, s, owner=maker.member_index) for s in strong}
    assert strong_ids <= ids and not strong_ids & found.keys()
