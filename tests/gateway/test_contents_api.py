"""``GET /v1/contents``: what the chain says is inside a case or pallet, level by level, with
status and custody, from a live gateway's index; for its holder, the member it is shipped to
and regulators only."""

from __future__ import annotations

from typing import Any

import pytest
from dock_world import Shipment, ship_to_pharmacy_a
from gateway_helpers import CONSOLE, GTIN, Gateway

from ledger_client.epcis.mapping import map_document
from ledger_client.epcis.store import EventStore
from ledger_client.gs1 import UnitCode, to_epc_urn


@pytest.fixture(scope="module")
def shipment(gateway: Gateway) -> Shipment:
    return ship_to_pharmacy_a(gateway, "CTA", 8701)


def contents(gateway: Gateway, code: str, headers: dict[str, str]) -> Any:
    return gateway.client.get("/v1/contents", params={"code": code}, headers=headers)


def test_a_pallet_in_transit_shows_its_cases_and_packs_with_status_and_custody(
    gateway: Gateway, shipment: Shipment
) -> None:
    response = contents(gateway, f"(00){shipment.pallet}", CONSOLE)
    assert response.status_code == 200, response.text
    body = response.json()
    pallet = body["item"]
    assert (pallet["kind"], pallet["level"], pallet["status"], pallet["packs"]) == (
        "pallet", 2, "IN_TRANSIT", 4,
    )  # fmt: skip
    assert pallet["code"] == f"(00){shipment.pallet}"
    cases = {c["id"]: c for c in pallet["children"]}
    owners = gateway.world.net["auditor"].owners
    for sscc, serials in zip(shipment.cases, shipment.case_packs, strict=True):
        case = cases["0x" + owners.unit_id(sscc).hex()]
        assert (case["kind"], case["level"], case["packs"]) == ("case", 1, 2)
        packs = {p["id"]: p for p in case["children"]}
        assert set(packs) == {"0x" + owners.pack_id(GTIN, s).hex() for s in serials}
        assert {p["status"] for p in packs.values()} == {"ACTIVE"}  # custody is the pallet's
    assert body["custodian_name"] == "manufacturer" and body["in_transit"] is True
    assert body["pending_to_name"] == "pharmacy_a" and body["inside"] == []


def test_a_pack_shows_the_units_it_sits_in_innermost_first(
    gateway: Gateway, shipment: Shipment
) -> None:
    serial = shipment.case_packs[1][0]
    owners = gateway.world.net["auditor"].owners
    body = contents(gateway, shipment.pack(serial), CONSOLE).json()
    assert (body["item"]["kind"], body["item"]["packs"], body["item"]["children"]) == (
        "pack",
        1,
        [],
    )
    assert [u["kind"] for u in body["inside"]] == ["case", "pallet"]
    assert body["inside"][1]["code"] is None  # this gateway never met the pallet's SSCC
    assert body["inside"][1]["id"] == "0x" + owners.unit_id(shipment.pallet).hex()
    assert body["custodian_name"] == "manufacturer" and body["pending_to_name"] == "pharmacy_a"


@pytest.mark.parametrize(
    ("who", "status"),
    [("console", 200), ("manufacturer", 200), ("regulator", 200), ("pharmacy_b", 403), (None, 401)],
)
def test_who_sees_the_contents(
    gateway: Gateway, shipment: Shipment, who: str | None, status: int
) -> None:
    headers = CONSOLE if who == "console" else gateway.auth(who) if who else {}
    response = contents(gateway, f"(00){shipment.cases[0]}", headers)
    assert response.status_code == status, response.text
    if status == 403:
        detail = response.json()["detail"]
        assert "held by manufacturer, in transit to pharmacy_a" in detail
        assert "only its holder, the member it is shipped to and regulators" in detail


@pytest.mark.parametrize(
    ("code", "status", "detail"),
    [
        ("(00)006141410000087990", 404, "the chain holds no case or pallet (00)006141410000087990"),
        ("(00)006141410000087998", 400, "wrong check digit"),
        (f"(01){GTIN}(10)L1", 400, "missing serial number (21)"),
        ("urn:epc:class:lgtin:9506000.013435.L1", 400, "scan a pack (GTIN + serial) or a case"),
    ],
)
def test_bad_or_unknown_codes(gateway: Gateway, code: str, status: int, detail: str) -> None:
    response = contents(gateway, code, CONSOLE)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


def test_codes_named_in_the_operators_epcis_store_are_shown(gateway: Gateway) -> None:
    s = ship_to_pharmacy_a(gateway, "CTB", 8711)
    pallet = to_epc_urn(UnitCode(s.pallet), company_prefix_length=7)
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-12-01T10:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-12-01T10:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "epcList": [pallet],
                    "action": "OBSERVE",
                    "bizStep": "receiving",
                }
            ]
        },
    }
    with EventStore(gateway.state.settings.epcis_store_path) as store:
        store.add_document(doc, map_document(doc, validate=False))
    body = contents(gateway, s.pack(s.case_packs[0][0]), CONSOLE).json()
    assert body["inside"][1]["code"] == f"(00){s.pallet}"  # from the store
    assert body["inside"][0]["code"] is None  # the case: named nowhere this gateway looks
