"""EPCIS capture on a live gateway run by the manufacturer: 202, poll, per-event results,
chain state, no double writes, schema errors, partial failures, GS1 and DSCSA samples."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from capture_helpers import (
    CONSOLE,
    CONSOLE_KEY,
    LD,
    capture,
    commissioning,
    document,
    event,
    sgtin,
    shipping,
    sscc,
    wholesaler_gln,
)
from gateway_helpers import GTIN, Gateway, World, operator_key, running_gateway

from gateway.core.logging import configure_logging
from ledger_client.epcis import EventStore
from ledger_client.epcis.xml2_write import to_epcis_20_xml
from ledger_client.types import PackStatus
from tests.utils.governance import govern

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "epcis"


@pytest.fixture(scope="module")
def mfr(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway operated by the manufacturer (its key signs the captured events)."""
    db = tmp_path_factory.mktemp("mfr") / "gateway.db"
    with running_gateway(
        world, db, operator_key=operator_key("manufacturer"), console_key=CONSOLE_KEY
    ) as gw:
        yield gw


def test_commissioning_packing_shipping_document_is_written_event_by_event(
    mfr: Gateway, world: World
) -> None:
    serials = ["CAP1", "CAP2", "CAP3"]
    case = sscc("700000001")
    doc = document(
        commissioning("CAPLOT1", serials),
        event(
            "AggregationEvent",
            1,
            parentID=f"https://id.gs1.org/00/{case}",
            childEPCs=[sgtin(s) for s in serials],
            action="ADD",
            bizStep="packing",
        ),
        shipping([f"https://id.gs1.org/00/{case}"], wholesaler_gln(world), 2),
    )
    job = capture(mfr, doc)
    assert job["success"] is True and job["errors"] == []
    assert job["counts"] == {"applied": 3, "skipped": 0, "stored_only": 0, "failed": 0}
    assert [e["status"] for e in job["results"]] == ["applied"] * 3
    assert [[op["operation"] for op in e["operations"]] for e in job["results"]] == [
        ["RegisterLot", "Commission"],
        ["Pack"],
        ["Ship"],
    ]
    for result in job["results"]:
        assert result["event_hash"].startswith("ni:///sha-256;")
        for op in result["operations"]:
            assert op["status"] == "applied"
            for tx in op["tx_hashes"]:
                assert world.w3.eth.get_transaction_receipt(tx)["status"] == 1
    # the chain changed: the packs exist, travel in the case, to wholesaler_a
    manufacturer = world.net["manufacturer"]
    for serial in serials:
        view = manufacturer.pack_state(GTIN, serial)
        assert view.status is PackStatus.ACTIVE
        assert view.in_transit and view.pending_to == world.net.address("wholesaler_a")
    # the clear events are in the operator's store
    with EventStore(mfr.state.settings.epcis_store_path) as store:
        assert store.count() >= 3

    # posting the same document again writes nothing
    before = world.w3.eth.block_number
    again = capture(mfr, doc)
    assert again["success"] is True
    assert [e["status"] for e in again["results"]] == ["skipped"] * 3
    assert all(op["tx_hashes"] == [] for e in again["results"] for op in e["operations"])
    assert world.w3.eth.block_number == before


def test_counter_serials_are_captured_with_a_warning_in_the_job_and_the_log(
    mfr: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers = root.handlers[:]
    logging.captureWarnings(False)  # pytest undid an earlier test's capture behind logging's back
    configure_logging(json=True)  # as the process does; its handler writes to captured stderr
    try:
        job = capture(mfr, document(commissioning("WEAKCAP", [f"WC{k:04d}" for k in range(4)])))
    finally:
        root.handlers[:] = handlers
        logging.captureWarnings(False)
    assert job["success"] is True and job["errors"] == []
    [result] = job["results"]
    assert result["status"] == "applied"
    assert any("4 of 4 follow a counter" in w for w in result["warnings"]), result
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    [line] = [x for x in lines if "WeakSerialsWarning" in x["event"]]
    assert (line["level"], line["job"]) == ("warning", job["captureID"])
    assert "4 of 4 follow a counter" in line["event"]
    assert mfr.world.net["manufacturer"].pack_state(GTIN, "WC0002").status == PackStatus.ACTIVE


def test_invalid_document_is_refused_with_the_schema_error(mfr: Gateway, world: World) -> None:
    doc = document(commissioning("CAPLOT2", ["BAD1"]))
    doc["epcisBody"]["eventList"][0]["action"] = "CREATE"
    before = world.w3.eth.block_number
    response = mfr.client.post("/v1/capture", content=json.dumps(doc), headers=LD)
    assert response.status_code == 400
    problem = response.json()
    assert problem["title"] == "Invalid EPCIS document"
    assert any(
        e.startswith("/epcisBody/eventList/0/action:") and "CREATE" in e for e in problem["errors"]
    ), problem["errors"]
    assert world.w3.eth.block_number == before


def test_body_that_is_not_json_is_refused(mfr: Gateway) -> None:
    response = mfr.client.post("/v1/capture", content=b"{not json", headers=LD)
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("/: not JSON")


def test_the_openapi_schema_describes_json_ld_and_xml_documents(mfr: Gateway) -> None:
    body = mfr.client.get("/openapi.json").json()["paths"]["/v1/capture"]["post"]["requestBody"]
    content = body["content"]
    assert set(content) == {
        "application/ld+json",
        "application/json",
        "application/xml",
        "text/xml",
    }
    document = content["application/ld+json"]["schema"]
    assert document["required"] == [
        "@context",
        "type",
        "schemaVersion",
        "creationDate",
        "epcisBody",
    ]
    assert document["properties"]["epcisBody"]["required"] == ["eventList"]
    assert content["text/xml"]["schema"]["type"] == "string"


def test_unsupported_content_type_is_refused(mfr: Gateway) -> None:
    response = mfr.client.post(
        "/v1/capture", content=b"x", headers={**CONSOLE, "content-type": "text/plain"}
    )
    assert response.status_code == 415


def test_one_failing_event_is_reported_with_the_contract_error_and_the_others_apply(
    mfr: Gateway, world: World
) -> None:
    to = wholesaler_gln(world)
    doc = document(
        commissioning("CAPLOT3", ["PF1", "PF2"]),
        # S1 is in pharmacy_a's custody: the manufacturer cannot ship it
        shipping([sgtin("S1")], to, 1),
        shipping([sgtin("PF1"), sgtin("PF2")], to, 2),
    )
    job = capture(mfr, doc, {**LD, "GS1-Capture-Error-Behaviour": "proceed"})
    assert job["success"] is False
    assert [e["status"] for e in job["results"]] == ["applied", "failed", "applied"]
    failed = job["results"][1]["operations"][0]
    assert failed["operation"] == "Ship" and failed["status"] == "failed"
    assert failed["error"] == "SerialRegistryNotCustodian"
    assert job["errors"] == [
        {
            "index": 1,
            "eventID": None,
            "eventHash": job["results"][1]["event_hash"],
            "error": "SerialRegistryNotCustodian",
            "message": job["results"][1]["message"],
        }
    ]
    assert world.net["manufacturer"].pack_state(GTIN, "PF1").in_transit
    assert world.net["manufacturer"].pack_state(GTIN, "S1").custodian == world.net.address(
        "pharmacy_a"
    )


def test_rollback_refuses_a_document_with_an_event_the_ledger_cannot_record(
    mfr: Gateway, world: World
) -> None:
    doc = document(
        commissioning("CAPLOT4", ["RB1"]),
        # a decommissioning without a CBV reason: the mapping refuses it before any write
        event("ObjectEvent", 1, epcList=[sgtin("RB1")], action="DELETE"),
    )
    before = world.w3.eth.block_number
    response = mfr.client.post(
        "/v1/capture",
        content=json.dumps(doc),
        headers={**LD, "GS1-Capture-Error-Behaviour": "rollback"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0].startswith("event 1 (ObjectEvent):")
    assert world.w3.eth.block_number == before


def test_gs1_example_file_is_accepted_and_reported(mfr: Gateway) -> None:
    job = capture(mfr, (SHARED / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())
    assert job["running"] is False
    assert [e["type"] for e in job["results"]] == ["ObjectEvent", "ObjectEvent"]
    ship, receive = job["results"]
    # the example ships without a destination party, and receives SGTINs nobody sent here:
    # both reported with the reason, not a 500
    assert ship["status"] == "failed" and ship["operations"][0]["error"] == "NoDestination"
    assert receive["status"] == "failed"
    assert receive["operations"][0]["error"].startswith("SerialRegistry")
    assert {e["index"] for e in job["errors"]} == {0, 1}


def test_gs1_sensor_example_is_stored_only(mfr: Gateway) -> None:
    path = SHARED / "examples" / "WithSensorData__SensorDataExample1.jsonld"
    job = capture(mfr, path.read_bytes())
    assert job["success"] is True
    assert [e["status"] for e in job["results"]] == ["stored_only"]
    assert "sensor readings" in job["results"][0]["message"]


def test_dscsa_12_xml_sample_is_converted_captured_and_reported(mfr: Gateway, world: World) -> None:
    xml = (SHARED / "dscsa-1.2" / "epcis_1.2.cardinal_health.xml").read_bytes()
    # the sample's company prefix is the operator's here: a member commissions its own codes
    govern(world.net, "assignPrefix", "0355154", world.net.address("manufacturer"))
    job = capture(mfr, xml, {**CONSOLE, "content-type": "application/xml"})
    assert [e["status"] for e in job["results"]][:2] == ["applied", "applied"]
    ship = job["results"][2]
    # the sample ships to GS1 Drug Distro (GLN 0399999999298), not a member of this network
    assert ship["status"] == "failed"
    assert ship["operations"][0]["error"] == "UnknownParty"
    assert "0399999999298" in ship["message"]


def test_epcis_2_xml_of_a_captured_document_writes_nothing_twice(mfr: Gateway) -> None:
    doc = document(commissioning("CAPXML1", ["X1", "X2"]))
    assert capture(mfr, doc)["counts"]["applied"] == 1
    xml = to_epcis_20_xml(doc)
    job = capture(mfr, xml, {**CONSOLE, "content-type": "application/xml"})
    # the same event in XML has the same event hash: the chain already anchors it
    assert [e["status"] for e in job["results"]] == ["skipped"]


def test_epcis_2_xml_the_xsd_refuses_is_refused_with_its_line(mfr: Gateway) -> None:
    xml = to_epcis_20_xml(document(commissioning("CAPXML2", ["X3"]))).replace(
        b"<action>ADD</action>", b"<action>MOVE</action>"
    )
    response = mfr.client.post(
        "/v1/capture", content=xml, headers={**CONSOLE, "content-type": "application/xml"}
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error.startswith("line ") and "Element 'action'" in error and "'MOVE'" in error


def test_malformed_xml_is_refused_with_its_line_and_column(mfr: Gateway) -> None:
    xml = (SHARED / "dscsa-1.2" / "epcis_1.2.master_data_sample.xml").read_bytes()
    response = mfr.client.post(
        "/v1/capture", content=xml, headers={**CONSOLE, "content-type": "application/xml"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "line 17, column 32: Opening and ending tag mismatch: Address line 11 and Address"
    ]


def test_capture_by_a_member_who_is_not_the_operator_is_refused(mfr: Gateway) -> None:
    doc = document(commissioning("CAPLOT5", ["NO1"]))
    headers = {**mfr.auth("wholesaler_a"), "content-type": "application/ld+json"}
    response = mfr.client.post("/v1/capture", content=json.dumps(doc), headers=headers)
    assert response.status_code == 403
    assert "/v1/relay" in response.json()["detail"]


def test_capture_jobs_of_another_member_are_not_visible(mfr: Gateway) -> None:
    capture(mfr, document(commissioning("CAPLOTV", ["VIS1"])))
    jobs = mfr.client.get("/v1/capture", headers=CONSOLE).json()
    assert jobs and all(j["captureID"].startswith("cap-") for j in jobs)
    other = mfr.client.get(f"/v1/capture/{jobs[0]['captureID']}", headers=mfr.auth("regulator"))
    assert other.status_code == 404
