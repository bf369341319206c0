"""Receiving at the dock through the API, on a real chain and a live gateway whose operator is
pharmacy_a: scans matched against what is in transit to it, matched items received in one
action (once, however often it is sent), product without data quarantined with an exception
against the holder the chain names, data without product reported against the sender (who is
alerted, by webhook too), aggregation errors with their evidence anchored; who may call what;
bad input."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from dock_world import Shipment, ship_to_pharmacy_a
from gateway_helpers import CONSOLE, GTIN, Gateway, WebhookReceiver, dm
from sqlalchemy import select

from gateway.db import models as m
from gateway.services.dock_report import evidence_document
from ledger_client.ids import items_hash
from ledger_client.types import ExceptionKind, ExceptionStatus, PackStatus, UnitStatus


def ids(gateway: Gateway, *, packs: tuple[str, ...] = (), units: tuple[str, ...] = ()) -> list[str]:
    """The 0x ledger ids of packs (serials) and units (SSCCs), as the chain's owners give them."""
    owners = gateway.world.net["auditor"].owners
    found = [owners.pack_id(GTIN, s) for s in packs] + [owners.unit_id(u) for u in units]
    return ["0x" + i.hex() for i in found]


def open_session(gateway: Gateway, shipment: Shipment) -> dict[str, Any]:
    response = gateway.client.post(
        "/v1/dock/sessions", json={"shipment": shipment.tx}, headers=CONSOLE
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def scan(gateway: Gateway, session: str, code: str, within: str | None = None) -> dict[str, Any]:
    body = {"code": code} | ({"within": within} if within else {})
    response = gateway.client.post(f"/v1/dock/sessions/{session}/scans", json=body, headers=CONSOLE)
    assert response.status_code == 200, response.text
    return dict(response.json())


def post(gateway: Gateway, session: str, action: str, body: dict[str, Any]) -> httpx.Response:
    return gateway.client.post(f"/v1/dock/sessions/{session}/{action}", json=body, headers=CONSOLE)


def states(nodes: list[dict[str, Any]]) -> dict[str, str]:
    """Each expected item's state, by id, at every level."""
    found: dict[str, str] = {}
    for node in nodes:
        found[node["id"]] = node["state"]
        found |= states(node["children"])
    return found


def test_expected_vs_scanned_level_by_level_and_one_receipt_for_the_matched_items(
    gateway: Gateway,
) -> None:
    s = ship_to_pharmacy_a(gateway, "DQA", 8801)
    inbound = gateway.client.get("/v1/dock/inbound", headers=CONSOLE).json()
    (maker,) = [i for i in inbound if i["sender_name"] == "manufacturer"]
    assert maker["shipments"][s.tx] == 2  # the pallet and the loose pack
    session = open_session(gateway, s)
    sid = session["id"]
    assert session["sender_name"] == "manufacturer" and session["shipment"] == s.tx
    assert sorted(n["kind"] for n in session["expected"]) == ["pack", "pallet"]
    (pallet,) = [n for n in session["expected"] if n["kind"] == "pallet"]
    assert [c["kind"] for c in pallet["children"]] == ["case", "case"]
    assert (
        session["counts"]["expected"] == 1 + 1 + 2 + 4 and session["counts"]["expected_packs"] == 5
    )
    assert set(states(session["expected"]).values()) == {"missing"}

    answer = scan(gateway, sid, Shipment.sscc(s.pallet))
    assert (answer["scan"]["outcome"], answer["duplicate"]) == ("matched", False)
    assert answer["scan"]["clear"] == f"(00){s.pallet}"
    seen = states(answer["session"]["expected"])
    (case_a, case_b) = ids(gateway, units=s.cases)
    assert seen[ids(gateway, units=(s.pallet,))[0]] == "scanned"
    assert seen[case_a] == seen[case_b] == "inferred"  # a sealed pallet stands for its contents
    loose_scan = scan(gateway, sid, s.pack(s.loose))
    assert loose_scan["scan"]["note"] == "pack of the shipment: receivable"
    again = scan(gateway, sid, f"(01){GTIN}(21){s.loose}")  # the same pack, another form
    assert again["duplicate"] is True and again["scan"]["repeats"] == 1
    assert "scanned 2 times, counted once" in again["scan"]["note"]
    view = again["session"]
    assert view["counts"]["scanned"] == 2 and view["counts"]["repeats"] == 1
    receivable = view["receivable"]
    assert sorted(receivable) == sorted(ids(gateway, packs=(s.loose,), units=(s.pallet,)))
    assert view["report"] == {"missing": [], "quarantined": [], "aggregation": []}

    stale = post(gateway, sid, "receive", {"items": receivable[:1]})
    assert stale.status_code == 409 and sorted(stale.json()["receivable"]) == sorted(receivable)
    done = post(gateway, sid, "receive", {"items": receivable})
    assert done.status_code == 200, done.text
    first = done.json()
    assert first["replayed"] is False and first["actions"][0]["kind"] == "receive"
    pharmacy = gateway.world.net["pharmacy_a"]
    assert pharmacy.unit_state(s.pallet).custodian == pharmacy.address
    assert pharmacy.pack_state(GTIN, s.loose).status == PackStatus.ACTIVE
    assert first["session"]["receivable"] == []
    assert first["session"]["counts"]["received"] == 2

    block = gateway.world.w3.eth.block_number
    twice = post(gateway, sid, "receive", {"items": list(reversed(receivable))})
    assert twice.status_code == 200 and twice.json()["replayed"] is True
    assert twice.json()["actions"][0]["tx_hashes"] == first["actions"][0]["tx_hashes"]
    assert gateway.world.w3.eth.block_number == block  # nothing sent


def test_items_of_another_shipment_or_already_held_are_named_and_not_reported(
    gateway: Gateway,
) -> None:
    s, other = ship_to_pharmacy_a(gateway, "DQI", 8921), ship_to_pharmacy_a(gateway, "DQJ", 8931)
    sid = open_session(gateway, s)["id"]
    elsewhere = scan(gateway, sid, other.pack(other.loose))["scan"]
    assert elsewhere["outcome"] == "other_shipment"
    assert elsewhere["note"].startswith("in transit to you from manufacturer, not in this")
    held = scan(gateway, sid, dm("S1"))["scan"]  # received by pharmacy_a long ago
    assert held["outcome"] == "held" and held["note"].startswith("already in your custody")
    view = gateway.client.get(f"/v1/dock/sessions/{sid}", headers=CONSOLE).json()
    assert view["report"]["quarantined"] == [] and view["receivable"] == []
    net = gateway.world.net
    net["manufacturer"].report_lost(net.address("pharmacy_a"), units=[other.pallet])
    gateway.wait_indexed()
    lost = scan(gateway, sid, Shipment.sscc(other.pallet))["scan"]
    assert lost["outcome"] == "product_without_data"
    assert "reported lost by manufacturer on its way to you" in lost["note"]
    mine = gateway.client.post("/v1/dock/sessions", json={"sender": "pharmacy_a"}, headers=CONSOLE)
    assert mine.status_code == 400 and "operator" in mine.json()["detail"]


def test_two_receives_sent_at_once_receive_once(gateway: Gateway) -> None:
    s = ship_to_pharmacy_a(gateway, "DQH", 8911)
    sid = open_session(gateway, s)["id"]
    items = scan(gateway, sid, Shipment.sscc(s.pallet))["session"]["receivable"]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: post(gateway, sid, "receive", {"items": items}), (1, 2)))
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["replayed"] for a in answers) == [False, True]
    (tx,) = {a.json()["actions"][0]["tx_hashes"][0] for a in answers}
    with gateway.state.engine.connect() as conn:
        receipts = conn.execute(
            select(m.DockAction.tx_hashes).where(
                m.DockAction.session_id == sid, m.DockAction.kind == "receive"
            )
        ).all()
    assert receipts == [([tx],)]


def test_product_without_data_is_quarantined_and_opened_against_the_holder_the_chain_names(
    gateway: Gateway,
) -> None:
    s = ship_to_pharmacy_a(gateway, "DQB", 8811)
    sid = open_session(gateway, s)["id"]
    theirs = scan(gateway, sid, s.pack(s.at_pharmacy_b))["scan"]
    assert theirs["outcome"] == "product_without_data"
    assert theirs["last_holder_name"] == "pharmacy_b"
    assert "the chain names pharmacy_b" in theirs["note"]
    never = scan(gateway, sid, dm("DQBNEVER", s.lot))["scan"]
    assert never["outcome"] == "product_without_data" and never["last_holder"] is None
    for code in (Shipment.sscc(s.pallet), s.pack(s.loose)):
        scan(gateway, sid, code)
    view = gateway.client.get(f"/v1/dock/sessions/{sid}", headers=CONSOLE).json()
    with gateway.state.engine.connect() as conn:
        kept = conn.execute(
            select(m.DockScan.quarantined, m.DockScan.last_holder).where(
                m.DockScan.session_id == sid, m.DockScan.quarantined.is_(True)
            )
        ).all()
    assert sorted(h or "" for _, h in kept) == ["", gateway.world.net.address("pharmacy_b")]
    report = view["report"]
    assert sorted(report["quarantined"]) == sorted([theirs["item_id"], never["item_id"]])

    closed = post(gateway, sid, "close", report)
    assert closed.status_code == 200, closed.text
    (action,) = closed.json()["actions"]  # nobody to open the never-seen code against
    assert (action["kind"], action["counterparty_name"]) == ("product_without_data", "pharmacy_b")
    record = gateway.world.net["auditor"].exception(action["exception_id"])
    assert record.kind == ExceptionKind.PRODUCT_WITHOUT_DATA
    assert record.counterparty == gateway.world.net.address("pharmacy_b")
    assert record.items_hash == items_hash([bytes.fromhex(theirs["item_id"][2:])])
    assert closed.json()["session"]["status"] == "closed"


def test_data_without_product_is_reported_against_the_sender_who_is_alerted(
    gateway: Gateway,
) -> None:
    s = ship_to_pharmacy_a(gateway, "DQC", 8821)
    hook = WebhookReceiver()
    maker = gateway.auth("manufacturer")
    subscribed = gateway.client.post(
        "/v1/alerts/subscriptions",
        json={"url": hook.url, "kinds": ["shipment_items_missing"]},
        headers=maker,
    )
    assert subscribed.status_code == 201, subscribed.text
    sid = open_session(gateway, s)["id"]
    view = scan(gateway, sid, Shipment.sscc(s.cases[0]))["session"]  # case A only
    (pallet,) = ids(gateway, units=(s.pallet,))
    assert states(view["expected"])[pallet] == "partial"
    missing = sorted(ids(gateway, packs=(s.loose,), units=(s.cases[1],)))
    assert view["report"]["missing"] == missing  # case B whole, not its packs
    assert view["receivable"] == []  # case A cannot be received without its pallet

    closed = post(gateway, sid, "close", view["report"])
    assert closed.status_code == 200, closed.text
    (action,) = closed.json()["actions"]
    assert (
        action["kind"] == "data_without_product" and action["counterparty_name"] == "manufacturer"
    )
    record = gateway.world.net["auditor"].exception(action["exception_id"])
    assert (record.kind, record.status) == (
        ExceptionKind.DATA_WITHOUT_PRODUCT,
        ExceptionStatus.OPEN,
    )
    assert record.items_hash == items_hash([bytes.fromhex(i[2:]) for i in missing])
    assert record.evidence_hash.hex() == action["evidence_hash"][2:]

    alerts = gateway.client.get(
        "/v1/alerts", params={"kind": "shipment_items_missing"}, headers=maker
    ).json()["alerts"]
    (alert,) = [a for a in alerts if a["data"]["session"] == sid]
    assert alert["data"]["exception_id"] == action["exception_id"]
    assert f"(00){s.cases[1]}" in alert["message"] or alert["data"]["items"]
    other = gateway.client.get(
        "/v1/alerts", params={"kind": "shipment_items_missing"}, headers=gateway.auth("pharmacy_b")
    ).json()["alerts"]
    assert [a for a in other if a["data"].get("session") == sid] == []
    deadline = time.monotonic() + 20
    while not any(a.get("data", {}).get("session") == sid for a in hook.received):
        assert time.monotonic() < deadline, "the sender's webhook got nothing"
        time.sleep(0.05)


def test_an_opened_case_whose_packs_differ_is_reported_with_its_difference_anchored(
    gateway: Gateway,
) -> None:
    s = ship_to_pharmacy_a(gateway, "DQD", 8831)
    sid = open_session(gateway, s)["id"]
    case_a, case_b = (Shipment.sscc(c) for c in s.cases)
    (a1, a2), (b1, _) = s.case_packs
    for code, within in (
        (Shipment.sscc(s.pallet), None),
        (case_a, None),
        (s.pack(a1), case_a),
        (s.pack(b1), case_a),  # case B's pack, found in case A
        (case_b, case_a),  # a case scanned while case A is open opens itself
        (s.pack(s.loose), None),
    ):
        view = scan(gateway, sid, code, within)["session"]
    inside_a = f"(00){s.cases[0]}"
    assert [x["within"] for x in view["scans"]] == [None, None, inside_a, inside_a, None, None]
    (unit_a,) = ids(gateway, units=(s.cases[0],))
    (diff,) = view["report"]["aggregation"]
    assert diff == {
        "unit": unit_a,
        "missing": ids(gateway, packs=(a2,)),
        "extra": ids(gateway, packs=(b1,)),
    }
    assert view["report"]["missing"] == [] and view["report"]["quarantined"] == []
    (node_a,) = [c for n in view["expected"] for c in n["children"] if c["id"] == unit_a]
    assert node_a["opened"] is True

    closed = post(gateway, sid, "close", view["report"])
    assert closed.status_code == 200, closed.text
    (action,) = closed.json()["actions"]
    assert action["kind"] == "aggregation_error" and action["counterparty_name"] == "manufacturer"
    text, digest = action["evidence"], action["evidence_hash"]
    assert "0x" + evidence_document(json.loads(text))[1].hex() == digest
    record = gateway.world.net["auditor"].exception(action["exception_id"])
    assert "0x" + record.evidence_hash.hex() == digest
    named = [unit_a, *diff["missing"], *diff["extra"]]
    assert record.items_hash == items_hash([bytes.fromhex(i[2:]) for i in named])

    replay = post(gateway, sid, "close", view["report"])
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    assert [a["exception_id"] for a in replay.json()["actions"]] == [action["exception_id"]]
    changed = post(gateway, sid, "close", {"missing": [], "quarantined": [], "aggregation": []})
    assert changed.status_code == 409 and "closed" in changed.json()["detail"]
    late = gateway.client.post(
        f"/v1/dock/sessions/{sid}/scans", json={"code": s.pack(a2)}, headers=CONSOLE
    )
    assert late.status_code == 409 and "is closed" in late.json()["detail"]


def test_close_after_a_lost_answer_records_the_exception_the_chain_has_open(
    gateway: Gateway,
) -> None:
    s = ship_to_pharmacy_a(gateway, "DQK", 8941)
    sid = open_session(gateway, s)["id"]
    report = gateway.client.get(f"/v1/dock/sessions/{sid}", headers=CONSOLE).json()["report"]
    # as if a first close opened it on chain and its answer never came back
    pharmacy, maker = gateway.world.net["pharmacy_a"], gateway.world.net.address("manufacturer")
    opened, _ = pharmacy.open_exception(
        maker, ExceptionKind.DATA_WITHOUT_PRODUCT, [(GTIN, s.loose)], [s.pallet]
    )
    gateway.wait_indexed()
    closed = post(gateway, sid, "close", report)
    assert closed.status_code == 200, closed.text
    (action,) = closed.json()["actions"]
    assert (action["exception_id"], action["tx_hashes"]) == (opened, [])


def test_close_refuses_a_report_that_is_not_what_the_session_shows(gateway: Gateway) -> None:
    s = ship_to_pharmacy_a(gateway, "DQE", 8841)
    sid = open_session(gateway, s)["id"]
    view = gateway.client.get(f"/v1/dock/sessions/{sid}", headers=CONSOLE).json()
    scan(gateway, sid, s.pack(s.loose))  # the page's report is now stale
    stale = post(gateway, sid, "close", view["report"])
    assert stale.status_code == 409
    assert stale.json()["report"]["missing"] == ids(gateway, units=(s.pallet,))
    assert gateway.world.net["pharmacy_a"].unit_state(s.pallet).status == UnitStatus.IN_TRANSIT


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"code": "(01)09506000134353(21)X"}, "code: GTIN (01) 09506000134353 has a wrong check"),
        ({"code": f"(01){GTIN}(10)L1"}, "code: missing serial number (21)"),
        ({"code": "]C100006141410000088990"}, "code: SSCC (00) 006141410000088990 has a wrong"),
        ({"code": f"(01){GTIN}(21)DQF1", "within": "(00)006141410000088997"}, "was not scanned"),
        ({"code": f"(01){GTIN}(21)DQF1", "within": dm("DQF2")}, "within: (01)"),
    ],
)
def test_bad_scans_get_a_precise_400_and_record_nothing(
    gateway: Gateway, body: dict[str, str], detail: str
) -> None:
    sid = gateway.client.post(
        "/v1/dock/sessions", json={"sender": "manufacturer"}, headers=CONSOLE
    ).json()["id"]
    response = gateway.client.post(f"/v1/dock/sessions/{sid}/scans", json=body, headers=CONSOLE)
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]
    assert gateway.client.get(f"/v1/dock/sessions/{sid}", headers=CONSOLE).json()["scans"] == []


def test_bad_session_requests(gateway: Gateway) -> None:
    c = gateway.client
    for body, status, detail in (
        ({}, 400, "name the sender"),
        ({"sender": "nobody_here"}, 400, "no member"),
        ({"shipment": "0x" + "ab" * 32}, 404, "in transit"),
        ({"sender": "manufacturer", "extra": 1}, 422, ""),
    ):
        response = c.post("/v1/dock/sessions", json=body, headers=CONSOLE)
        assert response.status_code == status, response.text
        assert detail in response.json()["detail"]
    assert c.get("/v1/dock/sessions/dock-0000000000000000", headers=CONSOLE).status_code == 404
    assert c.get("/v1/dock/sessions/nope", headers=CONSOLE).status_code == 422
    sid = c.post("/v1/dock/sessions", json={"sender": "manufacturer"}, headers=CONSOLE).json()["id"]
    twice = post(gateway, sid, "receive", {"items": ["0x" + "11" * 32, "0x" + "11" * 32]})
    assert twice.status_code == 400 and "twice" in twice.json()["detail"]
    assert post(gateway, sid, "receive", {"items": []}).status_code == 422


@pytest.mark.parametrize(
    ("who", "status", "ref"),
    [
        ("console", 200, 8861),
        ("pharmacy_a", 200, 8871),
        ("pharmacy_b", 403, 8881),
        ("regulator", 403, 8891),
        (None, 401, 8901),
    ],
)
def test_only_the_operator_of_the_receiving_member_uses_the_dock(
    gateway: Gateway, who: str | None, status: int, ref: int
) -> None:
    s = ship_to_pharmacy_a(gateway, f"DQG{ref}", ref)
    sid = open_session(gateway, s)["id"]
    headers = CONSOLE if who == "console" else gateway.auth(who) if who else {}
    c = gateway.client
    calls = [
        c.get("/v1/dock/inbound", headers=headers),
        c.get("/v1/dock/sessions", headers=headers),
        c.get(f"/v1/dock/sessions/{sid}", headers=headers),
        c.post("/v1/dock/sessions", json={"shipment": s.tx}, headers=headers),
        c.post(f"/v1/dock/sessions/{sid}/scans", json={"code": s.pack(s.loose)}, headers=headers),
    ]
    opened = 201 if status == 200 else status
    assert [r.status_code for r in calls] == [status, status, status, opened, status]
    view = c.get(f"/v1/dock/sessions/{sid}", headers=CONSOLE).json()
    receive = c.post(
        f"/v1/dock/sessions/{sid}/receive", json={"items": view["receivable"]}, headers=headers
    )
    close = c.post(f"/v1/dock/sessions/{sid}/close", json=view["report"], headers=headers)
    assert (receive.status_code, close.status_code) == (status, status)
    if status != 200:
        assert view["counts"]["scanned"] == 0 and view["status"] == "open"
        loose = gateway.world.net["pharmacy_a"].pack_state(GTIN, s.loose)
        assert loose.status == PackStatus.IN_TRANSIT
