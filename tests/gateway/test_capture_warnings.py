"""Receive what can be received: a partner document with warnings only is captured through a
live gateway (uvicorn, SQLite, the chain), its warnings kept beside its events in the
gateway's database and the operator's EPCIS store and shown with the job; a document with
errors is still refused, precisely, with nothing written."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from capture_helpers import (
    CONSOLE,
    CONSOLE_KEY,
    LD,
    XML,
    capture,
    commissioning,
    document,
    event,
    finished_job,
    sgtin,
    wholesaler_gln,
)
from gateway_helpers import GTIN, Gateway, World, operator_key, running_gateway
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.services.capture import warning_rows
from ledger_client.epcis import EventStore, read_valid_document
from ledger_client.epcis.hashing import hash_uri_digest
from ledger_client.types import PackStatus

PARTNER_FILES = Path(__file__).resolve().parents[1] / "data" / "partner-files"
SHIPMENT = PARTNER_FILES / "tracelink_style_shipment.xml"
DOTLESS_SGLN = "urn:epc:id:sgln:5813513247221"


@pytest.fixture(scope="module")
def mfr(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway operated by the manufacturer (its key signs the captured events)."""
    db = tmp_path_factory.mktemp("mfr-warnings") / "gateway.db"
    with running_gateway(
        world, db, operator_key=operator_key("manufacturer"), console_key=CONSOLE_KEY
    ) as gw:
        yield gw


def _warning_rows(gw: Gateway, capture_id: str) -> list[m.EventWarning]:
    with Session(gw.state.capture.engine) as session:
        query = select(m.EventWarning).where(m.EventWarning.capture_id == capture_id)
        return list(session.execute(query.order_by(m.EventWarning.id)).scalars())


def test_a_tracelink_style_file_with_warnings_is_captured_and_its_warnings_kept(
    mfr: Gateway, world: World
) -> None:
    job = capture(mfr, SHIPMENT.read_bytes(), XML)
    assert job["success"] is True and job["errors"] == []
    results = job["results"]
    assert [e["status"] for e in results] == ["applied", "applied", "applied", "stored_only"]
    assert [[op["operation"] for op in e["operations"]] for e in results[:3]] == [
        ["RegisterLot", "Commission"],
        ["Pack"],
        ["Ship"],
    ]
    # custody moved as the file says: the case and its packs are on their way to wholesaler A
    wholesaler = world.net.address("wholesaler_a")
    for serial in ("TLS1", "TLS2", "TLS3"):
        view = world.net["manufacturer"].pack_state(GTIN, serial)
        assert view.status is PackStatus.ACTIVE and view.pending_to == wholesaler
    # the job shows every warning the reader finds in the file (listed in test_tolerated.py),
    # each with its event
    warnings = job["warnings"]
    read = read_valid_document(SHIPMENT).warnings
    assert [(w["index"], w["field"], w["kind"]) for w in warnings] == [
        (w.index, w.field, w.kind) for w in read
    ]
    assert len(warnings) == 8
    readpoint = warnings[5]
    assert readpoint == {
        "index": 2,
        "eventID": None,
        "eventHash": results[2]["event_hash"],
        "path": "/epcisBody/eventList/2/readPoint/id",
        "field": "/readPoint/id",
        "kind": "location",
        "value": DOTLESS_SGLN,
        "message": f"malformed readPoint id, kept as sent: {DOTLESS_SGLN}:"
        " expected CompanyPrefix.LocationReference.Extension"
        " (3 fields separated by '.', e.g. urn:epc:id:sgln:0614141.12345.0), got 1; 13 digits"
        " look like a GLN with its check digit, which the URN gives as company prefix and"
        " reference, without the check digit",
    }
    # kept in the gateway's database with the event's hash ...
    rows = _warning_rows(mfr, job["captureID"])
    assert [(r.event_index, r.path, r.value) for r in rows] == [
        (w["index"], w["path"], w["value"]) for w in warnings
    ]
    assert all(r.event_hash == hash_uri_digest(results[r.event_index]["event_hash"]) for r in rows)
    # ... and in the operator's EPCIS store, beside the event kept as sent
    shipped = hash_uri_digest(results[2]["event_hash"])
    with EventStore(mfr.state.settings.epcis_store_path) as store:
        stored = store.event(shipped)
        assert stored is not None
        assert stored.event["readPoint"] == {"id": DOTLESS_SGLN}
        assert stored.event["packingSlipNumber"] == "PS-7731"
        assert [(w["field"], w["value"]) for w in store.warnings(shipped.hex())] == [
            (w["field"], w["value"]) for w in warnings if w["index"] == 2
        ]
        # a transaction's date has no place in EPCIS 2.0: the warnings hold it, not the event
        assert "date" not in stored.event["bizTransactionList"][0]
        assert store.warnings(shipped.hex())[0]["value"] == "2025-03-03"
    # the list of jobs shows them too
    listed = mfr.client.get("/v1/capture", headers=CONSOLE).json()
    assert [j["warnings"] for j in listed if j["captureID"] == job["captureID"]] == [warnings]

    # posting it again writes nothing, and says the same
    before = world.w3.eth.block_number
    again = capture(mfr, SHIPMENT.read_bytes(), XML)
    assert [e["status"] for e in again["results"]] == ["skipped"] * 3 + ["stored_only"]
    assert again["warnings"] == warnings
    assert world.w3.eth.block_number == before


def test_the_tracelink_sample_is_received_and_each_event_answered(mfr: Gateway) -> None:
    # its codes belong to no member here: each event fails on its own, none is a 500
    job = capture(mfr, (PARTNER_FILES / "tracelink_sample.xml").read_bytes(), XML)
    assert job["running"] is False and job["success"] is False
    results = job["results"]
    assert [e["status"] for e in results] == ["failed"] * 4 + ["stored_only"]
    assert {e["index"] for e in job["errors"]} == {0, 1, 2, 3}
    assert all(e["error"] != "InternalError" for e in job["errors"])
    assert [(w["index"], w["field"], w["value"]) for w in job["warnings"]] == [
        (3, "/bizTransactionList/0/date", "2018-06-12"),
        (3, "/bizTransactionList/1/date", "2018-06-12"),
        (4, "/readPoint/id", DOTLESS_SGLN),
    ]
    assert [w["eventHash"] for w in job["warnings"]] == [
        results[i]["event_hash"] for i in (3, 3, 4)
    ]


def test_a_job_keeps_its_warnings_from_the_moment_it_is_accepted(mfr: Gateway) -> None:
    with mfr.state.capture.lock.hold():  # the job waits for the operator's key
        response = mfr.client.post(
            "/v1/capture", content=(PARTNER_FILES / "tracelink_sample.xml").read_bytes(),
            headers=XML,
        )  # fmt: skip
        assert response.status_code == 202, response.text
        job_id = response.json()["captureID"]
        rows = _warning_rows(mfr, job_id)
        assert [(r.field, r.value, r.event_hash) for r in rows] == [
            ("/bizTransactionList/0/date", "2018-06-12", None),
            ("/bizTransactionList/1/date", "2018-06-12", None),
            ("/readPoint/id", DOTLESS_SGLN, None),
        ]
    job = finished_job(mfr, f"/v1/capture/{job_id}")
    assert [w["field"] for w in job["warnings"]] == [r.field for r in rows]
    assert all(w["eventHash"] is not None for w in job["warnings"])


def test_a_resumed_job_keeps_the_warnings_that_are_not_in_its_document(mfr: Gateway) -> None:
    # a job the process stopped before running: its document and warnings, as submit left them
    valid = read_valid_document(SHIPMENT.read_bytes())
    job_id = "cap-resumed-warnings"
    operator = mfr.state.capture.ledger
    assert operator is not None
    with mfr.state.capture.engine.begin() as conn:
        conn.execute(
            insert(m.CaptureJob).values(
                id=job_id, owner=operator.address, running=True, success=True,
                error_behaviour="proceed", document=valid.doc, results=[], errors=[],
                created_at=time.time(),
            )
        )  # fmt: skip
        conn.execute(insert(m.EventWarning), warning_rows(job_id, valid.warnings))
    assert mfr.state.capture.resume_orphans() == 1
    job = finished_job(mfr, f"/v1/capture/{job_id}")
    assert [(w["field"], w["value"]) for w in job["warnings"]] == [
        (w.field, w.value) for w in valid.warnings
    ]
    assert ("/bizTransactionList/0/date", "2025-03-03") in [
        (w["field"], w["value"]) for w in job["warnings"]
    ]
    assert all(w["eventHash"] is not None for w in job["warnings"])


def test_a_json_ld_document_with_warnings_only_is_captured_under_rollback(
    mfr: Gateway, world: World
) -> None:
    to = wholesaler_gln(world)
    shipment = event(
        "ObjectEvent",
        1,
        epcList=[sgtin("JW1"), sgtin("JW2")],
        action="OBSERVE",
        bizStep="urn:epcglobal:cbv:bizstep:shipping",  # EPCIS 1.2 spelling: read as shipping
        disposition="in_transit",
        destinationList=[
            {"type": "owning_party", "destination": f"urn:epc:id:pgln:{to}"},  # no dots
            {"type": "location", "destination": f"https://id.gs1.org/414/{to}"},
        ],
        internalReference="REF-17",  # no namespace prefix
    )
    doc = document(commissioning("JWLOT1", ["JW1", "JW2"]), shipment)
    job = capture(mfr, doc, {**LD, "GS1-Capture-Error-Behaviour": "rollback"})
    assert job["success"] is True
    assert [e["status"] for e in job["results"]] == ["applied", "applied"]
    assert [(w["index"], w["field"], w["kind"]) for w in job["warnings"]] == [
        (1, "/bizStep", "vocabulary"),
        (1, "/destinationList/0/destination", "party"),
        (1, "/internalReference", "extension"),
    ]
    view = world.net["manufacturer"].pack_state(GTIN, "JW1")
    assert view.pending_to == world.net.address("wholesaler_a")


def _broken_sgtin(xml: bytes) -> bytes:
    return xml.replace(b"sgtin:9506000.013435.TLS2", b"sgtin:9506000.01343.TLS2", 1)


def _broken_quantity(xml: bytes) -> bytes:
    """The shipping event (line 107) with a quantity that is not a number."""
    shipped = b"</epcList>\n        <action>OBSERVE</action>"
    quantities = (
        b"</epcList><extension><quantityList><quantityElement>"
        b"<epcClass>urn:epc:class:lgtin:9506000.013435.TLLOT1</epcClass>"
        b"<quantity>lots</quantity></quantityElement></quantityList></extension>"
    )
    return xml.replace(shipped, shipped.replace(b"</epcList>", quantities), 1)


@pytest.mark.parametrize(
    ("body", "headers", "error", "warnings"),
    [
        (
            _broken_sgtin(SHIPMENT.read_bytes()),
            XML,
            "/epcisBody/eventList/0/epcList/1: urn:epc:id:sgtin:9506000.01343.TLS2:"
            " urn:epc:id:sgtin: company prefix + reference must have 13 digits",
            8,
        ),
        (_broken_quantity(SHIPMENT.read_bytes()), XML, "line 107: <quantity> 'lots' is not a", 0),
        (
            json.dumps(
                document(
                    event(
                        "AggregationEvent",
                        0,
                        parentID="urn:epc:id:sscc:9506000.080000010",
                        childEPCs=[sgtin("JW9")],
                        action="ADD",
                        bizStep="packing",
                        readPoint={"id": DOTLESS_SGLN},
                    )
                )
            ).encode(),
            LD,
            "/epcisBody/eventList/0/parentID: urn:epc:id:sscc:9506000.080000010:",
            1,
        ),
    ],
    ids=["broken-sgtin", "broken-quantity", "broken-parent-sscc"],
)
def test_a_document_with_an_error_is_refused_precisely_and_nothing_is_written(
    mfr: Gateway, world: World, body: bytes, headers: dict[str, str], error: str, warnings: int
) -> None:
    jobs = len(mfr.client.get("/v1/capture", headers=CONSOLE).json())
    with EventStore(mfr.state.settings.epcis_store_path) as store:
        events = store.count()
    before = world.w3.eth.block_number
    response = mfr.client.post("/v1/capture", content=body, headers=headers)
    assert response.status_code == 400, response.text
    problem: dict[str, Any] = response.json()
    assert problem["title"] == "Invalid EPCIS document"
    assert any(e.startswith(error) for e in problem["errors"]), problem["errors"]
    assert len(problem.get("warnings", [])) == warnings  # told too, though they did not refuse it
    assert world.w3.eth.block_number == before
    assert len(mfr.client.get("/v1/capture", headers=CONSOLE).json()) == jobs
    with EventStore(mfr.state.settings.epcis_store_path) as store:
        assert store.count() == events
