"""Off-chain verifications (scans), an input of the anomaly rules: the record and its
JSON-lines file (``verifications.jsonl``, one record a line).

A scanner writes the expiry as the code prints it, text (``"270100"``) or a number; it is
read as a GS1 date (day 00: the month's last day) and kept as the YYMMDD integer the rules
compare with :func:`~ledger_client.gs1.dates.same_day`, the mirror of ``GS1Date.sameDay``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ledger_client.errors import InvalidCodeError, InvalidInputError
from ledger_client.gs1.dates import expiry_to_date
from ledger_client.inputs import lines_of, read_text

_FIELDS = "JSON with gtin, serial, location (text), time (Unix seconds); lot, expiry optional"


@dataclass(frozen=True)
class VerificationRecord:
    """One off-chain verification (a scan): what was scanned, where and when; the expiry as
    the YYMMDD integer."""

    gtin: str
    serial: str
    location: str
    time: int
    lot: str | None = None
    expiry: int | None = None


def scanned_expiry(value: object) -> int:
    """A scanned expiry (``"270100"``, ``270100``) as the YYMMDD integer; raise
    :class:`InvalidCodeError` for anything that is no GS1 date."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 999999:
        value = f"{value:06d}"
    if not isinstance(value, str):
        raise InvalidCodeError(f"expiry {value!r} must be 6 digits YYMMDD")
    expiry_to_date(value)  # month 01-12, a day of that month or 00
    return int(value)


def _record(row: Any) -> VerificationRecord:
    if not isinstance(row, dict):
        raise TypeError(f"a line holds {type(row).__name__}, not an object")
    record = VerificationRecord(**row)
    for name in ("gtin", "serial", "location"):
        if not isinstance(getattr(record, name), str):
            raise TypeError(f"{name} must be text")
    if not isinstance(record.time, int) or isinstance(record.time, bool):
        raise TypeError("time must be Unix seconds (an integer)")
    if record.lot is not None and not isinstance(record.lot, str):
        raise TypeError("lot must be text")
    if record.expiry is None:
        return record
    return replace(record, expiry=scanned_expiry(record.expiry))


def parse_scan(row: Any, where: str) -> VerificationRecord:
    """One verification record from its JSON object; raise :class:`InvalidInputError` naming
    ``where`` for anything else."""
    try:
        return _record(row)
    except TypeError as exc:
        raise InvalidInputError(f"{where}: not a verification record ({_FIELDS}): {exc}") from None
    except InvalidCodeError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None


def read_scans(path: Path) -> list[VerificationRecord]:
    """Read a ``verifications.jsonl`` file; errors name ``file:line``."""
    records = []
    for number, line in enumerate(lines_of(read_text(path, "scans file")), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{path}:{number}: not a verification record ({_FIELDS}): {exc}"
            ) from None
        records.append(parse_scan(row, f"{path}:{number}"))
    return records


def write_scans(records: Iterable[VerificationRecord], path: Path) -> int:
    """Write ``records`` as a ``verifications.jsonl`` file (:func:`read_scans` reads it);
    return how many."""
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(asdict(r)) + "\n")
            n += 1
    return n
