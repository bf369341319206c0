"""Hostile EPCIS files (nested 100k deep, numbers of 5,000 digits) are refused with a clear
error, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from epcis_files import EXAMPLES, dscsa_xml

from ledger_client.epcis import InvalidEPCISError, load_document, read_document

ROOT = Path(__file__).resolve().parents[3]
DEEP_JSON = b'{"epcisBody": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_XML = b"<EPCISDocument>" + b"<a>" * 300 + b"</a>" * 300 + b"</EPCISDocument>"
TOO_DEEP = "/: the JSON document nests deeper than 64 levels"


def rxledger(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in its own process: a crash there must not take the tests with it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from ledger_client.cli import main; main()"]
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def test_validate_refuses_a_json_file_nested_100k_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonld"
    path.write_bytes(DEEP_JSON)
    done = rxledger("epcis", "validate", path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stdout.splitlines() == [f"{path}: INVALID", f"  {TOO_DEEP}"]


def test_validate_refuses_a_deep_xml_file_with_the_same_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    path.write_bytes(DEEP_XML)
    done = rxledger("epcis", "validate", "--json", path)
    assert done.returncode == 1, done.stderr[-2000:]
    (entry,) = json.loads(done.stdout)["files"]
    assert entry["errors"] == ["/: the XML document nests deeper than 64 levels"]


@pytest.mark.parametrize("read", [read_document, load_document])
def test_readers_refuse_json_one_level_too_deep(read: object) -> None:
    doc = b'{"a": ' + b"[" * 64 + b"]" * 64 + b"}"
    with pytest.raises(InvalidEPCISError) as raised:
        read(doc)  # type: ignore[operator]
    assert raised.value.errors == [TOO_DEEP]


@pytest.mark.parametrize("read", [read_document, load_document])
def test_readers_refuse_a_number_longer_than_python_converts(read: object) -> None:
    with pytest.raises(InvalidEPCISError) as raised:
        read(b'{"eventTime": ' + b"1" * 5000 + b"}")  # type: ignore[operator]
    (error,) = raised.value.errors
    assert "JSON: Exceeds the limit (4300 digits)" in error


def test_shared_example_documents_still_read() -> None:
    assert read_document(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")["type"] == "EPCISDocument"
    assert read_document(dscsa_xml("cardinal_health"))["type"] == "EPCISDocument"
