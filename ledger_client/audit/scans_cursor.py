"""A scans file kept up to date run after run: ``rxledger audit scans`` writes it with its
cursor, and ``--append`` adds only the scans each gateway took since the last run.

Beside the file, ``FILE.cursor.json`` says where it stands: its size in bytes once the last
run's scans were in, and for each member's gateway the id of the last scan taken from it. A
run appends, flushes the file to disk, and only then replaces the cursor. A run that dies in
between leaves a tail past the cursor's size that no cursor counts: the next run cuts it off
and takes those scans again, so a scan is written once, never twice and never lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ledger_client.audit.scans import VerificationRecord
from ledger_client.errors import InvalidInputError

__all__ = ["ScansCursor", "append_scans", "cursor_path", "load_cursor"]


@dataclass(frozen=True)
class ScansCursor:
    """The scans file's ``size`` in bytes and, per member address, the id of the last scan
    taken from its gateway (``after``)."""

    size: int = 0
    after: dict[str, int] = field(default_factory=dict)


def cursor_path(scans_file: Path) -> Path:
    """Where the cursor of ``scans_file`` is kept."""
    return scans_file.with_name(scans_file.name + ".cursor.json")


def load_cursor(scans_file: Path) -> ScansCursor:
    """The cursor of ``scans_file``: empty when neither exists; raise
    :class:`InvalidInputError` when the file has no cursor or is shorter than it says (the
    file was written or cut by something else, and which scans it holds is unknown)."""
    path = cursor_path(scans_file)
    if not path.exists():
        if scans_file.exists() and scans_file.stat().st_size:
            raise InvalidInputError(
                f"{scans_file} has no cursor ({path.name}) to append after: write it whole "
                "once without --append"
            )
        return ScansCursor()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        cursor = ScansCursor(int(raw["size"]), {str(k): int(v) for k, v in raw["after"].items()})
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidInputError(f"{path}: not a scans cursor: {exc}") from None
    size = scans_file.stat().st_size if scans_file.exists() else 0
    if size < cursor.size:
        raise InvalidInputError(
            f"{scans_file} holds {size} bytes, fewer than the {cursor.size} its cursor "
            "counts: it was changed since; write it whole once without --append"
        )
    return cursor


def append_scans(
    scans_file: Path,
    records: Iterable[VerificationRecord],
    last: ScansCursor,
    after: dict[str, int],
) -> ScansCursor:
    """Cut ``scans_file`` back to the size the ``last`` cursor counts, append ``records``,
    and once they are on disk commit the cursor of ``after`` and the file's new size."""
    with scans_file.open("r+b" if scans_file.exists() else "wb") as f:
        f.truncate(last.size)
        f.seek(last.size)
        for r in records:
            f.write((json.dumps(asdict(r)) + "\n").encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
        done = ScansCursor(f.tell(), dict(after))
    path = cursor_path(scans_file)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"size": done.size, "after": done.after}) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return done
