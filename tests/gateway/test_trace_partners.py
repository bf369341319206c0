"""Sharing by right between three real gateways (manufacturer, wholesaler, pharmacy), each with
its own store, on one chain: a pack's trace across them (from the pharmacy's gateway, from a
regulator), a gateway that lies or is down, and the DSCSA TI fetched on receipt."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_helpers import GTIN, LiveServer, World, gateway_settings, operator_key, wait_for_index

from gateway.main import create_app
from ledger_client.chain import dev_account
from ledger_client.epcis import operations as op
from ledger_client.epcis.record import member_gln, record
from ledger_client.ledger import Ledger
from ledger_client.trace import trace
from ledger_client.types import DecommissionReason
from tests.utils.factories import make_sscc
from tests.utils.ports import free_port

LOT = "TRL"
CASE = make_sscc("0614141", 7701)
PACK = (GTIN, "TR1")
CODE = f"(01){GTIN}(21)TR1"
CONSOLE = {"Authorization": "Bearer trace-console-key"}
PARTNERS = ("manufacturer", "wholesaler_a", "pharmacy_a")


@dataclass
class Partner:
    name: str
    url: str
    client: httpx.Client
    app: Any
    store: Path
    ledger: Ledger


@dataclass
class Scene:
    world: World
    partners: dict[str, Partner]
    shipment_tx: bytes
    """The manufacturer's shipment of the case to the wholesaler."""

    def regulator_trace(self) -> dict[str, Any]:
        w3, dep = self.world.w3, self.world.net.deployment
        return trace(w3, dep, dev_account("regulator"), CODE).to_dict()


def _writes(scene: dict[str, Partner]) -> bytes:
    """M commissions TR1, TR2, packs them into a case and ships it to W; W receives it,
    unpacks it and ships TR1 to P; P receives and dispenses it. Each step is kept as an
    EPCIS event in its writer's store and anchored, as the CLI does."""
    m, w, p = (scene[n] for n in PARTNERS)
    refs = (PACK, (GTIN, "TR2"))
    m.ledger.register_lot(
        GTIN, LOT, "301231", record(m.store, op.RegisterLot(GTIN, LOT, date(2030, 12, 31)))
    )
    m.ledger.commission(
        GTIN, LOT, ["TR1", "TR2"], None, record(m.store, op.Commission(GTIN, LOT, ("TR1", "TR2")))
    )
    m.ledger.pack(CASE, list(refs), [], record(m.store, op.Pack(CASE, refs, ())))
    to_w = member_gln(m.ledger, w.ledger.address)
    eh = record(m.store, op.Ship((), (CASE,), to_party=to_w))
    (shipped,) = m.ledger.ship(w.ledger.address, units=[CASE], event_hash=eh)
    w.ledger.receive(units=[CASE], event_hash=record(w.store, op.Receive((), (CASE,))))
    w.ledger.unpack([CASE], record(w.store, op.Unpack(CASE, (), ())))
    to_p = member_gln(w.ledger, p.ledger.address)
    eh = record(w.store, op.Ship((PACK,), (), to_party=to_p))
    w.ledger.ship(p.ledger.address, packs=[PACK], event_hash=eh)
    p.ledger.receive(packs=[PACK], event_hash=record(p.store, op.Receive((PACK,), ())))
    why = DecommissionReason.DISPENSED
    p.ledger.decommission([PACK], why, record(p.store, op.Decommission((PACK,), why)))
    return shipped.tx_hash


@pytest.fixture(scope="module")
def scene(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with ExitStack() as stack:
        partners: dict[str, Partner] = {}
        for name in PARTNERS:
            db = tmp_path_factory.mktemp(name) / "gateway.db"
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            settings = gateway_settings(
                world, db, operator_key=operator_key(name), public_url=url,
                console_key="trace-console-key", publish_gateway_url=True, ti_retry_seconds=0.2,
            )  # fmt: skip
            app = create_app(settings, world.w3)
            stack.enter_context(LiveServer(app, port))
            client = stack.enter_context(httpx.Client(base_url=url, timeout=60))
            partners[name] = Partner(
                name, url, client, app, db.parent / "epcis.sqlite", world.net[name]
            )
        tx = _writes(partners)
        for partner in partners.values():
            assert partner.ledger.gateway_url() == partner.url  # published at start-up
            wait_for_index(partner.app, world)
        yield Scene(world, partners, tx)


def _by_member(scene: Scene, result: dict[str, Any]) -> list[tuple[str, str, str]]:
    names = {scene.partners[n].ledger.address: n for n in PARTNERS}
    return [
        (e["verdict"], names[e["member"]], "/".join(e["anchor"]["events"]) if e["anchor"] else "")
        for e in result["events"]
    ]


FULL = [
    ("anchored", "manufacturer", "PacksCommissioned"),
    ("anchored", "manufacturer", "ItemsPacked"),
    ("anchored", "manufacturer", "ItemsShipped"),
    ("anchored", "wholesaler_a", "ItemsReceived"),
    ("anchored", "wholesaler_a", "UnitsDissolved"),
    ("anchored", "wholesaler_a", "ItemsShipped"),
    ("anchored", "pharmacy_a", "ItemsReceived"),
    ("anchored", "pharmacy_a", "PacksDecommissioned"),
]


def test_a_regulator_traces_every_event_of_every_holder(scene: Scene) -> None:
    result = scene.regulator_trace()
    assert _by_member(scene, result) == FULL
    assert result["complete"] and result["counts"]["anchored"] == 8
    holders = [c["holder"] for c in result["custody"]]
    assert holders == [scene.partners[n].ledger.address for n in PARTNERS]
    assert result["custody"][-1]["to"] is None
    assert [u["sscc"] for u in result["units"]] == [CASE]  # learnt from the packing event


def test_the_pharmacy_traces_what_each_past_holder_lets_it_see(scene: Scene) -> None:
    p = scene.partners["pharmacy_a"]
    response = p.client.get("/v1/trace", params={"code": CODE}, headers=CONSOLE)
    assert response.status_code == 200, response.text
    result = response.json()
    # the pharmacy held TR1 from the wholesaler's shipment on: it sees that shipment and its
    # own events; what came before is withheld by the access rules, and flagged so
    withheld = [(v, who, what) for v, who, what in _by_member(scene, result) if v == "missing"]
    assert [(w, x) for _, w, x in withheld] == [(w, x) for _, w, x in FULL[:5]]
    assert all(
        e["reason"].startswith("withheld") for e in result["events"] if e["verdict"] == "missing"
    )
    assert [t for t in _by_member(scene, result) if t[0] == "anchored"] == FULL[5:]
    assert not result["complete"]


def test_only_the_operator_may_trace_through_its_gateway(scene: Scene) -> None:
    p = scene.partners["pharmacy_a"]
    token = _token(p, "wholesaler_a")
    response = p.client.get("/v1/trace", params={"code": CODE}, headers=token)
    assert response.status_code == 403


def test_a_gateway_that_alters_an_event_is_caught_by_its_hash(scene: Scene) -> None:
    w = scene.partners["wholesaler_a"]
    with sqlite3.connect(w.store) as db:
        key, text = db.execute(
            "SELECT key, event_json FROM events WHERE event_json LIKE '%shipping%'"
        ).fetchone()
        lied = json.loads(text)
        lied["eventTime"] = "2020-01-01T00:00:00Z"  # backdated
        db.execute("UPDATE events SET event_json = ? WHERE key = ?", (json.dumps(lied), key))
    try:
        result = scene.regulator_trace()
    finally:
        with sqlite3.connect(w.store) as db:
            db.execute("UPDATE events SET event_json = ? WHERE key = ?", (text, key))
    altered = [e for e in result["events"] if e["verdict"] == "altered"]
    assert len(altered) == 1 and altered[0]["event"]["eventTime"] == "2020-01-01T00:00:00Z"
    assert altered[0]["anchor"]["event_hash"] == "0x" + key
    assert altered[0]["event_hash"] != "0x" + key
    assert result["counts"] == {"anchored": 7, "unanchored": 0, "altered": 1, "missing": 0}


def test_a_gateway_that_is_down_leaves_its_events_missing(scene: Scene) -> None:
    w = scene.partners["wholesaler_a"]
    w.ledger.set_gateway_url(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        result = scene.regulator_trace()
    finally:
        w.ledger.set_gateway_url(w.url)
    gateway = next(g for g in result["gateways"] if g["member"] == w.ledger.address)
    assert gateway["status"] == "unreachable"
    missing = [(who, what) for v, who, what in _by_member(scene, result) if v == "missing"]
    assert missing == [(who, what) for _, who, what in FULL[3:6]]
    assert all("unreachable" in e["reason"] for e in result["events"] if e["verdict"] == "missing")


def _token(partner: Partner, name: str) -> dict[str, str]:
    from gateway_helpers import login

    return {"Authorization": f"Bearer {login(partner.client, dev_account(name))}"}


def test_the_wholesaler_stores_the_sellers_ti_on_receipt(scene: Scene) -> None:
    w = scene.partners["wholesaler_a"]
    deadline = time.monotonic() + 60
    while True:
        entries = w.client.get("/v1/ti", headers=CONSOLE).json()
        entry = next(
            (e for e in entries if e["shipment_tx"] == "0x" + scene.shipment_tx.hex()), None
        )
        if entry is not None and entry["status"] == "stored":
            break
        assert time.monotonic() < deadline, entries
        time.sleep(0.1)
    ti = entry["document"]["transaction_information"]
    assert entry["document"]["sscc"] == CASE
    assert ti["seller"]["account"] == scene.partners["manufacturer"].ledger.address
    assert ti["buyer"]["account"] == w.ledger.address
    assert [(p["gtin"], p["lot"], p["number_of_containers"]) for p in ti["products"]] == [
        (GTIN, LOT, 2)
    ]
    assert entry["document"]["transaction_statement"]["text"]


def test_a_sellers_ti_goes_to_the_recipient_and_regulators_only(scene: Scene) -> None:
    m = scene.partners["manufacturer"]
    path = f"/v1/shipments/0x{scene.shipment_tx.hex()}/ti"
    for name, status in (
        ("wholesaler_a", 200),
        ("regulator", 200),
        ("pharmacy_a", 403),
        ("auditor", 403),
    ):
        response = m.client.get(path, headers=_token(m, name))
        assert response.status_code == status, (name, response.text)
    assert m.client.get(path).status_code == 401
    other = scene.partners["wholesaler_a"]  # not its shipment: nothing to serve
    assert other.client.get(path, headers=_token(other, "regulator")).status_code == 404
