"""A scans file appended run after run (``rxledger audit scans --append``): the cursor beside
it is committed only once the scans are on disk, so a run that died after writing and before
committing leaves a tail the next run cuts off and writes again, once; a file without its
cursor, or shorter than it, is refused rather than appended to blindly."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_client.audit.scans import VerificationRecord, read_scans, write_scans
from ledger_client.audit.scans_cursor import (
    ScansCursor,
    append_scans,
    cursor_path,
    load_cursor,
)
from ledger_client.errors import InvalidInputError

GW_A, GW_B = "0x" + "a" * 40, "0x" + "b" * 40


def _scan(serial: str) -> VerificationRecord:
    return VerificationRecord("00614141000012", serial, GW_A, 1_800_000_000, "L1", 301231)


def test_each_run_appends_only_its_scans_and_commits_where_it_stopped(tmp_path: Path) -> None:
    out = tmp_path / "scans.jsonl"
    first = load_cursor(out)
    assert first == ScansCursor()
    done = append_scans(out, [_scan("S1"), _scan("S2")], first, {GW_A: 7})
    assert done == load_cursor(out) == ScansCursor(out.stat().st_size, {GW_A: 7})
    append_scans(out, [_scan("S3")], done, {GW_A: 7, GW_B: 2})
    assert [r.serial for r in read_scans(out)] == ["S1", "S2", "S3"]
    assert load_cursor(out).after == {GW_A: 7, GW_B: 2}


def test_a_run_that_died_before_its_commit_is_written_again_once(tmp_path: Path) -> None:
    out = tmp_path / "scans.jsonl"
    done = append_scans(out, [_scan("S1")], ScansCursor(), {GW_A: 1})
    with out.open("a") as f:  # the next run wrote S2 and half of S3, then died
        f.write(out.read_text().replace("S1", "S2") + '{"gtin": "0061414')
    again = load_cursor(out)
    assert again == done
    append_scans(out, [_scan("S2"), _scan("S3")], again, {GW_A: 3})
    assert [r.serial for r in read_scans(out)] == ["S1", "S2", "S3"]


def test_a_file_without_its_cursor_or_shorter_than_it_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "scans.jsonl"
    write_scans([_scan("S1")], out)  # written whole: no cursor
    with pytest.raises(InvalidInputError, match="no cursor"):
        load_cursor(out)
    kept = tmp_path / "kept.jsonl"
    append_scans(kept, [_scan("S1"), _scan("S2")], load_cursor(kept), {GW_A: 2})
    kept.write_text(kept.read_text().splitlines()[0] + "\n")  # cut by hand
    with pytest.raises(InvalidInputError, match="fewer than"):
        load_cursor(kept)
    cursor_path(out).write_text('{"size": "many"}')
    with pytest.raises(InvalidInputError, match="not a scans cursor"):
        load_cursor(out)
