"""EPCIS 2.0 query interface on a live gateway run by the manufacturer, over its real store and
the shared chain: who reads which event (custody from the chain's index), parameters, paging,
named queries, and query documents valid against GS1's schema."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import pytest
from gateway_helpers import GTIN, Gateway, World, operator_key, running_gateway

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "epcis"
SCHEMA = json.loads((SHARED / "EPCIS-JSON-Schema.json").read_text())
CONSOLE_KEY = "query-console-key"
CONSOLE = {"Authorization": f"Bearer {CONSOLE_KEY}"}
LD = {**CONSOLE, "content-type": "application/ld+json"}
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
LOT = "QLOT"


def sgtin(serial: str) -> str:
    return f"https://id.gs1.org/01/{GTIN}/21/{serial}"


def urn(serial: str) -> str:
    """The EPC URN of pack ``serial`` (company prefix 9506000)."""
    return f"urn:epc:id:sgtin:9506000.013435.{serial}"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def event(minute: int, when: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": when or f"2025-04-01T10:{minute:02d}:00Z",
        "eventTimeZoneOffset": "+00:00",
        **fields,
    }


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-04-01T12:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def capture(gw: Gateway, body: bytes | dict[str, Any]) -> dict[str, Any]:
    """POST a document, wait for its job, then for the index to reach the head."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = gw.client.post("/v1/capture", content=content, headers=LD)
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = gw.client.get(response.headers["Location"], headers=CONSOLE).json()
        if not job["running"]:
            gw.wait_indexed()
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@dataclass
class Scene:
    """The gateway and the credentials of each caller."""

    gw: Gateway
    auth: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def scene(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """The manufacturer commissions Q1-Q3 and ships Q1 and Q2 to wholesaler_a (captured);
    wholesaler_a receives them; the manufacturer records an inspection while wholesaler_a
    holds them; wholesaler_a returns Q1, whose receipt the manufacturer captures. GS1's
    example documents are captured too (no custody on chain: only the operator and
    regulators read them)."""
    db = tmp_path_factory.mktemp("query") / "gateway.db"
    net = world.net
    m, wa = net["manufacturer"], net["wholesaler_a"]
    wa_gln = f"{m.consortium.functions.gln(wa.address).call():013d}"
    with running_gateway(
        world, db, operator_key=operator_key("manufacturer"), console_key=CONSOLE_KEY
    ) as gw:
        first = capture(
            gw,
            document(
                event(
                    0,
                    epcList=[sgtin(s) for s in ("Q1", "Q2", "Q3")],
                    action="ADD",
                    bizStep="commissioning",
                    disposition="active",
                    ilmd={"cbvmda:lotNumber": LOT, "cbvmda:itemExpirationDate": "2030-12-31"},
                ),
                event(
                    1,
                    epcList=[sgtin("Q1"), sgtin("Q2")],
                    action="OBSERVE",
                    bizStep="shipping",
                    disposition="in_transit",
                    destinationList=[
                        {"type": "owning_party", "destination": f"https://id.gs1.org/417/{wa_gln}"}
                    ],
                ),
            ),
        )
        assert first["counts"]["applied"] == 2, first
        wa.receive(packs=[(GTIN, "Q1"), (GTIN, "Q2")])
        during = world.w3.eth.get_block("latest")["timestamp"]
        inspection = event(
            2,
            when=iso(during),
            epcList=[urn("Q1"), urn("Q2")],
            action="OBSERVE",
            bizStep="inspecting",
            disposition="in_progress",
        )
        assert capture(gw, document(inspection))["counts"]["stored_only"] == 1
        wa.ship(m.address, packs=[(GTIN, "Q1")])
        gw.wait_indexed()
        receipt = event(
            3, epcList=[sgtin("Q1")], action="OBSERVE", bizStep="receiving", disposition="active"
        )
        assert capture(gw, document(receipt))["counts"]["applied"] == 1
        for name in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.3-AggregationEvent.jsonld"):
            capture(gw, (SHARED / "examples" / name).read_bytes())
        names = ("wholesaler_a", "pharmacy_a", "regulator", "auditor")
        yield Scene(gw, {"operator": CONSOLE, **{n: gw.auth(n) for n in names}})


def query(scene: Scene, who: str, path: str = "/v1/events", **params: str) -> Any:
    response = scene.gw.client.get(path, params=params, headers=scene.auth[who])
    assert response.status_code == 200, response.text
    doc = response.json()
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert doc["type"] == "EPCISQueryDocument"
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def steps(events: list[dict[str, Any]]) -> list[str | None]:
    return [e.get("bizStep") for e in events]


def pack_path(serial: str) -> str:
    return f"/v1/epcs/{quote(sgtin(serial), safe='')}/events"


# ------------------------------------------------------------------ who reads what


def test_the_operator_reads_every_event_of_its_store(scene: Scene) -> None:
    events = query(scene, "operator", perPage="100")
    assert steps(events)[:4] == ["commissioning", "shipping", "inspecting", "receiving"]
    assert len(events) >= 6  # and GS1's examples
    assert all("recordTime" in e for e in events)


def test_a_regulator_reads_every_event(scene: Scene) -> None:
    assert query(scene, "regulator", perPage="100") == query(scene, "operator", perPage="100")


def test_a_holder_reads_the_events_of_its_custody_only(scene: Scene) -> None:
    # shipped to it, inspected while it held them; not the commissioning before, nor the
    # manufacturer's receipt of Q1 after wholesaler_a sent it back, nor GS1's examples
    assert steps(query(scene, "wholesaler_a")) == ["shipping", "inspecting"]
    assert steps(query(scene, "wholesaler_a", pack_path("Q1"))) == ["shipping", "inspecting"]
    assert steps(query(scene, "wholesaler_a", pack_path("Q2"))) == ["shipping", "inspecting"]


def test_a_former_holder_does_not_read_events_after_it_shipped(scene: Scene) -> None:
    receipts = query(scene, "operator", pack_path("Q1"), EQ_bizStep="receiving")
    assert len(receipts) == 1
    assert query(scene, "wholesaler_a", pack_path("Q1"), EQ_bizStep="receiving") == []


def test_a_member_that_never_held_a_pack_is_refused_its_events(scene: Scene) -> None:
    for who, serial in (("wholesaler_a", "Q3"), ("pharmacy_a", "Q1"), ("auditor", "Q2")):
        response = scene.gw.client.get(pack_path(serial), headers=scene.auth[who])
        assert response.status_code == 403, (who, serial, response.text)
        assert "never held" in response.json()["detail"]
    # the collection answers only what the caller may read: for pharmacy_a, none of these
    assert [e for e in query(scene, "pharmacy_a") if "Q" in json.dumps(e)] == []


def test_unauthenticated_requests_get_401(scene: Scene) -> None:
    for path in ("/v1/events", pack_path("Q1"), "/v1/eventTypes", "/v1/queries"):
        response = scene.gw.client.get(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"


# ------------------------------------------------------------------ parameters


def test_identifiers_match_in_any_spelling(scene: Scene) -> None:
    by_urn = query(scene, "operator", MATCH_epc=urn("Q2"))
    by_link = query(scene, "operator", MATCH_epc=sgtin("Q2"))
    assert by_urn == by_link
    assert steps(by_urn) == ["commissioning", "shipping", "inspecting"]
    pattern = "urn:epc:idpat:sgtin:9506000.013435.*"
    assert len(query(scene, "operator", MATCH_anyEPC=pattern, perPage="100")) >= 4


def test_standard_filters(scene: Scene) -> None:
    moves = query(scene, "operator", EQ_bizStep="shipping|receiving", MATCH_epc=urn("Q1"))
    assert steps(moves) == ["shipping", "receiving"]
    cbv_uri = "https://ref.gs1.org/cbv/BizStep-inspecting"
    assert steps(query(scene, "operator", EQ_bizStep=cbv_uri)) == ["inspecting"]
    aggregations = query(scene, "operator", eventType="AggregationEvent")
    assert aggregations and {e["type"] for e in aggregations} == {"AggregationEvent"}
    old = query(scene, "operator", LT_eventTime="2010-01-01T00:00:00Z", perPage="100")
    assert old and all(e["eventTime"] < "2010" for e in old)
    assert query(scene, "operator", EQ_action="ADD", MATCH_epc=urn("Q3"))[0]["bizStep"] == (
        "commissioning"
    )
    future = iso(time.time() + 3600)
    assert query(scene, "operator", GE_recordTime=future) == []


def test_order_and_event_count_limit(scene: Scene) -> None:
    latest = query(scene, "operator", orderBy="eventTime", eventCountLimit="1")
    newest = query(scene, "operator", orderBy="eventTime", orderDirection="ASC", perPage="100")
    assert latest == [newest[-1]]
    times = [e["eventTime"] for e in newest]
    as_times = [dt.datetime.fromisoformat(t) for t in times]
    assert as_times == sorted(as_times)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"EQ_quantity": "1"}, "EQ_quantity"),
        ({"WD_bizLocation": "urn:epc:id:sgln:0614141.00777.0"}, "WD_bizLocation"),
        ({"colour": "red"}, "colour"),
        ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
        ({"GE_eventTime": "2025-01-01T00:00:00"}, "GE_eventTime"),
        ({"EQ_action": "CREATE"}, "EQ_action"),
        ({"eventCountLimit": "1"}, "eventCountLimit"),
        ({"orderBy": "quantity"}, "orderBy"),
        ({"perPage": "0"}, "perPage"),
        ({"perPage": "x"}, "perPage"),
        ({"EQ_bizStep": "shipping||"}, "EQ_bizStep"),
        ({"MATCH_epc": "urn:epc:id:sgtin:9506000.013435"}, "MATCH_epc"),
        ({"nextPageToken": "not-a-token"}, "nextPageToken"),
    ],
)
def test_a_bad_or_unsupported_parameter_is_a_query_parameter_exception(
    scene: Scene, params: dict[str, str], parameter: str
) -> None:
    response = scene.gw.client.get("/v1/events", params=params, headers=CONSOLE)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == "epcisException:QueryParameterException"
    assert problem["parameter"] == parameter
    assert problem["detail"].startswith(f"{parameter}: ")


def test_more_events_than_max_event_count_is_query_too_large(scene: Scene) -> None:
    response = scene.gw.client.get("/v1/events", params={"maxEventCount": "1"}, headers=CONSOLE)
    assert response.status_code == 413
    assert response.json()["type"] == "epcisException:QueryTooLargeException"


# ------------------------------------------------------------------ paging


def test_pages_follow_the_link_header_to_the_whole_result(scene: Scene) -> None:
    whole = query(scene, "operator", perPage="1000")
    url: str | None = "/v1/events?perPage=2"
    paged: list[dict[str, Any]] = []
    pages = 0
    while url is not None:
        response = scene.gw.client.get(url, headers=CONSOLE)
        assert response.status_code == 200
        jsonschema.Draft7Validator(SCHEMA).validate(response.json())
        batch = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(batch) <= 2
        paged += batch
        pages += 1
        link = response.headers.get("Link")
        if link is None:
            url = None
            continue
        target, rel = link.split(";")
        assert rel.strip() == 'rel="next"'
        absolute = target.strip()[1:-1]
        assert absolute.startswith(scene.gw.state.settings.public_url)  # never the Host header
        parts = urlsplit(absolute)
        url = f"{parts.path}?{parts.query}"
    assert paged == whole and pages == (len(whole) + 1) // 2


def test_a_page_token_only_serves_the_query_it_came_from(scene: Scene) -> None:
    first = scene.gw.client.get("/v1/events", params={"perPage": "1"}, headers=CONSOLE)
    token = first.headers["Link"].split("nextPageToken=")[1].split(">")[0]
    response = scene.gw.client.get(
        "/v1/events", params={"nextPageToken": token, "EQ_bizStep": "shipping"}, headers=CONSOLE
    )
    assert response.status_code == 400
    assert "other parameters" in response.json()["detail"]


# ------------------------------------------------------------------ event types, named queries


def test_event_types(scene: Scene) -> None:
    body = scene.gw.client.get("/v1/eventTypes", headers=scene.auth["pharmacy_a"]).json()
    assert body["type"] == "Collection"
    assert "ObjectEvent" in body["member"] and "AssociationEvent" in body["member"]


def test_named_query_is_created_run_and_deleted(scene: Scene) -> None:
    client, wa = scene.gw.client, scene.auth["wholesaler_a"]
    definition = {"EQ_bizStep": ["shipping", "inspecting"], "eventType": ["ObjectEvent"]}
    created = client.post("/v1/queries", json={"name": "waView", "query": definition}, headers=wa)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/v1/queries/waView/events"
    again = client.post("/v1/queries", json={"name": "waView", "query": {}}, headers=wa)
    assert again.status_code == 409
    assert client.get("/v1/queries/waView", headers=wa).json() == {
        "name": "waView",
        "query": definition,
    }
    assert [q["name"] for q in client.get("/v1/queries", headers=wa).json()] == ["waView"]
    results = query(scene, "wholesaler_a", "/v1/queries/waView/events")
    assert steps(results) == ["shipping", "inspecting"]
    page = client.get("/v1/queries/waView/events", params={"perPage": "1"}, headers=wa)
    assert "/v1/queries/waView/events?" in page.headers["Link"]
    # another member does not see it; the operator does
    assert client.get("/v1/queries/waView", headers=scene.auth["pharmacy_a"]).status_code == 404
    assert client.get("/v1/queries/waView", headers=CONSOLE).status_code == 200
    refused = client.get("/v1/queries/waView/events", params={"EQ_bizStep": "x"}, headers=wa)
    assert refused.status_code == 400
    assert client.delete("/v1/queries/waView", headers=wa).status_code == 204
    assert client.get("/v1/queries/waView", headers=wa).status_code == 404


def test_a_named_query_with_a_bad_parameter_is_refused(scene: Scene) -> None:
    response = scene.gw.client.post(
        "/v1/queries", json={"name": "bad", "query": {"EQ_quantity": 3}}, headers=CONSOLE
    )
    assert response.status_code == 400
    assert response.json()["type"] == "epcisException:QueryParameterException"
