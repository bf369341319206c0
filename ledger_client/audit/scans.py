"""Off-chain verifications (scans), an input of the anomaly rules: the record and its
JSON-lines file (``verifications.jsonl``, one record a line)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ledger_client.errors import InvalidInputError
from ledger_client.inputs import lines_of, read_text


@dataclass(frozen=True)
class VerificationRecord:
    """One off-chain verification (a scan): what was scanned, where and when."""

    gtin: str
    serial: str
    location: str
    time: int
    lot: str | None = None
    expiry: int | None = None


def read_scans(path: Path) -> list[VerificationRecord]:
    """Read a ``verifications.jsonl`` file; errors name ``file:line``."""
    records = []
    for number, line in enumerate(lines_of(read_text(path, "scans file")), start=1):
        if not line.strip():
            continue
        try:
            records.append(VerificationRecord(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise InvalidInputError(
                f"{path}:{number}: not a verification record "
                "(JSON with gtin, serial, location, time; lot, expiry optional): "
                f"{exc}"
            ) from None
    return records
