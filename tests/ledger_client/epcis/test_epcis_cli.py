"""``rxledger epcis validate`` (pure) through typer's CliRunner."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from epcis_files import DSCSA, EXAMPLE_FILES, PARTNER_FILES, load_example
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
    keys = {"path", "valid", "errors", "warnings", "events", "ledger_operations"}
    assert all(set(f) == keys for f in files)
    assert all(f["warnings"] == [] for f in files)  # GS1's own files have no tolerated flaw
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


def test_validate_receives_a_partner_file_with_warnings_and_says_so() -> None:
    sample = PARTNER_FILES / "tracelink_sample.xml"
    shipment = PARTNER_FILES / "tracelink_style_shipment.xml"
    code, out = _validate(sample, shipment)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{sample}: VALID WITH WARNINGS, 5 events, 4 ledger operations, 3 warnings"
    assert lines[1] == (
        "  warning: event 3 /epcisBody/eventList/3/bizTransactionList/0/date: line 211:"
        " <bizTransaction> attribute 'date' has no place in EPCIS 2.0; kept in this warning,"
        " not in the event"
    )
    assert lines[3] == (
        "  warning: event 4 /epcisBody/eventList/4/readPoint/id: malformed readPoint id, kept"
        " as sent: urn:epc:id:sgln:5813513247221: expected"
        " CompanyPrefix.LocationReference.Extension"
        " (3 fields separated by '.', e.g. urn:epc:id:sgln:0614141.12345.0), got 1; 13 digits"
        " look like a GLN with its check digit, which the URN gives as company prefix and"
        " reference, without the check digit"
    )
    assert lines[4] == (
        f"{shipment}: VALID WITH WARNINGS, 4 events, 4 ledger operations, 8 warnings"
    )
    assert len(lines) == 13


def test_validate_json_lists_each_warning_with_its_event_path_value_and_message() -> None:
    code, out = _validate("--json", PARTNER_FILES / "tracelink_style_shipment.xml")
    (entry,) = json.loads(out)["files"]
    assert code == 0 and entry["valid"] is True and entry["errors"] == []
    assert entry["warnings"][3] == {
        "index": 2,
        "eventID": None,
        "path": "/epcisBody/eventList/2/bizTransactionList/2/type",
        "field": "/bizTransactionList/2/type",
        "value": "asn",
        "kind": "vocabulary",
        "message": "'asn' is not a CBV business transaction type nor the URI of another"
        " vocabulary; kept as sent, no ledger meaning is read from it",
    }
    assert entry["warnings"][1] == {
        "index": 2,
        "eventID": None,
        "path": "/epcisBody/eventList/2/bizTransactionList/0/date",
        "field": "/bizTransactionList/0/date",
        "value": "2025-03-03",
        "kind": "extension",
        "message": "line 116: <bizTransaction> attribute 'date' has no place in EPCIS 2.0;"
        " kept in this warning, not in the event",
    }
    assert [w["kind"] for w in entry["warnings"]] == [
        "vocabulary", "extension", "extension", "vocabulary", "extension", "location", "party",
        "location",
    ]  # fmt: skip


def test_validate_shows_the_warnings_of_a_refused_file_after_its_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    xml = (PARTNER_FILES / "tracelink_style_shipment.xml").read_bytes()
    bad.write_bytes(xml.replace(b"sgtin:9506000.013435.TLS2", b"sgtin:9506000.01343.TLS2", 1))
    code, out = _validate(bad)
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == [
        f"{bad}: INVALID",
        "  /epcisBody/eventList/0/epcList/1: urn:epc:id:sgtin:9506000.01343.TLS2:"
        " urn:epc:id:sgtin: company prefix + reference must have 13 digits (the GTIN without"
        " its check digit), got 12",
    ]
    assert len(lines) == 10 and all(x.startswith("  warning: event ") for x in lines[2:])
