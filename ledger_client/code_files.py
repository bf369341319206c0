"""Read files of GS1 codes: one code a line, CSV, or JSON lines.

Errors name ``file:line``, the physical line (1-based, blank lines counted).

- Plain text: one code a line, in any form :func:`~ledger_client.gs1.parse_code` reads.
- CSV (a ``.csv`` file, or any file whose first line is a header of known columns): a
  ``code`` column, or ``gtin`` + ``serial`` (with ``lot`` and ``expiry`` YYMMDD when known),
  and/or ``sscc``; see :data:`COLUMNS` for the other names accepted. Without a header, the
  first column holds the codes.
- JSON lines: one object a line, with the same keys as the CSV columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ledger_client.errors import InvalidCodeError, InvalidInputError
from ledger_client.explain import code_map
from ledger_client.gs1 import PackCode, UnitCode, parse_code
from ledger_client.inputs import lines_of, load_json, read_text, source_name
from ledger_client.owners import CodeOwners

__all__ = ["COLUMNS", "CodeBatch", "accepted_columns", "read_batch"]

#: Column (or JSON key) -> the header names accepted for it, compared case-insensitively
#: with spaces and hyphens read as underscores and GS1 AI numbers in brackets allowed.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "gs1_code", "barcode"),
    "gtin": ("gtin", "gtin14", "gtin_14", "01"),
    "serial": ("serial", "serial_number", "sn", "21"),
    "lot": ("lot", "lot_number", "batch", "batch_number", "10"),
    "expiry": ("expiry", "expiry_date", "exp", "17"),
    "sscc": ("sscc", "00"),
}
_ALIASES = {alias: column for column, names in COLUMNS.items() for alias in names}


def accepted_columns() -> str:
    """Say which columns a CSV header may name, for error messages."""
    return (
        "a 'code' column (any GS1 form), or 'gtin' and 'serial' (with 'lot' and 'expiry' "
        "YYMMDD when known) and/or 'sscc'; also accepted: "
        + ", ".join(a for names in COLUMNS.values() for a in names[1:])
    )


@dataclass
class CodeBatch:
    """The packs and logistic units of one file, in file order."""

    source: str
    packs: list[PackCode] = field(default_factory=list)
    units: list[UnitCode] = field(default_factory=list)

    def codes(self, owners: CodeOwners | None = None) -> dict[bytes, str]:
        """Ledger id -> label of every pack, unit and lot of the batch (for messages): their
        code hashes and, given the prefix ``owners``, the ids of their genuine records."""
        return code_map(
            [(p.gtin, p.serial) for p in self.packs],
            [u.sscc for u in self.units],
            [(p.gtin, p.lot) for p in self.packs if p.lot is not None],
            owners,
        )


def _column(cell: str) -> str | None:
    name = cell.strip().lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(name.removeprefix("(").removesuffix(")"))


def _item(fields: Mapping[str, str], where: str) -> PackCode | UnitCode:
    """The pack or unit of one row, from its recognised columns."""
    value = {k: v.strip() for k, v in fields.items() if v and v.strip()}
    try:
        if "code" in value:
            code = parse_code(value["code"]).code
            if not isinstance(code, PackCode | UnitCode):
                raise InvalidCodeError(f"{value['code']!r} names neither a pack nor an SSCC")
            return code
        if "gtin" in value or "serial" in value:
            if "gtin" not in value or "serial" not in value:
                missing = "serial" if "gtin" in value else "gtin"
                raise InvalidCodeError(f"a pack needs a gtin and a serial: no {missing}")
            return PackCode(
                value["gtin"], value["serial"], value.get("lot"), None, value.get("expiry")
            )
        if "sscc" in value:
            return UnitCode(value["sscc"])
    except InvalidCodeError as exc:
        raise InvalidCodeError(f"{where}: {exc}") from None
    raise InvalidCodeError(f"{where}: no code on this line")


def _csv_rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (physical line, cells) of every non-blank CSV row."""
    reader = csv.reader(io.StringIO(text))
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInputError(f"{source}:{reader.line_num}: not CSV: {exc}") from None


def _is_header(cells: list[str]) -> bool:
    """A header names a known column, or is text without digits (codes always have some)."""
    if any(_column(c) for c in cells):
        return True
    return not any(ch.isdigit() for c in cells for ch in c)


Numbered = Iterator[tuple[int, PackCode | UnitCode]]


def _from_csv(text: str, source: str) -> Numbered:
    rows = _csv_rows(text, source)
    first = next(rows, None)
    if first is None:
        return
    line, cells = first
    if not _is_header(cells):  # no header: the first column holds the codes
        try:
            yield line, _item({"code": cells[0]}, f"{source}:{line}")
        except InvalidCodeError as exc:
            raise InvalidCodeError(f"{exc} (a header line names {accepted_columns()})") from None
        for line, cells in rows:
            yield line, _item({"code": cells[0]}, f"{source}:{line}")
        return
    columns = {i: c for i, c in enumerate(map(_column, cells)) if c is not None}
    known = set(columns.values())
    if not known & {"code", "sscc"} and not {"gtin", "serial"} <= known:
        raise InvalidInputError(
            f"{source}:{line}: CSV header {','.join(cells)!r} names no code columns: "
            f"give {accepted_columns()}"
        )
    for line, cells in rows:
        fields = {c: cells[i] for i, c in columns.items() if i < len(cells)}
        yield line, _item(fields, f"{source}:{line}")


def _from_json_lines(lines: list[str], source: str) -> Numbered:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{source}:{number}"
        record = load_json(
            text,
            dict,
            f"{where}: not JSON",
            f'{where}: expected a JSON object like {{"code": ...}}',
        )
        fields = {c: str(v) for k, v in record.items() if (c := _column(k)) and v is not None}
        if not fields:
            raise InvalidInputError(f"{where}: no known key; give {accepted_columns()}")
        yield number, _item(fields, where)


def _items(text: str, source: str, csv_file: bool) -> Numbered:
    lines = lines_of(text)
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("{"):
        yield from _from_json_lines(lines, source)
    elif csv_file or _is_known_header(first):
        yield from _from_csv(text, source)
    else:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, _item({"code": line}, f"{source}:{number}")


def _is_known_header(line: str) -> bool:
    cells = next(csv.reader([line]), [])
    return bool(cells) and all(_column(c) for c in cells)


def read_batch(path: Path) -> CodeBatch:
    """Read the packs and SSCCs of ``path`` (``-`` for stdin).

    Raises :class:`InvalidInputError` for a file that is missing, unreadable, empty or in no
    known layout, and :class:`InvalidCodeError` for a bad code or a code given twice, each
    with ``file:line``.
    """
    source = source_name(path)
    text = read_text(path, "code file")
    batch = CodeBatch(source)
    seen: dict[PackCode | UnitCode, int] = {}
    for line, item in _items(text, source, path.suffix.lower() == ".csv"):
        key = PackCode(item.gtin, item.serial) if isinstance(item, PackCode) else item
        if key in seen:
            raise InvalidCodeError(f"{source}:{line}: repeats the code of line {seen[key]}")
        seen[key] = line
        if isinstance(item, PackCode):
            batch.packs.append(item)
        else:
            batch.units.append(item)
    if not seen:
        raise InvalidInputError(f"{source}: no codes in the file")
    return batch
