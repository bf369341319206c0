"""EPCIS capture test helpers: documents of the test world's codes, and a capture that polls
its job until it finishes."""

from __future__ import annotations

import json
import time
from typing import Any

from gateway_helpers import GTIN, Gateway, World

from ledger_client.ids import gs1_check_digit

CONSOLE_KEY = "manufacturer-console-key"
CONSOLE = {"Authorization": f"Bearer {CONSOLE_KEY}"}
LD = {**CONSOLE, "content-type": "application/ld+json"}
XML = {**CONSOLE, "content-type": "application/xml"}
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def sscc(serial_ref: str) -> str:
    """An SSCC of the manufacturer's prefix 9506000 with its check digit."""
    body = f"09506000{serial_ref:0>9}"
    return body + str(gs1_check_digit(body))


def sgtin(serial: str) -> str:
    return f"https://id.gs1.org/01/{GTIN}/21/{serial}"


def event(kind: str, minute: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "eventTime": f"2025-03-01T10:{minute:02d}:00Z",
        "eventTimeZoneOffset": "+00:00",
        **fields,
    }


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T12:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def commissioning(lot: str, serials: list[str], minute: int = 0) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        minute,
        epcList=[sgtin(s) for s in serials],
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        ilmd={"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": "2030-12-31"},
    )


def shipping(epcs: list[str], to_gln: str, minute: int) -> dict[str, Any]:
    return event(
        "ObjectEvent",
        minute,
        epcList=epcs,
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        destinationList=[
            {"type": "owning_party", "destination": f"https://id.gs1.org/417/{to_gln}"}
        ],
    )


def wholesaler_gln(world: World) -> str:
    consortium = world.net["manufacturer"].consortium.functions
    return f"{consortium.gln(world.net.address('wholesaler_a')).call():013d}"


def capture(gw: Gateway, body: bytes | dict[str, Any], headers: dict[str, str] = LD) -> Any:
    """POST a document (202 expected), poll its job until it finishes, return the job."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = gw.client.post("/v1/capture", content=content, headers=headers)
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location == f"/v1/capture/{response.json()['captureID']}"
    return finished_job(gw, location)


def finished_job(gw: Gateway, location: str) -> Any:
    """Poll the capture job at ``location`` until it finishes; return it."""
    deadline = time.monotonic() + 120
    while True:
        job = gw.client.get(location, headers=CONSOLE).json()
        if not job["running"]:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
