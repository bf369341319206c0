"""Request bodies are bounded before any route or parser sees them, on a live gateway with
small limits: size (413, declared or streamed) and JSON / XML nesting depth (400)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_helpers import CONSOLE, Gateway, World, dm, running_gateway

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "epcis"
MAX_BYTES = 4096
CAPTURE_BYTES = 64_000
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def small(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with 4 kB bodies (64 kB for capture) and the default depth limit of 64."""
    db = tmp_path_factory.mktemp("limits") / "gateway.db"
    with running_gateway(
        world, db, max_body_bytes=MAX_BYTES, max_capture_bytes=CAPTURE_BYTES
    ) as gw:
        yield gw


def nested(levels: int, inner: str = "0") -> bytes:
    return ("[" * levels + inner + "]" * levels).encode()


def assert_problem(response: httpx.Response, status: int, title: str, limit: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    problem = response.json()
    assert (problem["status"], problem["title"], problem["limit"]) == (status, title, limit)
    assert str(limit) in problem["detail"]


def test_declared_content_length_over_the_limit_is_refused_before_the_body_is_sent(
    small: Gateway,
) -> None:
    connection = http.client.HTTPConnection(small.url.removeprefix("http://"), timeout=30)
    try:
        connection.putrequest("POST", "/v1/auth/challenge")
        connection.putheader("content-type", "application/json")
        connection.putheader("content-length", str(10**9))
        connection.endheaders()  # headers only: the gigabyte never comes
        response = connection.getresponse()
        assert response.status == 413
        problem = json.loads(response.read())
    finally:
        connection.close()
    assert problem["title"] == "Content too large" and problem["limit"] == MAX_BYTES
    assert (
        problem["detail"]
        == f"the request body is larger than {MAX_BYTES} bytes, the limit for this endpoint"
    )


def test_streamed_body_without_content_length_is_refused_once_it_passes_the_limit(
    small: Gateway,
) -> None:
    chunks = [b" " * 1024] * 8
    sent = small.client.build_request("POST", "/v1/auth/challenge", content=iter(chunks))
    assert "content-length" not in sent.headers
    assert sent.headers["transfer-encoding"] == "chunked"
    assert_problem(small.client.send(sent), 413, "Content too large", MAX_BYTES)
    # the connection still serves the next request
    assert small.client.get("/healthz").status_code == 200


def test_body_at_the_size_limit_reaches_the_route(small: Gateway) -> None:
    body = b'{"address": "0x' + b"0" * 40 + b'"}'
    padded = body + b" " * (MAX_BYTES - len(body))
    response = small.client.post("/v1/auth/challenge", content=padded, headers=JSON)
    assert response.status_code == 200, response.text
    over = small.client.post("/v1/auth/challenge", content=padded + b" ", headers=JSON)
    assert_problem(over, 413, "Content too large", MAX_BYTES)


def test_capture_has_its_own_larger_limit(small: Gateway) -> None:
    headers = {**CONSOLE, "content-type": "application/ld+json"}
    body = b"{}" + b" " * (2 * MAX_BYTES)
    response = small.client.post("/v1/capture", content=body, headers=headers)
    assert response.status_code == 400 and response.json()["title"] == "Invalid EPCIS document"
    too_large = b"{}" + b" " * CAPTURE_BYTES
    response = small.client.post("/v1/capture", content=too_large, headers=headers)
    assert_problem(response, 413, "Content too large", CAPTURE_BYTES)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/ld+json", "application/vnd.x+json", "text/plain", None],
)
def test_json_one_level_too_deep_is_refused_before_login_whatever_its_content_type(
    small: Gateway, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    deep = small.client.post("/v1/auth/challenge", content=nested(65), headers=headers)
    assert_problem(deep, 400, "Nesting too deep", 64)
    assert deep.json()["detail"] == "the JSON document nests deeper than 64 levels"


def test_json_at_the_depth_limit_reaches_the_route(small: Gateway) -> None:
    response = small.client.post("/v1/auth/challenge", content=nested(64), headers=JSON)
    assert response.status_code == 422, response.text  # the route's own schema answers


def test_brackets_inside_json_strings_do_not_count_as_nesting(small: Gateway) -> None:
    code = dm("S1")
    noise = "[{" * 1000 + '\\"' + "]" * 10
    body = json.dumps({"codes": [code, noise]})
    response = small.client.post("/v1/verify", content=body, headers={**CONSOLE, **JSON})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["status"] == "VERIFIED" and results[1]["status"] != "VERIFIED"


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml"])
def test_deep_xml_capture_is_refused_before_the_xml_parser(
    small: Gateway, content_type: str
) -> None:
    xml = b"<?xml version='1.0'?><EPCISDocument>" + b"<a>" * 64 + b"</a>" * 64 + b"</EPCISDocument>"
    headers = {**CONSOLE, "content-type": content_type}
    response = small.client.post("/v1/capture", content=xml, headers=headers)
    assert_problem(response, 400, "Nesting too deep", 64)
    assert response.json()["detail"] == "the XML document nests deeper than 64 levels"


def test_capture_with_a_number_of_5000_digits_is_refused_with_400(small: Gateway) -> None:
    headers = {**CONSOLE, "content-type": "application/ld+json"}
    body = b'{"schemaVersion": ' + b"2" * 5000 + b"}"
    response = small.client.post("/v1/capture", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["title"] == "Invalid EPCIS document"
    assert "4300 digits" in response.json()["errors"][0]


def finished(gw: Gateway, response: httpx.Response) -> dict[str, Any]:
    """The capture job of an accepted POST, once it has run."""
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = gw.client.get(response.headers["Location"], headers=CONSOLE).json()
        if not job["running"]:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_epcis_json_and_xml_captures_pass_the_limits(small: Gateway) -> None:
    sensor = (SHARED / "examples" / "WithSensorData__SensorDataExample1.jsonld").read_bytes()
    headers = {**CONSOLE, "content-type": "application/ld+json"}
    job = finished(small, small.client.post("/v1/capture", content=sensor, headers=headers))
    assert job["success"] is True and job["counts"]["stored_only"] == 1
    xml = (SHARED / "dscsa-1.2" / "epcis_1.2.cardinal_health.xml").read_bytes()
    headers = {
        **CONSOLE,
        "content-type": "application/xml",
        "GS1-Capture-Error-Behaviour": "proceed",
    }
    job = finished(small, small.client.post("/v1/capture", content=xml, headers=headers))
    assert sum(job["counts"].values()) == 3  # every event was read and reported


def test_requests_without_a_body_are_untouched(small: Gateway) -> None:
    response = small.client.get("/v1/verify", params={"code": dm("S1")}, headers=CONSOLE)
    assert response.status_code == 200 and response.json()["status"] == "VERIFIED"
