"""Tests for ledger_client.gs1: parsing scans, validation messages, conversions, ledger ids."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from biip import ParseConfig
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger_client.errors import InvalidCodeError, RxLedgerError
from ledger_client.gs1 import (
    DigitalLinkKey,
    Epc,
    LotCode,
    PackCode,
    ProductCode,
    UnitCode,
    expiry_to_date,
    from_epc_urn,
    ids_of,
    is_gs1_identifier,
    parse_ai_data,
    parse_code,
    parse_digital_link_path,
    parse_epc,
    to_datamatrix,
    to_digital_link,
    to_element_string,
    to_epc_urn,
)
from ledger_client.ids import gs1_check_digit, lot_id, pack_id, unit_id


def owner_of(code: str) -> int:
    """A stand-in prefix table: the owner index a GTIN's or SSCC's first digits give."""
    return int(code[1:8]) % 7 + 1


TODAY = dt.date(2025, 6, 1)
GTIN = "09506000134352"
SSCC = "106141411234567897"
GS = "\x1d"
EPCIS_EXAMPLES = Path("/work/shared/epcis/examples")
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
FULL_PACK = PackCode(GTIN, "S123", "ABC", dt.date(2026, 12, 31), "261231")


def parse(text: str, **kwargs: object) -> object:
    return parse_code(text, today=TODAY, **kwargs).code  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("text", "source_format"),
    [
        ("(01)09506000134352(17)261231(10)ABC(21)S123", "element_string"),
        ("(01)09506000134352 (17)261231 (10)ABC (21)S123", "element_string"),
        ("01095060001343521726123110ABC\x1d21S123", "datamatrix"),
        ("]d201095060001343521726123110ABC\x1d21S123", "datamatrix"),
        ("]C101095060001343521726123110ABC\x1d21S123", "datamatrix"),
        ("]Q301095060001343521726123110ABC\x1d21S123", "datamatrix"),
        ("0109506000134352172612312" + "1S123\x1d10ABC", "datamatrix"),
        ("https://id.gs1.org/01/09506000134352/10/ABC/21/S123?17=261231", "digital_link"),
        ("https://brand.example.com/some/path/01/09506000134352/10/ABC/21/S123?17=261231",
         "digital_link"),
        ("http://localhost:8000/01/09506000134352/10/ABC/21/S123?linkType=all&17=261231",
         "digital_link"),
        ("]Q1https://id.gs1.org/01/09506000134352/10/ABC/21/S123?17=261231", "digital_link"),
    ],
)  # fmt: skip
def test_every_format_of_the_same_pack_parses_to_the_same_code(
    text: str, source_format: str
) -> None:
    result = parse_code(text, today=TODAY)
    assert result.code == FULL_PACK
    assert result.source_format == source_format
    assert result.warnings == ()


def test_expiry_day_00_resolves_to_end_of_month_and_keeps_raw_value() -> None:
    code = parse("(01)09506000134352(17)260200(21)S1")
    assert isinstance(code, PackCode)
    assert code.expiry == dt.date(2026, 2, 28)
    assert code.expiry_yymmdd == "260200"
    assert to_element_string(code) == "(01)09506000134352(17)260200(21)S1"


def test_sscc_parses_from_every_format_to_a_unit_code() -> None:
    for text in (
        f"(00){SSCC}",
        f"]C100{SSCC}",
        f"https://id.gs1.org/00/{SSCC}",
        "urn:epc:id:sscc:0614141.1123456789",
    ):
        assert parse(text) == UnitCode(SSCC), text


def test_digital_link_percent_encoded_values_are_decoded() -> None:
    code = parse("https://id.gs1.org/01/09506000134352/10/A%2FB/21/S%2B%25%22?17=261231")
    assert isinstance(code, PackCode)
    assert (code.lot, code.serial) == ("A/B", 'S+%"')


def test_digital_link_gtin13_is_padded_to_gtin14() -> None:
    code = parse("https://id.gs1.org/01/9506000134352/21/S123")
    assert code == PackCode(GTIN, "S123")


def test_digital_link_ignores_non_ai_query_parameters() -> None:
    result = parse_code(
        "https://id.gs1.org/01/09506000134352/21/S1?linkType=gs1:pip&context=x", today=TODAY
    )
    assert result.code == PackCode(GTIN, "S1")
    assert result.extras == ()


def test_unsupported_ai_is_kept_in_extras_with_a_warning() -> None:
    result = parse_code("(01)09506000134352(11)250101(21)S1(710)12345678", today=TODAY)
    assert result.code == PackCode(GTIN, "S1")
    assert result.extras == (("11", "250101"), ("710", "12345678"))
    assert any("(710)" in w and "kept in extras" in w for w in result.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "(01)09506000134352(21)S1(23)XYZ",
        "010950600013435221S1\x1d89XYZ",
        "https://id.gs1.org/01/09506000134352/21/S1?999=x",
        "https://id.gs1.org/01/09506000134352/21/S1/89/ABC",
    ],
)
def test_an_ai_gs1_does_not_define_is_refused_in_every_format(text: str) -> None:
    with pytest.raises(InvalidCodeError, match="GS1 Application Identifier"):
        parse_code(text, today=TODAY)


def test_lot_and_product_codes_when_serial_not_required() -> None:
    assert parse("(01)09506000134352(10)ABC", require_serial=False) == LotCode(GTIN, "ABC")
    assert parse("(01)09506000134352", require_serial=False) == ProductCode(GTIN)


# ---------------------------------------------------------------------------- EPC


def test_tds_sgtin_example_round_trips() -> None:
    # GS1 EPC Tag Data Standard, SGTIN example: GTIN 80614141123458, serial 6789.
    urn = "urn:epc:id:sgtin:0614141.812345.6789"
    code = from_epc_urn(urn)
    assert code == PackCode("80614141123458", "6789")
    assert to_epc_urn(code, company_prefix_length=7) == urn
    assert to_epc_urn(code) == urn  # 0614141 is in the GS1 prefix length table


def test_tds_sscc_example_round_trips() -> None:
    urn = "urn:epc:id:sscc:0614141.1234567890"
    assert from_epc_urn(urn) == UnitCode("106141412345678908")
    assert to_epc_urn(UnitCode("106141412345678908")) == urn
    assert to_epc_urn(UnitCode(SSCC)) == "urn:epc:id:sscc:0614141.1123456789"


def test_epc_serial_is_escaped_and_unescaped_per_tag_data_standard() -> None:
    code = PackCode("80614141123458", 'A/B%"&<>?.x')
    urn = to_epc_urn(code, company_prefix_length=7)
    assert urn == "urn:epc:id:sgtin:0614141.812345.A%2FB%25%22%26%3C%3E%3F.x"
    assert from_epc_urn(urn) == code


def test_lgtin_class_urn_gives_a_lot_code() -> None:
    code = from_epc_urn("urn:epc:class:lgtin:4012345.011111.4444")
    assert code == LotCode("04012345111118", "4444")
    assert ids_of(code, owner_of) == lot_id("04012345111118", "4444", owner=owner_of(code.gtin))


def _epcis_urns() -> list[str]:
    pattern = re.compile(r"urn:epc:(?:id:sgtin|id:sscc|class:lgtin):[^\"\s]+")
    urns: set[str] = set()
    for path in sorted(EPCIS_EXAMPLES.glob("*.jsonld")):
        urns.update(pattern.findall(path.read_text()))
    return sorted(urns)


@pytest.mark.skipif(not EPCIS_EXAMPLES.is_dir(), reason="GS1 EPCIS examples not present")
def test_every_epcis_example_urn_parses_and_round_trips() -> None:
    urns = _epcis_urns()
    assert len(urns) >= 30  # 38 distinct sgtin, sscc and lgtin URNs in the GS1 set
    for urn in urns:
        result = parse_code(urn, today=TODAY)
        assert result.source_format == "epc_urn"
        assert result.warnings == ()
        again = to_epc_urn(result.code, company_prefix_length=result.company_prefix_length)
        assert again == urn
        assert parse(to_digital_link(result.code), require_serial=False) == result.code


def test_epcis_example_digital_link_parses() -> None:
    assert parse("https://id.gs1.org/01/09506000134352/21/12345") == PackCode(GTIN, "12345")


def test_to_epc_urn_uses_biip_prefix_table_or_explicit_length() -> None:
    code = PackCode("04012345111118", "9876")
    assert to_epc_urn(code) == "urn:epc:id:sgtin:4012345.011111.9876"
    assert to_epc_urn(code, company_prefix_length=9) == "urn:epc:id:sgtin:401234511.0111.9876"


def test_to_epc_urn_without_known_prefix_length_asks_for_it() -> None:
    gtin8 = "00000000" + "9638507"[:5]
    gtin8 = gtin8 + str(gs1_check_digit(gtin8))
    with pytest.raises(InvalidCodeError, match="pass company_prefix_length"):
        to_epc_urn(PackCode(gtin8, "S1"))


# ---------------------------------------------------------------------------- ids


def test_ids_of_maps_each_code_to_its_ledger_id_under_its_prefix_owner() -> None:
    assert ids_of(FULL_PACK, owner_of) == pack_id(GTIN, "S123", owner=owner_of(GTIN))
    assert ids_of(UnitCode(SSCC), owner_of) == unit_id(SSCC, owner=owner_of(SSCC))
    assert ids_of(LotCode(GTIN, "ABC"), owner_of) == lot_id(GTIN, "ABC", owner=owner_of(GTIN))
    assert owner_of(GTIN) != owner_of(SSCC)  # the unit's owner is its SSCC's, not a GTIN's
    with pytest.raises(InvalidCodeError, match="no ledger id"):
        ids_of(ProductCode(GTIN), owner_of)


def test_to_epc_urn_of_a_bare_gtin_raises() -> None:
    with pytest.raises(InvalidCodeError, match="no EPC pure identity URN"):
        to_epc_urn(ProductCode(GTIN))


# ---------------------------------------------------------------------------- writers


def test_writers_produce_the_canonical_forms() -> None:
    assert to_element_string(FULL_PACK) == "(01)09506000134352(17)261231(10)ABC(21)S123"
    assert to_datamatrix(FULL_PACK) == "01095060001343521726123110ABC\x1d21S123"
    assert (
        to_digital_link(FULL_PACK)
        == "https://id.gs1.org/01/09506000134352/10/ABC/21/S123?17=261231"
    )
    assert (
        to_digital_link(FULL_PACK, "https://brand.example.com/dl/")
        == "https://brand.example.com/dl/01/09506000134352/10/ABC/21/S123?17=261231"
    )
    assert to_datamatrix(UnitCode(SSCC)) == f"00{SSCC}"


def test_digital_link_percent_encodes_reserved_characters() -> None:
    code = PackCode(GTIN, "A/B?C", "L&1")
    assert to_digital_link(code) == "https://id.gs1.org/01/09506000134352/10/L%261/21/A%2FB%3FC"


def test_to_digital_link_rejects_a_domain_without_scheme() -> None:
    with pytest.raises(InvalidCodeError, match="domain must look like"):
        to_digital_link(FULL_PACK, "id.gs1.org")


# ---------------------------------------------------------------------------- dates


def test_expiry_day_00_is_the_last_day_of_the_month() -> None:
    assert expiry_to_date("261200", today=TODAY) == dt.date(2026, 12, 31)
    assert expiry_to_date("240200", today=TODAY) == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("yymmdd", "today", "expected"),
    [
        ("750101", dt.date(2025, 1, 1), dt.date(2075, 1, 1)),  # +50: current century
        ("760101", dt.date(2025, 1, 1), dt.date(1976, 1, 1)),  # +51: previous century
        ("240101", dt.date(2075, 1, 1), dt.date(2124, 1, 1)),  # -51: next century
        ("250101", dt.date(2075, 1, 1), dt.date(2125, 1, 1)),  # -50: next century
        ("260101", dt.date(2075, 1, 1), dt.date(2026, 1, 1)),  # -49: current century
        ("990101", dt.date(2000, 6, 1), dt.date(1999, 1, 1)),
        ("000101", dt.date(2099, 6, 1), dt.date(2100, 1, 1)),
    ],
)
def test_century_follows_the_gs1_sliding_window(
    yymmdd: str, today: dt.date, expected: dt.date
) -> None:
    assert expiry_to_date(yymmdd, today=today) == expected


def test_feb_29_validity_depends_on_the_century_chosen() -> None:
    assert expiry_to_date("000229", today=TODAY) == dt.date(2000, 2, 29)
    with pytest.raises(InvalidCodeError, match="day 29 is not valid for February 2100"):
        expiry_to_date("000229", today=dt.date(2099, 6, 1))


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "(01)09506000134353(21)S1",
            "GTIN (01) 09506000134353 has a wrong check digit: expected 2, found 3",
        ),
        (
            "(00)106141411234567898",
            "SSCC (00) 106141411234567898 has a wrong check digit: expected 7, found 8",
        ),
        ("https://id.gs1.org/01/09506000134353/21/S1", "expected 2, found 3"),
        ("(01)0950600013435(21)S1", "GTIN (01) must be 14 digits, got 13"),
        ("01095060001", "GTIN (01) must be 14 digits; the end of the text came after 9"),
        ("0109506000\x1d134352", "GTIN (01) must be 14 digits; a GS separator came after 8"),
        ("(01)0950600O134352(21)S1", "found 'O' at position 8"),
        ("(01)09506000134352(17)261331(21)S1", "expiry date (17) 261331: month 13 is not 01-12"),
        ("(01)09506000134352(17)260230(21)S1", "day 30 is not valid for February 2026"),
        ("(01)09506000134352(17)2612(21)S1", "must be 6 digits YYMMDD"),
        ("(01)09506000134352(17)261231(10)ABC", "missing serial number (21)"),
        ("https://id.gs1.org/01/09506000134352", "missing serial number (21)"),
        ("(01)09506000134352(21)S12345678901234567890", "is 21 characters long; at most 20"),
        (
            "(01)09506000134352(21)S12#3",
            "contains '#' at position 4, which is not in the GS1 character set 82",
        ),
        ("(01)09506000134352(10)LOT 1(21)S1", "contains ' ' at position 4"),
        ("010950600013435221S1\x1d10L~1", "lot number (10) 'L~1' contains '~'"),
        ("hello world", "no GS1 Application Identifier at position 1"),
        ("", "empty scan"),
        ("(01)09506000134352(21)S1(21)S2", "AI (21) appears twice with different values"),
        ("(21)S1", "no GTIN (01) or SSCC (00) found"),
        ("https://example.com/products/42", "has no GTIN (/01/...) or SSCC (/00/...)"),
        ("https://id.gs1.org/01/09506000134352/21/S%2", "bad percent-encoding"),
        ("https://id.gs1.org/01/09506000134352/21/S%FF", "does not decode as UTF-8"),
        ("urn:epc:id:sgtin:0614141.112345.%C3", "does not decode as UTF-8"),
        ("(01)09506000134352(21)S1(7003)123", "does not match its format"),
        (
            "urn:epc:id:sgtin:0614141.0123452.400",
            "got 14; it seems to include the check digit 2: drop it",
        ),
        (
            "urn:epc:id:sgtin:0614141.0123453.400",
            "if the last digit is a check digit it is wrong: expected 2, found 3",
        ),
        (
            "urn:epc:id:sgtin:0614141.12345.400",
            "must have 13 digits (the GTIN without its check digit), got 12",
        ),
        (
            "urn:epc:id:sscc:0614141.123456789",
            "must have 17 digits (the SSCC without its check digit), got 16",
        ),
        ("urn:epc:id:sgtin:06141A1.112345.400", "company prefix must be digits"),
        ("urn:epc:id:sgtin:0614141.112345", "needs CompanyPrefix.IndicatorItemReference.Serial"),
        ("urn:epc:id:sgln:0614141.00001.0", "does not name a pack, logistic unit or lot"),
        ("urn:epc:id:sgtin:0614141.112345.A#1", "contains '#' at position 2"),
        ("urn:isbn:123", "not an EPC URN"),
    ],
)
def test_malformed_input_raises_invalid_code_error_saying_what_is_wrong(
    text: str, message: str
) -> None:
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_code(text, today=TODAY)
    assert message in str(excinfo.value)


def test_invalid_code_error_is_a_value_error_and_an_rxledger_error() -> None:
    with pytest.raises(ValueError, match="wrong check digit"):
        parse_code("(01)09506000134353(21)S1")
    with pytest.raises(RxLedgerError):
        parse_code("nonsense")


def test_ambiguous_missing_separator_raises_listing_the_readings() -> None:
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_code("010950600013435210AB21CD21EF", today=TODAY)
    message = str(excinfo.value)
    assert "ambiguous GS1 message" in message
    assert "(10)AB(21)CD21EF" in message
    assert "(10)AB21CD(21)EF" in message


def test_pack_code_constructor_validates_its_fields() -> None:
    with pytest.raises(InvalidCodeError, match="wrong check digit"):
        PackCode("09506000134353", "S1")
    with pytest.raises(InvalidCodeError, match="serial number \\(21\\) is empty"):
        PackCode(GTIN, "")
    with pytest.raises(InvalidCodeError, match="does not match expiry_yymmdd"):
        PackCode(GTIN, "S1", expiry=dt.date(2026, 12, 30), expiry_yymmdd="261200")
    assert PackCode(GTIN, "S1", expiry=dt.date(2026, 12, 5)).expiry_yymmdd == "261205"


# ---------------------------------------------------------------------------- scanner slips


def test_surrounding_whitespace_and_newline_are_removed_with_a_warning() -> None:
    result = parse_code("  (01)09506000134352(21)S1\r\n", today=TODAY)
    assert result.code == PackCode(GTIN, "S1")
    assert result.warnings == ("removed surrounding whitespace",)


@pytest.mark.parametrize("stand_in", ["<GS>", "{GS}", "[GS]", "\\x1d", "\\x1D", "\u241d"])
def test_textual_gs_stand_ins_are_read_as_separators(stand_in: str) -> None:
    result = parse_code(f"]d2010950600013435210ABC{stand_in}21S123", today=TODAY)
    assert result.code == PackCode(GTIN, "S123", "ABC")
    assert result.warnings == (f"read {stand_in!r} as the GS (FNC1) separator",)


def test_leading_and_trailing_gs_are_dropped() -> None:
    result = parse_code("\x1d010950600013435221S1\x1d", today=TODAY)
    assert result.code == PackCode(GTIN, "S1")
    assert "removed leading/trailing GS separators" in result.warnings


def test_spaces_inside_numeric_fields_are_removed() -> None:
    hri = parse_code("(01) 0950 6000 1343 52 (17) 26 12 31 (21) S1", today=TODAY)
    raw = parse_code("01 09506 00013 4352 17 261231 21S1", today=TODAY)
    expected = PackCode(GTIN, "S1", None, dt.date(2026, 12, 31), "261231")
    assert hri.code == raw.code == expected
    assert "removed spaces inside (01)" in hri.warnings
    assert "removed spaces inside (01)" in raw.warnings


def test_space_after_a_variable_length_field_is_read_as_a_separator() -> None:
    result = parse_code("0109506000134352 21S123 10ABC", today=TODAY)
    assert result.code == PackCode(GTIN, "S123", "ABC")
    assert "read a space after (21)S123 as a GS separator" in result.warnings


def test_missing_separator_is_inserted_when_only_one_reading_is_valid() -> None:
    result = parse_code("01095060001343521726123110ABC21S123", today=TODAY)
    assert result.code == FULL_PACK
    assert "inserted a missing GS separator after (10)ABC" in result.warnings


def test_lot_swallowing_an_expiry_is_the_standard_reading_with_a_warning() -> None:
    # (10)ABC17261231 is a valid lot, so the standard reading stands; the other is warned.
    result = parse_code("010950600013435210ABC17261231\x1d21S123", today=TODAY)
    assert result.code == PackCode(GTIN, "S123", "ABC17261231")
    assert any("could also be" in w and "(10)ABC(17)261231" in w for w in result.warnings)


def test_missing_separator_before_expiry_is_inserted_when_the_lot_would_be_too_long() -> None:
    result = parse_code("010950600013435210ABCDEFGHIJKLM17261231\x1d21S123", today=TODAY)
    assert result.code == PackCode(GTIN, "S123", "ABCDEFGHIJKLM", dt.date(2026, 12, 31), "261231")
    assert "inserted a missing GS separator after (10)ABCDEFGHIJKLM" in result.warnings


def test_standard_reading_wins_but_a_possible_lost_separator_is_warned() -> None:
    result = parse_code("010950600013435221S12310ABC", today=TODAY)
    assert result.code == PackCode(GTIN, "S12310ABC")
    assert any("could also be (01)09506000134352(21)S123(10)ABC" in w for w in result.warnings)


def test_caps_lock_digital_link_is_normalised_but_serial_case_is_kept() -> None:
    result = parse_code(
        "HTTPS://ID.GS1.ORG/01/09506000134352/10/abc/21/S123x?17=261231", today=TODAY
    )
    assert result.code == PackCode(GTIN, "S123x", "abc", dt.date(2026, 12, 31), "261231")
    assert any("lower-cased the URI scheme and host" in w for w in result.warnings)
    assert any("kept exactly as scanned" in w for w in result.warnings)


def test_caps_lock_symbology_identifier_is_fixed_but_serial_case_is_kept() -> None:
    result = parse_code("]D2010950600013435221s123", today=TODAY)
    assert result.symbology == "]d2"
    assert result.code == PackCode(GTIN, "s123")
    assert any("read as ']d2' (Caps Lock?)" in w for w in result.warnings)
    assert any("kept exactly as scanned" in w for w in result.warnings)


def test_caps_lock_epc_urn_prefix_is_lower_cased_but_serial_case_is_kept() -> None:
    result = parse_code("URN:EPC:ID:SGTIN:0614141.812345.Ab", today=TODAY)
    assert result.code == PackCode("80614141123458", "Ab")
    assert result.warnings[0] == "lower-cased the EPC URN prefix 'URN:EPC:ID:SGTIN' (Caps Lock?)"


def test_upper_case_serial_without_caps_lock_evidence_gets_no_warning() -> None:
    result = parse_code("https://id.gs1.org/01/09506000134352/21/ABC", today=TODAY)
    assert result.warnings == ()


def test_legacy_digital_link_short_names_are_accepted_with_a_warning() -> None:
    result = parse_code(
        "https://id.gs1.org/gtin/09506000134352/lot/ABC/ser/S123?exp=261231", today=TODAY
    )
    assert result.code == FULL_PACK
    assert any("legacy Digital Link short name 'ser'" in w for w in result.warnings)


def test_out_of_order_digital_link_qualifiers_are_accepted_with_a_warning() -> None:
    result = parse_code(
        "https://id.gs1.org/01/09506000134352/21/S123/10/ABC?17=261231", today=TODAY
    )
    assert result.code == FULL_PACK
    assert any("out of order" in w for w in result.warnings)


def test_trailing_slash_in_digital_link_is_ignored_with_a_warning() -> None:
    result = parse_code("https://id.gs1.org/01/09506000134352/21/S123/", today=TODAY)
    assert result.code == PackCode(GTIN, "S123")
    assert "removed a trailing '/' from the Digital Link path" in result.warnings


# ---------------------------------------------------------------------------- AI rules


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(01)09506000134352(11)120230(21)S1", "AI (11) PROD DATE 120230: day 30 is not valid"),
        ("(01)09506000134352(13)250431(21)S1", "day 31 is not valid for April 2025"),
        ("(01)09506000134352(15)990229(21)S1", "day 29 is not valid for February 1999"),
        ("(01)09506000134352(16)251301(21)S1", "month 13 is not 01-12"),
        ("(01)09506000134352(17)270229(21)S1", "day 29 is not valid for February 2027"),
        ("(01)09506000134352(21)S1(7006)250600", "day 00 (no day) is not allowed here"),
        ("(01)09506000134352(21)S1(7007)250610250601", "the range ends (2025-06-01) before"),
        ("(01)09506000134352(21)S1(7007)250610250631", "day 31 is not valid for June 2025"),
        ("(01)09506000134352(21)S1(7003)2506012400", "hour 24 is not 00-23"),
        ("(01)09506000134352(21)S1(7011)2506011260", "minute 60 is not 00-59"),
        ("(01)09506000134352(21)S1(8008)250601123060", "second 60 is not 00-59"),
        ("(00)106141411234567897(4326)250600", "day 00 (no day) is not allowed here"),
        ("(00)106141411234567897(4324)2502300000", "day 30 is not valid for February 2025"),
    ],
)
def test_impossible_dates_are_refused_in_every_date_ai(text: str, message: str) -> None:
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_code(text, today=TODAY)
    assert message in str(excinfo.value)


@pytest.mark.parametrize("ai", ["11", "13", "15", "16", "17"])
def test_day_00_is_the_end_of_the_month_where_the_general_specifications_allow_it(
    ai: str,
) -> None:
    result = parse_code(f"(01)09506000134352({ai})240200(21)S1", today=TODAY)
    assert result.code == PackCode(GTIN, "S1", expiry_yymmdd="240200" if ai == "17" else None)
    assert parse_ai_data("(00)106141411234567897(4324)2402001200").elements[1][1] == "2402001200"


def test_date_ranges_and_iso_dates_read_when_real() -> None:
    data = parse_ai_data("(01)09506000134352(7007)250601250610", today=TODAY)
    assert data.elements[1:] == (("7007", "250601250610"),)
    with pytest.raises(InvalidCodeError, match="day 29 is not valid for February 1900"):
        parse_ai_data("(8018)123456789012345675(7250)19000229", today=TODAY)
    assert parse_ai_data("(8018)123456789012345675(7250)20000229").elements[1][0] == "7250"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(01)09506000134352(02)09506000134352(21)S1", "AI (02) CONTENT and GTIN (01) cannot"),
        ("(01)09506000134352(21)S1(37)12", "GTIN (01) and AI (37) COUNT cannot be in the same"),
        ("(01)09506000134352(21)S1(235)TPX", "serial number (21) and AI (235) TPX cannot"),
        ("(01)09506000134352(10)L1(250)X1", "AI (250) SECONDARY SERIAL needs (21)"),
        ("(00)106141411234567897(10)L1", "lot number (10) needs (01) or (02) or (03)"),
        ("(00)106141411234567897(02)09506000134352", "AI (02) CONTENT needs (37)"),
        ("(01)09506000134352(21)S1(3103)000123(3103)000124", "appears twice with different"),
    ],
)
def test_ai_associations_of_the_general_specifications_are_checked(text: str, message: str) -> None:
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_code(text, today=TODAY, require_serial=False)
    assert message in str(excinfo.value)


def test_a_serial_without_its_gtin_is_refused_as_ai_data() -> None:
    with pytest.raises(InvalidCodeError, match=r"serial number \(21\) needs \(01\)"):
        parse_ai_data("(21)S1(400)PO-1")


def test_valid_associations_read() -> None:
    label = parse_code("(00)106141411234567897(02)09506000134352(37)12(10)L1", today=TODAY)
    assert label.code == UnitCode(SSCC)
    assert label.extras == (("02", GTIN), ("37", "12"), ("10", "L1"))
    assert parse_ai_data("(400)PO-1").elements == (("400", "PO-1"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://id.gs1.org/414/9520123456780", "AI (414) LOC No. 9520123456780 has a wrong"),
        ("(00)106141411234567897(02)09506000134353(37)1", "AI (02) CONTENT 09506000134353 has"),
        ("(8018)123456789012345670", "expected 5, found 0"),
    ],
)
def test_check_digits_of_other_gs1_keys_are_verified(text: str, message: str) -> None:
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_ai_data(text)
    assert message in str(excinfo.value)


# ---------------------------------------------------------------------------- Digital Link rules


@pytest.mark.parametrize(
    "uri",
    [
        "https://a/00/faux/00/106141411234567897",
        "https://a/01/faux/00/106141411234567897",
        "https://brand.example/food/frozen/00/106141411234567897",
    ],
)
def test_a_digital_link_is_read_from_its_rightmost_primary_key(uri: str) -> None:
    assert parse(uri) == UnitCode(SSCC)
    assert parse_epc(uri) == Epc("sscc", sscc=SSCC)


def test_a_plus_in_the_query_is_a_space_and_in_the_path_a_plus() -> None:
    result = parse_code(f"https://id.gs1.org/01/{GTIN}/21/S+1?99=A%2BB", today=TODAY)
    assert result.code == PackCode(GTIN, "S+1")
    assert result.extras == (("99", "A+B"),)
    with pytest.raises(InvalidCodeError, match="'A B' does not match its format"):
        parse_code(f"https://id.gs1.org/01/{GTIN}/21/S1?99=A+B", today=TODAY)


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (f"https://x/01/{GTIN}/21/S1/10/L1", "key qualifiers out of order (21, 10)"),
        (f"https://x/01/{GTIN}/21/S1?10=L1", "AI (10) belongs in the Digital Link path"),
        (f"https://x/01/{GTIN}/10/L1/21/S1?10=L1", "AI (10) appears twice in the Digital Link"),
        (f"https://x/01/{GTIN}/17/261231/21/S1", "expiry date (17) is not a key qualifier"),
        (f"https://x/01/{GTIN}/21/S1?8200=X", "AI (8200) PRODUCT URL is not a Digital Link data"),
        (f"https://x/01/{GTIN}/21/S1/", "ends with '/'"),
        (f"https://x/01/{GTIN}/ser/S1", "'ser' is a legacy (pre-1.0) Digital Link short name"),
    ],
)
def test_digital_link_syntax_breaks_are_warnings_in_scans_and_errors_when_strict(
    uri: str, problem: str
) -> None:
    scanned = parse_code(uri, today=TODAY, require_serial=False)
    assert scanned.warnings
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_code(uri, today=TODAY, require_serial=False, strict=True)
    assert problem in str(excinfo.value)
    with pytest.raises(InvalidCodeError, match="Digital Link|legacy|not a key"):
        parse_epc(uri)


def test_an_epcis_identifier_is_claimed_on_any_host_and_path_prefix() -> None:
    assert is_gs1_identifier(f"https://brand.example/food/frozen/01/{GTIN}/21/S1")
    assert is_gs1_identifier(f"https://brand.example/food/01/{GTIN}/89/S1")  # claimed, invalid
    assert is_gs1_identifier("https://brand.example/sites/414/0614141073467")
    assert not is_gs1_identifier("https://example.com/location/1")
    assert not is_gs1_identifier("https://brand.example/8004/9520614141234567")  # not read here


# ---------------------------------------------------------------------------- SGLN and PGLN


@pytest.mark.parametrize(
    ("urn", "gln", "extension"),
    [
        ("urn:epc:id:pgln:859839494502.", "8598394945028", None),
        ("urn:epc:id:pgln:061414.123456", "0614141234561", None),
        ("urn:epc:id:sgln:859839494502..0", "8598394945028", "0"),
        ("urn:epc:id:sgln:0614141.12345.A.B", "0614141123452", "A.B"),
        ("urn:epc:id:sgln:0614141.12345.A%2FB%25", "0614141123452", "A/B%"),
        ("urn:epc:id:sgln:0614141.12345.!'()*+,-.:;=_", "0614141123452", "!'()*+,-.:;=_"),
        ("urn:epc:id:sgln:0614141.12345." + "A" * 20, "0614141123452", "A" * 20),
    ],
)  # fmt: skip
def test_every_sgln_and_pgln_form_of_the_tag_data_standard_is_read(
    urn: str, gln: str, extension: str | None
) -> None:
    assert parse_epc(urn) == Epc("gln", gln=gln, extension=extension)


@pytest.mark.parametrize(
    ("urn", "message"),
    [
        ("urn:epc:id:sgln:5813513247221", "13 digits look like a GLN with its check digit"),
        ("urn:epc:id:sgln:0614141.12345", "expected CompanyPrefix.LocationReference.Extension"),
        ("urn:epc:id:pgln:0614141", "expected CompanyPrefix.PartyReference"),
        ("urn:epc:id:sgln:06141.1234567.0", "the company prefix has 5 digits"),
        ("urn:epc:id:sgln:0614141123452..0", "the company prefix has 13 digits"),
        ("urn:epc:id:pgln:0614141.1234", "must have 12 digits in all"),
        ("urn:epc:id:sgln:0614141.123452.0", "it seems to include the check digit 2: drop it"),
        ("urn:epc:id:sgln:0614141.1234A.0", "the location reference '1234A' is not all digits"),
        ("urn:epc:id:sgln:0614141.12345.", "must be 1 to 20 characters"),
        ("urn:epc:id:sgln:0614141.12345.A/B", "has '/' at position 2, which an EPC URN does not"),
        ("urn:epc:id:sgln:0614141.12345.%7E", "got '~'"),
        ("urn:epc:id:sgln:0614141.12345.A%2", "bad percent-encoding"),
        ("urn:epc:id:sgln:0614141.12345." + "A" * 21, "must be 1 to 20 characters"),
    ],
)
def test_malformed_sgln_and_pgln_are_refused_saying_why(urn: str, message: str) -> None:
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_epc(urn)
    assert message in str(excinfo.value)


# ---------------------------------------------------------------------------- resolver paths


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (f"/01/{GTIN}", DigitalLinkKey(GTIN)),
        ("/01/9506000134352/21/S1", DigitalLinkKey(GTIN, serial="S1")),
        ("/01/614141000012/10/L1", DigitalLinkKey("00614141000012", lot="L1")),
        ("/01/12345670/21/S1", DigitalLinkKey("00000012345670", serial="S1")),
        (f"/01/{GTIN}/22/V1/10/L1/21/S1", DigitalLinkKey(GTIN, "V1", "L1", "S1")),
        (f"/01/{GTIN}/22/V1/21/S1", DigitalLinkKey(GTIN, "V1", serial="S1")),
        (f"/01/{GTIN}/10/L%2F1/21/A%25%3F", DigitalLinkKey(GTIN, lot="L/1", serial="A%?")),
    ],
)
def test_every_digital_link_path_form_gives_its_gtin_14_and_qualifiers(
    path: str, key: DigitalLinkKey
) -> None:
    assert parse_digital_link_path(path) == key


def test_digital_link_key_path_is_canonical_and_encoded() -> None:
    key = parse_digital_link_path("/01/9506000134352/22/V1/10/L%2F1/21/S+1")
    assert key.path == f"/01/{GTIN}/22/V1/10/L%2F1/21/S%2B1"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/00/106141411234567897", "starts with /01/{gtin}"),
        (f"/01/{GTIN}/21/S1/", "has an empty segment"),
        ("/01//21/S1", "has an empty segment"),
        (f"/01/{GTIN}/21", "AI (21) has no value: the Digital Link path ends after it"),
        ("/01/95060001343", "must be 8, 12, 13 or 14 digits, got '95060001343'"),
        ("/01/09506000134353", "09506000134353 has a wrong check digit: expected 2, found 3"),
        (f"/01/{GTIN}/21/S1/10/L1", "out of order: (10) after (21); the order is 22, 10, 21"),
        (f"/01/{GTIN}/21/S1/22/V1", "out of order: (22) after (21)"),
        (f"/01/{GTIN}/10/L1/10/L1", "AI (10) appears twice"),
        (f"/01/{GTIN}/17/261231", "expiry date (17) is a data attribute"),
        (f"/01/{GTIN}/lot/L1", "'lot' is a pre-1.0 short name: write /10/"),
        (f"/01/{GTIN}/x/1", "'x' is not a key qualifier"),
        (f"/01/{GTIN}/21/S%2", "bad percent-encoding in AI (21)"),
        (f"/01/{GTIN}/22/V%20", "consumer product variant (22) 'V ' contains ' '"),
    ],
)
def test_invalid_digital_link_path_raises_saying_which_segment_is_wrong(
    path: str, message: str
) -> None:
    with pytest.raises(InvalidCodeError) as excinfo:
        parse_digital_link_path(path)
    assert message in str(excinfo.value)


# ---------------------------------------------------------------------------- properties


def _with_check_digit(body: str) -> str:
    return body + str(gs1_check_digit(body))


gtins = st.text("0123456789", min_size=13, max_size=13).map(_with_check_digit)
ssccs = st.text("0123456789", min_size=17, max_size=17).map(_with_check_digit)
texts82 = st.text(CSET82, min_size=1, max_size=20)
domains = st.sampled_from(
    ["https://id.gs1.org", "https://brand.example.com/some/path", "http://localhost:8000/dl"]
)


@st.composite
def expiries(draw: st.DrawFn) -> tuple[dt.date, str] | None:
    if draw(st.booleans()):
        return None
    yy = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(0, 28))
    yymmdd = f"{yy:02d}{month:02d}{day:02d}"
    if draw(st.booleans()):  # also reach 29-31 where the month has them
        last = expiry_to_date(f"{yy:02d}{month:02d}00", today=TODAY).day
        yymmdd = f"{yy:02d}{month:02d}{draw(st.integers(29, last)) if last > 28 else 0:02d}"
    return expiry_to_date(yymmdd, today=TODAY), yymmdd


@st.composite
def packs(draw: st.DrawFn) -> PackCode:
    expiry = draw(expiries())
    return PackCode(
        draw(gtins),
        draw(texts82),
        draw(st.none() | texts82),
        expiry[0] if expiry else None,
        expiry[1] if expiry else None,
    )


def _hri_safe(code: PackCode) -> bool:
    # "(NN)" inside a value cannot be told apart from an AI in the human readable form,
    # and "<GS>" is read as a separator in scanner text: see docs/identifiers.md.
    values = [code.serial, code.lot or ""]
    return not any(re.search(r"\(\d{2,4}\)", v) for v in values)


@given(packs(), domains)
def test_every_valid_pack_round_trips_through_every_format(code: PackCode, domain: str) -> None:
    expected_id = pack_id(code.gtin, code.serial, owner=owner_of(code.gtin))
    if _hri_safe(code):
        assert parse(to_element_string(code)) == code
    assume("<GS>" not in code.serial and "<GS>" not in (code.lot or ""))
    for text in (to_datamatrix(code), "]d2" + to_datamatrix(code), to_digital_link(code, domain)):
        result = parse_code(text, today=TODAY)
        assert result.code == code, text
        assert ids_of(result.code, owner_of) == expected_id
    cp_len = 6 + int(code.gtin[5]) % 7
    epc = from_epc_urn(to_epc_urn(code, company_prefix_length=cp_len))
    assert epc == PackCode(code.gtin, code.serial)
    assert ids_of(epc, owner_of) == expected_id == ids_of(code, owner_of)


@given(packs(), domains)
def test_biip_reads_our_datamatrix_and_digital_link_the_same_way(
    code: PackCode, domain: str
) -> None:
    # Cross-check against an independent reader of the GS1 standards.
    assume("<GS>" not in code.serial and "<GS>" not in (code.lot or ""))
    config = ParseConfig(gs1_element_strings_verify_date=False)
    message = GS1Message.parse(to_datamatrix(code), config=config)
    dl = GS1DigitalLinkURI.parse(to_digital_link(code, domain), config=config)
    for strings in (message.element_strings, dl.element_strings):
        read = {es.ai.ai: es.value for es in strings}
        assert read.get("01") == code.gtin
        assert read.get("21") == code.serial
        assert read.get("10") == code.lot
        assert read.get("17") == code.expiry_yymmdd


@given(ssccs, domains, st.integers(6, 12))
def test_every_valid_sscc_round_trips_through_every_format(
    sscc: str, domain: str, cp_len: int
) -> None:
    code = UnitCode(sscc)
    texts = (to_element_string(code), to_datamatrix(code), to_digital_link(code, domain))
    for text in texts:
        assert parse(text) == code
    assert from_epc_urn(to_epc_urn(code, company_prefix_length=cp_len)) == code
    assert ids_of(code, owner_of) == unit_id(sscc, owner=owner_of(sscc))


@given(gtins, texts82, st.integers(6, 12))
def test_every_valid_lot_round_trips_through_lgtin_and_digital_link(
    gtin: str, lot: str, cp_len: int
) -> None:
    code = LotCode(gtin, lot)
    assert from_epc_urn(to_epc_urn(code, company_prefix_length=cp_len)) == code
    assert parse(to_digital_link(code), require_serial=False) == code
    assert ids_of(code, owner_of) == lot_id(gtin, lot, owner=owner_of(gtin))


@given(gtins, texts82, st.integers(0, 9))
def test_a_single_wrong_gtin_digit_is_always_rejected(gtin: str, serial: str, delta: int) -> None:
    bad = gtin[:-1] + str((int(gtin[-1]) + 1 + delta % 9) % 10)
    with pytest.raises(InvalidCodeError, match="wrong check digit"):
        parse_code(f"(01){bad}(21){serial}", today=TODAY)


@given(packs())
def test_every_written_digital_link_path_reads_back_strictly(code: PackCode) -> None:
    path = to_digital_link(code).removeprefix("https://id.gs1.org").partition("?")[0]
    key = parse_digital_link_path(path)
    assert key == DigitalLinkKey(code.gtin, None, code.lot, code.serial)
    assert key.path == path
    uri = GS1DigitalLinkURI.parse("https://x.example" + path)
    read = {es.ai.ai: es.value for es in uri.element_strings}
    assert (read["01"], read.get("10"), read["21"]) == (key.gtin, key.lot, key.serial)
