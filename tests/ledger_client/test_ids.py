"""Ledger ids: the Python code hashes and owner-scoped ids agree byte for byte with the ones
the contracts compute."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_client.errors import InvalidCodeError, InvalidInputError
from ledger_client.ids import (
    check_gtin14,
    check_lot,
    check_serial,
    check_sscc18,
    gs1_check_digit,
    items_hash,
    lot_hash,
    lot_id,
    lot_tag,
    pack_hash,
    pack_id,
    pack_word,
    record_id,
    split_lot_tags,
    split_pack_word,
    unit_hash,
    unit_id,
    with_lot_tag,
)
from ledger_client.types import UnitStatus, VerificationStatus
from tests.utils.chain import Chain
from tests.utils.factories import EXPIRY, MANUFACTURER_PREFIX

#: GS1 AI encodable character set 82, which serials (AI 21) and lots (AI 10) use.
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

texts = st.text(alphabet=CSET82, min_size=1, max_size=20)


def with_check_digit(body: str) -> str:
    return body + str(gs1_check_digit(body))


gtins = st.text(alphabet="0123456789", min_size=13, max_size=13).map(with_check_digit)
own_gtins = st.builds(
    lambda indicator, item: with_check_digit(f"{indicator}{MANUFACTURER_PREFIX}{item}"),
    st.sampled_from("0123456789"),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
)
ssccs = st.text(alphabet="0123456789", min_size=17, max_size=17).map(with_check_digit)
own_ssccs = st.builds(
    lambda extension, ref: with_check_digit(f"{extension}{MANUFACTURER_PREFIX}{ref}"),
    st.sampled_from("0123456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


# ---------------------------------------------------------------- Python ids = contract ids


@given(gtin=gtins | own_gtins, serial=texts)
def test_pack_id_equals_the_pack_id_the_registry_computes(
    chain: Chain, gtin: str, serial: str
) -> None:
    auditor = chain.net["auditor"]
    result = auditor.verify(gtin, serial)
    owner = auditor.owners.index(gtin)
    if owner:  # looked up under the member owning the GTIN's prefix
        assert result.pack_id == pack_id(gtin, serial, owner=owner)
    else:
        assert result.status == VerificationStatus.PRODUCT_MISMATCH


@settings(max_examples=15)
@given(gtin=own_gtins, lot=texts, serial=texts)
def test_a_lot_registered_by_its_python_id_verifies_with_the_clear_lot(
    chain: Chain, gtin: str, lot: str, serial: str
) -> None:
    chain.revert(chain.deployed)
    m = chain.net["manufacturer"]
    m.register_lot(gtin, lot, EXPIRY)  # sends lot_hash(gtin, lot)
    m.commission(gtin, lot, [serial])
    result = m.verify(gtin, serial, lot, EXPIRY)
    assert result.status == VerificationStatus.VERIFIED
    assert result.lot.id == lot_id(gtin, lot, owner=m.member_index)
    assert result.pack.lot_tag == lot_tag(gtin, serial, lot)
    other = lot + "0" if len(lot) < 20 else lot[:-1]
    assert m.verify(gtin, serial, other, EXPIRY).status == VerificationStatus.LOT_MISMATCH


@settings(max_examples=10)
@given(sscc=own_ssccs)
def test_a_unit_packed_by_its_python_id_is_found_by_it(chain: Chain, sscc: str) -> None:
    chain.revert(chain.deployed)
    m = chain.net["manufacturer"]
    gtin = with_check_digit(f"0{MANUFACTURER_PREFIX}00001")
    m.register_lot(gtin, "L", EXPIRY)
    m.commission(gtin, "L", ["S1"], into_sscc=sscc)
    unit = m.unit_state(sscc)
    assert (unit.status, unit.custodian) == (UnitStatus.ACTIVE, m.address)
    assert m.pack_state(gtin, "S1").parent == unit.index


@given(gtin=gtins, serial=texts, lot=texts, sscc=ssccs, owner=st.integers(0, 2**32 - 1))
def test_ids_follow_the_documented_layout(
    gtin: str, serial: str, lot: str, sscc: str, owner: int
) -> None:
    # the pack hash leaves its last 3 bytes to the lot tag
    assert pack_hash(gtin, serial) == keccak(f"01{gtin}21{serial}".encode("ascii"))[:29] + bytes(3)
    tag = keccak(f"01{gtin}21{serial}\x1d10{lot}".encode("ascii"))[:3]
    assert lot_tag(gtin, serial, lot) == tag
    assert pack_word(gtin, serial, lot) == pack_hash(gtin, serial)[:29] + tag
    assert lot_hash(gtin, lot) == keccak(f"01{gtin}10{lot}".encode("ascii"))
    assert unit_hash(sscc) == keccak(f"00{sscc}".encode("ascii"))
    # Application identifiers keep kinds apart: a serial and a lot with the same text differ.
    assert pack_hash(gtin, lot) != lot_hash(gtin, lot)
    # an id is keccak256(abi.encode(uint256 owner, bytes32 code hash))
    for scoped, code_hash in (
        (pack_id(gtin, serial, owner=owner), pack_hash(gtin, serial)),
        (lot_id(gtin, lot, owner=owner), lot_hash(gtin, lot)),
        (unit_id(sscc, owner=owner), unit_hash(sscc)),
    ):
        assert scoped == record_id(owner, code_hash)
        assert scoped == keccak(owner.to_bytes(32, "big") + code_hash)
    assert pack_id(gtin, serial, owner=owner) != pack_id(gtin, serial, owner=owner + 1)


@given(gtin=gtins, serial=texts, lot=texts, other=texts)
def test_a_pack_word_splits_into_its_pack_hash_and_lot_tag(
    gtin: str, serial: str, lot: str, other: str
) -> None:
    word = pack_word(gtin, serial, lot)
    assert split_pack_word(word) == (pack_hash(gtin, serial), lot_tag(gtin, serial, lot))
    assert with_lot_tag(*split_pack_word(word)) == word
    # the pack's id never depends on its lot: the contract scopes the hash, tag zeroed
    assert record_id(1, split_pack_word(word)[0]) == pack_id(gtin, serial, owner=1)
    if other != lot:  # 24 bits: a wrong lot matches one pack's tag in 16.7 million
        assert lot_tag(gtin, serial, other) != lot_tag(gtin, serial, lot)


def test_the_group_separator_keeps_the_serial_and_the_lot_apart() -> None:
    """Without it, serial "A10B" of lot "C" and serial "A" of lot "B10C" hash the same text."""
    gtin = with_check_digit("0950600013435")
    assert lot_tag(gtin, "A10B", "C") != lot_tag(gtin, "A", "B10C")


@given(tags=st.lists(st.binary(min_size=3, max_size=3), max_size=40))
def test_lot_tags_split_back_into_the_tags_they_concatenate(tags: list[bytes]) -> None:
    assert split_lot_tags(b"".join(tags)) == tags


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (split_lot_tags, (b"\x01\x02",)),
        (split_pack_word, (bytes(31),)),
        (with_lot_tag, (bytes(32), bytes(2))),
        (with_lot_tag, (bytes(31) + b"\x01", bytes(3))),  # the hash's tag bytes are set
    ],
)
def test_malformed_words_and_tags_are_refused(call: object, args: tuple[bytes, ...]) -> None:
    with pytest.raises(InvalidInputError):
        call(*args)  # type: ignore[operator]


# ---------------------------------------------------------------- the checks


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("0950600013435", 2),  # GTIN-14 09506000134352 (GS1 example)
        ("400638133393", 1),  # GTIN-13 4006381333931
        ("10614141123456789", 7),  # SSCC 106141411234567897
        ("0000000000000", 0),
    ],
)
def test_gs1_check_digit_known_values(body: str, digit: int) -> None:
    assert gs1_check_digit(body) == digit


@given(gtin=gtins)
def test_any_other_check_digit_is_rejected(gtin: str) -> None:
    assert check_gtin14(gtin) == gtin
    for wrong in set("0123456789") - {gtin[-1]}:
        with pytest.raises(InvalidCodeError, match="check digit"):
            check_gtin14(gtin[:-1] + wrong)


@pytest.mark.parametrize(
    "gtin",
    [
        "0950600013435",
        "095060001343520",
        "0950600013435A",
        " 09506000134352",
        "",
        "０９５０６０００１３４３５２",
    ],
)
def test_malformed_gtins_are_rejected(gtin: str) -> None:
    with pytest.raises(InvalidCodeError):
        pack_hash(gtin, "S1")


@pytest.mark.parametrize(
    "sscc", ["10614141123456789", "1061414112345678970", "106141411234567898", "10614141123456789X"]
)
def test_malformed_ssccs_are_rejected(sscc: str) -> None:
    with pytest.raises(InvalidCodeError):
        unit_hash(sscc)
    with pytest.raises(InvalidCodeError):
        check_sscc18(sscc)


@pytest.mark.parametrize(
    "text", ["", "A" * 21, "with space", "é", "tab\t", "hash#", "at@", "a\x1d"]
)
def test_serials_and_lots_outside_cset82_or_too_long_are_rejected(text: str) -> None:
    with pytest.raises(InvalidCodeError):
        check_serial(text)
    with pytest.raises(InvalidCodeError):
        check_lot(text)
    with pytest.raises(InvalidCodeError):
        lot_hash("09506000134352", text)


@given(text=texts)
def test_every_cset82_value_of_1_to_20_characters_is_accepted(text: str) -> None:
    assert check_serial(text) == text
    assert check_lot(text) == text


def test_invalid_code_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        pack_hash("123", "S1")


def test_items_hash_is_keccak_of_the_sorted_ids_whatever_the_scan_order() -> None:
    ids = [bytes([b]) * 32 for b in (3, 1, 2)]
    expected = keccak(b"".join(sorted(ids)))
    assert items_hash(ids) == items_hash(reversed(ids)) == expected
    assert items_hash(ids[:1]) == keccak(ids[0])


@pytest.mark.parametrize(
    ("ids", "message"),
    [([], "at least one"), ([b"\x01" * 32] * 2, "named twice"), ([b"\x01" * 31], "32 bytes")],
)
def test_items_hash_refuses_an_empty_repeated_or_malformed_list(
    ids: list[bytes], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        items_hash(ids)
