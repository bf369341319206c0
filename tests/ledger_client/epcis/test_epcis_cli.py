"""``rxledger epcis validate`` (pure) through typer's CliRunner."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from epcis_files import DSCSA, EXAMPLE_FILES, load_example
from typer.testing import CliRunner

from ledger_client.cli import app

GS1_XML = sorted((Path(__file__).resolve().parents[2] / "data" / "gs1-epcis-2.0").glob("*.xml"))
ALL_FILES = [*EXAMPLE_FILES, *sorted(DSCSA.glob("*.xml"))]
MALFORMED = DSCSA / "epcis_1.2.master_data_sample.xml"


def _validate(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["epcis", "validate", *map(str, args)])
    return result.exit_code, result.output


def test_validate_json_reports_every_shared_file() -> None:
    code, out = _validate("--json", *ALL_FILES)
    files = json.loads(out)["files"]
    assert code == 1  # the malformed DSCSA fragment
    assert [f["path"] for f in files] == [str(p) for p in ALL_FILES]
    assert all(set(f) == {"path", "valid", "errors", "events", "ledger_operations"} for f in files)
    invalid = [f for f in files if not f["valid"]]
    assert [f["path"] for f in invalid] == [str(MALFORMED)]
    assert invalid[0]["errors"] == [
        "line 17, column 32: Opening and ending tag mismatch: Address line 11 and Address"
    ]
    by_name = {Path(f["path"]).name: f for f in files}
    assert (by_name["epcis_1.2.cardinal_health.xml"]["events"],
            by_name["epcis_1.2.cardinal_health.xml"]["ledger_operations"]) == (3, 6)  # fmt: skip
    assert by_name["WithSensorData__SensorDataExample1.jsonld"]["ledger_operations"] == 0


def test_validate_exits_zero_when_every_file_is_valid() -> None:
    code, out = _validate(*(p for p in ALL_FILES if p != MALFORMED))
    assert code == 0
    assert "INVALID" not in out


def test_validate_names_the_problem_of_an_invalid_json_document(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonld"
    doc = json.loads(EXAMPLE_FILES[0].read_text())
    doc["epcisBody"]["eventList"][0]["eventTime"] = "yesterday"
    bad.write_text(json.dumps(doc))
    code, out = _validate(bad)
    assert code == 1
    assert "INVALID" in out and "/epcisBody/eventList/0/eventTime: 'yesterday'" in out


def test_validate_reports_a_missing_file_as_invalid(tmp_path: Path) -> None:
    code, out = _validate("--json", tmp_path / "nope.xml")
    (entry,) = json.loads(out)["files"]
    assert code == 1 and entry["valid"] is False
    assert entry["errors"][0].startswith("cannot read the file")


def test_validate_reads_epcis_2_xml_and_names_what_the_json_schema_refuses() -> None:
    code, out = _validate("--json", *GS1_XML)
    by_name = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
    assert code == 1
    assert by_name["AssociationEventExamples.xml"]["valid"] is True
    assert by_name["AssociationEventExamples.xml"]["events"] == 8
    assert by_name["transaction_event_all_possible_fields.xml"]["valid"] is True
    refused = by_name["Example-PersistentDisposition.xml"]
    assert refused["valid"] is False
    assert "'persistentDisposition' is not one of" in refused["errors"][0]


def _shipping_file(tmp_path: Path, name: str, change: Callable[[dict[str, Any]], None]) -> Path:
    doc = load_example("Example_9.6.1-ObjectEvent.jsonld")  # shipping, then receiving
    change(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _context(url: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["@context"][0] = url

    return change


def _untyped(doc: dict[str, Any]) -> None:
    for event in doc["epcisBody"]["eventList"]:
        event["bizTransactionList"] = [{"bizTransaction": "urn:epc:id:gdti:0614141.00001.42"}]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validate must not reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.usefixtures("offline")
def test_validate_reads_gs1s_unversioned_context_and_untyped_transactions_offline(
    tmp_path: Path,
) -> None:
    unversioned = _shipping_file(
        tmp_path, "a.jsonld", _context("https://ref.gs1.org/standards/epcis/epcis-context.jsonld")
    )
    untyped = _shipping_file(tmp_path, "b.jsonld", _untyped)
    code, out = _validate("--json", unversioned, untyped)
    assert code == 0, out
    files = json.loads(out)["files"]
    assert [(f["valid"], f["events"], f["ledger_operations"]) for f in files] == [(True, 2, 2)] * 2


@pytest.mark.usefixtures("offline")
def test_validate_names_an_event_it_cannot_hash_and_still_reports_the_other_files(
    tmp_path: Path,
) -> None:
    private = _shipping_file(
        tmp_path, "private.jsonld", _context("https://partner.example/epcis-context.jsonld")
    )
    fine = _shipping_file(tmp_path, "fine.jsonld", lambda doc: None)
    code, out = _validate("--json", private, fine)
    assert code == 1
    first, second = json.loads(out)["files"]
    assert first["errors"] == [
        "/epcisBody/eventList/0: event hash cannot be computed: JSON-LD context "
        "https://partner.example/epcis-context.jsonld is not available offline"
    ]
    assert second["valid"] is True
