"""``GET /v1/exceptions``, the exception desk of a live gateway on its own chain: a member
lists the exceptions it opened or must answer, with their deadlines in business days; only
those overdue, or of some statuses; a bystander sees none and may not ask for another
member's; regulators see every member's. Real chain (eth-tester), real server, real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gateway_helpers import Gateway, World, running_gateway

from gateway.services.chain import serialise_provider
from ledger_client.chain import connect
from ledger_client.devnet import deploy_devnet
from ledger_client.types import ExceptionKind

GTIN = "09506000134352"
DAY = 86_400


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, dict[str, int]]]:
    """Wholesaler A's exception against the maker, never answered (``late``); the maker's
    against wholesaler A, answered (``answered``); ten days on, wholesaler B's against the
    maker, just opened (``fresh``)."""
    w3 = serialise_provider(connect("eth-tester"))
    net = deploy_devnet(w3)
    mf, wa, wb = net["manufacturer"], net["wholesaler_a"], net["wholesaler_b"]
    mf.register_lot(GTIN, "XD1", "301231")
    mf.commission(GTIN, "XD1", ["D1", "D2", "D3"])
    ids = {
        "late": wa.open_exception(mf.address, ExceptionKind.DATA_ISSUE, [(GTIN, "D1")])[0],
        "answered": mf.open_exception(
            wa.address, ExceptionKind.DATA_WITHOUT_PRODUCT, [(GTIN, "D2")]
        )[0],
    }
    wa.answer_exception(ids["answered"])
    tester = w3.provider.ethereum_tester  # type: ignore[attr-defined]
    tester.time_travel(int(w3.eth.get_block("latest")["timestamp"]) + 10 * DAY)
    ids["fresh"] = wb.open_exception(mf.address, ExceptionKind.PACKAGING_LABELLING, [(GTIN, "D3")])[
        0
    ]
    path = tmp_path_factory.mktemp("chain") / "deployment.json"
    net.deployment.save(path)
    db = tmp_path_factory.mktemp("db") / "gateway.db"
    with running_gateway(World(w3, net, path), db) as gw:
        yield gw, ids


def listed(gw: Gateway, name: str | None, **params: Any) -> tuple[int, Any]:
    headers = gw.auth(name) if name else {}
    response = gw.client.get("/v1/exceptions", params=params, headers=headers)
    return response.status_code, response.json()


def ids_of(body: Any) -> list[int]:
    return [e["id"] for e in body["exceptions"]]


def test_a_member_lists_what_it_opened_and_what_it_must_answer(
    desk: tuple[Gateway, dict[str, int]],
) -> None:
    gw, ids = desk
    code, body = listed(gw, "wholesaler_a")
    assert code == 200, body
    assert ids_of(body) == [ids["answered"], ids["late"]]  # newest first; not B's
    late = body["exceptions"][1]
    assert (late["kind"], late["status"], late["answer_overdue"]) == ("DATA_ISSUE", "OPEN", True)
    assert (late["opener_name"], late["counterparty_name"]) == ("wholesaler_a", "manufacturer")
    assert late["age_business_days"] >= 6 and late["time_zone"] == "UTC"
    assert late["answer_due_at"] < body["as_of"] and late["items_hash"].startswith("0x")
    answered = body["exceptions"][0]
    assert (answered["status"], answered["answer_overdue"]) == ("ANSWERED", False)
    assert answered["answered_at"] is not None and answered["resolved_at"] is None
    code, body = listed(gw, "manufacturer")
    assert ids_of(body) == [ids["fresh"], ids["answered"], ids["late"]]
    fresh = body["exceptions"][0]
    assert (fresh["answer_overdue"], fresh["age_business_days"]) == (False, 0)


def test_only_the_overdue_or_the_statuses_asked_for(
    desk: tuple[Gateway, dict[str, int]],
) -> None:
    gw, ids = desk
    assert ids_of(listed(gw, "manufacturer", overdue="true")[1]) == [ids["late"]]
    assert ids_of(listed(gw, "manufacturer", status="ANSWERED")[1]) == [ids["answered"]]
    both = listed(gw, "manufacturer", status=["OPEN", "ANSWERED"], limit=2)[1]
    assert ids_of(both) == [ids["fresh"], ids["answered"]]
    code, body = listed(gw, "manufacturer", status="CLOSED")
    assert code == 422 and body["errors"][0]["loc"] == ["query", "status", 0], body


def test_a_bystander_sees_none_and_regulators_see_every_members(
    desk: tuple[Gateway, dict[str, int]],
) -> None:
    gw, ids = desk
    code, body = listed(gw, "pharmacy_a")
    assert code == 200 and body["exceptions"] == [], body
    maker = gw.world.net.address("manufacturer")
    code, body = listed(gw, "pharmacy_a", member=maker)
    assert code == 403 and "only regulators and auditors" in body["detail"], body
    assert listed(gw, "wholesaler_b", member=gw.world.net.address("wholesaler_b"))[0] == 200
    for name in ("regulator", "auditor"):
        assert ids_of(listed(gw, name)[1]) == [ids["fresh"], ids["answered"], ids["late"]]
    b = gw.world.net.address("wholesaler_b")
    assert ids_of(listed(gw, "regulator", member=b)[1]) == [ids["fresh"]]
    assert listed(gw, None)[0] == 401
