"""Who reads the possible-clone alerts, which name a pack's clear GTIN and serial and who scanned
it: the pack's holder, the product's owner and regulators, in the list, the SSE stream and
webhooks; any other member (the scanner included) does not see them at all."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from gateway_helpers import GTIN, Gateway, WebhookReceiver, World, dm, running_gateway
from sqlalchemy import insert, select, text

from gateway.db import models as m
from gateway.db.session import migrate
from ledger_client.devnet import demo_index
from ledger_client.ids import pack_id
from ledger_client.types import DecommissionReason, PackFlag
from tests.utils.index_state import index_at_revision

LOT = "VZ1"
CLONE_KINDS = {"dispensed_pack_verified", "verified_at_two_places"}
ENTITLED = ("pharmacy_a", "manufacturer", "regulator")  # holder, product owner, regulator
OTHERS = ("wholesaler_b", "pharmacy_b")  # an unrelated member, and the scanner itself


def pack_hex(serial: str) -> str:
    """The id of the manufacturer's pack ``serial`` of GTIN (its prefix is the manufacturer's)."""
    return "0x" + pack_id(GTIN, serial, owner=demo_index("manufacturer")).hex()


def poll(fn: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 30
    while not (value := fn()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


@dataclass
class Scene:
    """A gateway after two possible clones and then a public suspect flag (the marker)."""

    gw: Gateway
    headers: dict[str, dict[str, str]]
    hooks: dict[str, WebhookReceiver]
    former_member_hook: WebhookReceiver
    marker_id: int


def listed(client: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/v1/alerts", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["alerts"])


def alerts_of(scene: Scene, name: str) -> list[dict[str, Any]]:
    return listed(scene.gw.client, scene.headers[name])


@pytest.fixture(scope="module")
def scene(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    net = world.net
    maker, pa = net["manufacturer"], net["pharmacy_a"]
    maker.register_lot(GTIN, LOT, "301231")
    maker.commission(GTIN, LOT, ["V1", "V2", "V3"])
    maker.ship(pa.address, packs=[(GTIN, "V1"), (GTIN, "V2")])
    pa.receive(packs=[(GTIN, "V1"), (GTIN, "V2")])
    pa.decommission([(GTIN, "V1")], DecommissionReason.DISPENSED)
    db = tmp_path_factory.mktemp("visibility") / "gateway.db"
    with running_gateway(world, db) as gw:
        client = gw.client
        headers = {name: gw.auth(name) for name in (*ENTITLED, *OTHERS)}
        hooks = {name: WebhookReceiver() for name in ("manufacturer", "regulator", "wholesaler_b")}
        for name, hook in hooks.items():
            r = client.post(
                "/v1/alerts/subscriptions", json={"url": hook.url}, headers=headers[name]
            )
            assert r.status_code == 201, r.text
        former = WebhookReceiver()  # a regulator's webhook, kept after it left the consortium
        with gw.state.engine.begin() as conn:
            conn.execute(
                insert(m.Subscription).values(
                    url=former.url,
                    kinds=[],
                    owner=Account.create().address,
                    all_holders=True,
                    active=True,
                    created_at=time.time(),
                )
            )
        # pharmacy_b scans a pack pharmacy_a dispensed, and a pack pharmacy_a verified too
        for name, serial in (("pharmacy_b", "V1"), ("pharmacy_a", "V2"), ("pharmacy_b", "V2")):
            r = client.get("/v1/verify", params={"code": dm(serial, LOT)}, headers=headers[name])
            assert r.status_code == 200, r.text
        regulator = headers["regulator"]
        poll(
            lambda: {a["kind"] for a in mine(listed(client, regulator))} >= CLONE_KINDS,
            "both clone alerts",
        )
        net["regulator"].flag([(GTIN, "V3")], PackFlag.SUSPECT, 3)
        marker = poll(
            lambda: [
                a
                for a in listed(client, regulator)
                if a["kind"] == "pack_suspect" and a["subject"] == pack_hex("V3")
            ],
            "the suspect flag alert",
        )
        yield Scene(gw, headers, hooks, former, marker[0]["id"])
        for hook in (*hooks.values(), former):
            hook.server.shutdown()


def clone_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["kind"] in CLONE_KINDS]


def mine(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The clone alerts of this module's packs."""
    ours = {pack_hex("V1"), pack_hex("V2")}
    return [a for a in clone_alerts(alerts) if a["subject"] in ours]


@pytest.mark.parametrize("name", ENTITLED)
def test_entitled_members_list_clone_alerts_with_clear_codes_and_scanner(
    scene: Scene, name: str
) -> None:
    found = {a["kind"]: a for a in mine(alerts_of(scene, name))}
    assert set(found) == CLONE_KINDS
    again = found["dispensed_pack_verified"]
    pharmacy_b = scene.gw.world.net.address("pharmacy_b")
    assert again["data"] == {
        "pack_id": pack_hex("V1"),
        "gtin": GTIN,
        "serial": "V1",
        "client": pharmacy_b,
    }
    assert f"(01){GTIN}(21)V1" in again["message"] and pharmacy_b in again["message"]
    assert found["verified_at_two_places"]["data"]["serial"] == "V2"


@pytest.mark.parametrize("name", OTHERS)
def test_other_members_do_not_list_clone_alerts(scene: Scene, name: str) -> None:
    alerts = alerts_of(scene, name)
    assert clone_alerts(alerts) == []
    assert not any("V1" in a["message"] or "V2" in a["message"] for a in alerts)
    # public alerts, built from chain data every member reads, still reach them
    assert scene.marker_id in {a["id"] for a in alerts}


def streamed_until_marker(scene: Scene, name: str) -> list[dict[str, Any]]:
    """Every alert the SSE stream replays to ``name`` from the first one up to the marker."""
    events: list[dict[str, Any]] = []
    with scene.gw.client.stream(
        "GET",
        "/v1/alerts/stream",
        params={"timeout": 20},
        headers={**scene.headers[name], "Last-Event-ID": "0"},
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["id"] == scene.marker_id:
                    break
    assert events and events[-1]["id"] == scene.marker_id, "the stream ended before the marker"
    return events


def test_stream_shows_clone_alerts_to_the_product_owner_only(scene: Scene) -> None:
    owner = streamed_until_marker(scene, "manufacturer")
    assert {a["kind"] for a in mine(owner)} == CLONE_KINDS
    other = streamed_until_marker(scene, "wholesaler_b")
    assert clone_alerts(other) == []


def test_webhooks_deliver_clone_alerts_only_to_entitled_subscribers(scene: Scene) -> None:
    def through_marker(name: str) -> list[dict[str, Any]]:
        received = scene.hooks[name].received
        poll(lambda: any(a["id"] == scene.marker_id for a in received), f"{name}'s webhook")
        return list(received)

    assert {a["kind"] for a in mine(through_marker("manufacturer"))} == CLONE_KINDS
    assert {a["kind"] for a in mine(through_marker("regulator"))} == CLONE_KINDS
    other = through_marker("wholesaler_b")
    assert clone_alerts(other) == [] and not any("V1" in a["message"] for a in other)


def test_webhook_of_an_address_no_longer_a_member_gets_nothing(scene: Scene) -> None:
    dispatcher = next(t for t in scene.gw.state.threads if hasattr(t, "deliver"))
    poll(lambda: dispatcher.last_id >= scene.marker_id, "the dispatcher to pass the marker")
    assert scene.former_member_hook.received == []


def test_clone_alerts_stored_before_the_upgrade_become_restricted(tmp_path: Path) -> None:
    with index_at_revision(tmp_path / "old.db", "0002") as (engine, conn):
        for key, kind in (("a", "dispensed_pack_verified"), ("b", "pack_suspect")):
            conn.execute(
                text(
                    "INSERT INTO alerts (key, kind, severity, message, subject, data, at) "
                    "VALUES (:key, :kind, 'critical', 'm', '0x01', '{}', 0)"
                ),
                {"key": key, "kind": kind},
            )
    migrate(engine)
    with engine.connect() as conn:
        rows = {kind: r for kind, r in conn.execute(select(m.Alert.kind, m.Alert.restricted))}
    assert rows == {"dispensed_pack_verified": True, "pack_suspect": False}
