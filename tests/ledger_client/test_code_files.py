"""Reading files of GS1 codes: layouts, physical line numbers, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_client.code_files import COLUMNS, read_batch
from ledger_client.errors import InvalidCodeError, InvalidInputError
from ledger_client.explain import lot_label, pack_label, unit_label
from ledger_client.gs1 import PackCode, UnitCode
from ledger_client.ids import lot_hash, lot_id, pack_hash, pack_id, unit_hash, unit_id
from tests.utils.factories import OwnerOfEveryPrefix

GTIN = "09506000134352"
BAD_GTIN = "09506000134353"  # wrong check digit
SSCC = "106141410000000019"


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_plain_file_reads_every_gs1_form_and_skips_blank_lines(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "codes.txt",
        f"(01){GTIN}(17)281231(10)L1(21)A1\n\n"
        f"https://id.gs1.org/01/{GTIN}/10/L1/21/A2\n"
        f"  01{GTIN}10L1\x1d21A3  \n"
        f"(00){SSCC}\n",
    )
    batch = read_batch(path)
    assert [p.serial for p in batch.packs] == ["A1", "A2", "A3"]
    assert batch.packs[0].expiry_yymmdd == "281231"
    assert batch.units == [UnitCode(SSCC)]


def test_gtin_serial_lot_csv_header_is_accepted(tmp_path: Path) -> None:
    path = _file(tmp_path, "codes.csv", f"gtin,serial,lot\n{GTIN},A1,L1\n{GTIN},A2,L2\n")
    assert read_batch(path).packs == [PackCode(GTIN, "A1", "L1"), PackCode(GTIN, "A2", "L2")]


def test_csv_header_names_are_read_case_insensitively_with_aliases_and_ai_numbers(
    tmp_path: Path,
) -> None:
    path = _file(
        tmp_path,
        "codes.csv",
        f"GTIN-14,Serial Number,Batch,Expiry Date,note\n{GTIN},A1,L1,281231,first\n",
    )
    assert read_batch(path).packs == [PackCode(GTIN, "A1", "L1", expiry_yymmdd="281231")]
    ai = _file(tmp_path, "ai.csv", f"(01),(21),(10)\n{GTIN},A1,L1\n")
    assert read_batch(ai).packs == [PackCode(GTIN, "A1", "L1")]


def test_csv_rows_with_an_sscc_are_units_and_the_others_packs(tmp_path: Path) -> None:
    path = _file(tmp_path, "mixed.csv", f"gtin,serial,sscc\n{GTIN},A1,\n,,{SSCC}\n")
    batch = read_batch(path)
    assert (batch.packs, batch.units) == ([PackCode(GTIN, "A1")], [UnitCode(SSCC)])


def test_csv_with_a_code_column_and_headerless_csv_use_their_code_column(
    tmp_path: Path,
) -> None:
    coded = _file(tmp_path, "a.csv", f"qty,code\n1,(01){GTIN}(21)A1\n")
    assert read_batch(coded).packs == [PackCode(GTIN, "A1")]
    headerless = _file(tmp_path, "b.csv", f"(01){GTIN}(21)A1,ignored\n(00){SSCC},x\n")
    batch = read_batch(headerless)
    assert (batch.packs, batch.units) == ([PackCode(GTIN, "A1")], [UnitCode(SSCC)])


def test_a_known_header_makes_any_file_csv(tmp_path: Path) -> None:
    path = _file(tmp_path, "codes.txt", f"gtin,serial\n{GTIN},A1\n")
    assert read_batch(path).packs == [PackCode(GTIN, "A1")]


def test_json_lines_take_a_code_or_the_csv_column_names(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "codes.jsonl",
        f'{{"code": "(01){GTIN}(21)A1"}}\n\n{{"gtin": "{GTIN}", "serial": "A2", "lot": "L1"}}\n'
        f'{{"sscc": "{SSCC}"}}\n',
    )
    batch = read_batch(path)
    assert batch.packs == [PackCode(GTIN, "A1"), PackCode(GTIN, "A2", "L1")]
    assert batch.units == [UnitCode(SSCC)]


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("plain.txt", f"(01){GTIN}(21)A1\n\n\n(01){BAD_GTIN}(21)A2\n", "plain.txt:4:"),
        ("header.csv", f"gtin,serial\n\n{GTIN},A1\n\n{BAD_GTIN},A2\n", "header.csv:5:"),
        ("nohead.csv", f"\n(01){GTIN}(21)A1\n\n(01){BAD_GTIN}(21)A2\n", "nohead.csv:4:"),
        (
            "lines.jsonl",
            f'{{"gtin": "{GTIN}", "serial": "A1"}}\n\n{{"gtin": "{BAD_GTIN}", "serial": "A2"}}\n',
            "lines.jsonl:3:",
        ),  # fmt: skip
    ],
)
def test_errors_name_the_physical_line_counting_blank_lines(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    with pytest.raises(InvalidCodeError, match="wrong check digit") as caught:
        read_batch(_file(tmp_path, name, text))
    assert str(caught.value).startswith(str(tmp_path / where))


def test_an_unrecognised_csv_header_lists_the_accepted_columns(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_batch(_file(tmp_path, "codes.csv", "product,number\n1,2\n"))
    message = str(caught.value)
    assert "codes.csv:1: CSV header 'product,number' names no code columns" in message
    for column in COLUMNS:
        assert f"'{column}'" in message
    assert "serial_number" in message and "batch" in message


def test_a_headerless_csv_with_a_bad_first_code_also_says_which_headers_work(
    tmp_path: Path,
) -> None:
    with pytest.raises(InvalidCodeError, match=r"nohead.csv:1: .*'gtin' and 'serial'"):
        read_batch(_file(tmp_path, "nohead.csv", f"{GTIN},A1\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"gtin,serial\n{GTIN}\n", "codes.csv:2: a pack needs a gtin and a serial: no serial"),
        ("gtin,serial,lot\n,A1,L1\n", "codes.csv:2: a pack needs a gtin and a serial: no gtin"),
        ("gtin,serial,lot\n\n,,\n", "no codes in the file"),
        (f"code\n(01){GTIN}(10)L1\n", "codes.csv:2: missing serial number"),
        (
            f"code\n(01){GTIN}(21)A1\n\n(01){GTIN}(21)A1\n",
            "codes.csv:4: repeats the code of line 2",
        ),
        ('code\n"unterminated\n', "no GS1 Application Identifier"),
    ],
)
def test_bad_csv_rows_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises((InvalidCodeError, InvalidInputError), match=message):
        read_batch(_file(tmp_path, "codes.csv", text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"code": 1\n', r"lines.jsonl:1: not JSON"),
        (f'{{"code": "(01){GTIN}(21)A1"}}\n[1, 2]\n', r"lines.jsonl:2: expected a JSON object"),
        ('{"colour": "red"}\n', r"lines.jsonl:1: no known key; give a 'code' column"),
    ],
)
def test_bad_json_lines_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        read_batch(_file(tmp_path, "lines.jsonl", text))


def test_missing_empty_directory_and_binary_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00codes")
    cases = {
        tmp_path / "missing.txt": "missing.txt: no such file",
        _file(tmp_path, "empty.txt", ""): "empty.txt: no codes in the file",
        _file(tmp_path, "blank.txt", "\n  \n\t\n"): "blank.txt: no codes in the file",
        tmp_path / "adir": "adir: is a directory, not a file",
        tmp_path / "binary.txt": "binary.txt: not UTF-8 text \\(byte 0 is 0xff\\)",
    }
    for path, message in cases.items():
        with pytest.raises(InvalidInputError, match=message):
            read_batch(path)


def test_a_duplicate_across_forms_is_caught_with_both_lines(tmp_path: Path) -> None:
    path = _file(tmp_path, "codes.txt", f"(01){GTIN}(21)A1\n01{GTIN}17281231 10L1\x1d21A1\n")
    with pytest.raises(InvalidCodeError, match=r"codes.txt:2: repeats the code of line 1"):
        read_batch(path)


def test_batch_codes_map_ledger_ids_back_to_what_the_file_said(tmp_path: Path) -> None:
    batch = read_batch(_file(tmp_path, "codes.txt", f"(01){GTIN}(10)L1(21)A1\n(00){SSCC}\n"))
    hashes = {
        pack_hash(GTIN, "A1"): pack_label(GTIN, "A1"),
        lot_hash(GTIN, "L1"): lot_label(GTIN, "L1"),
        unit_hash(SSCC): unit_label(SSCC),
    }
    assert batch.codes() == hashes
    assert batch.codes(OwnerOfEveryPrefix(3)) == hashes | {
        pack_id(GTIN, "A1", owner=3): pack_label(GTIN, "A1"),
        lot_id(GTIN, "L1", owner=3): lot_label(GTIN, "L1"),
        unit_id(SSCC, owner=3): unit_label(SSCC),
    }
