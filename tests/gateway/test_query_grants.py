"""Access grants at the query interface: an auditor the lot's owner or the council granted
reads the lot's events at the owner's gateway while the grant is live; revoked or expired, it
is refused again. The grants are read from the chain's index, never from the operator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from gateway_helpers import GTIN, Gateway, World, operator_key, running_gateway
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_query_api import CONSOLE_KEY, capture, document, event, sgtin

from gateway.db import models as m
from ledger_client.reverts import LedgerRevertError
from tests.utils.governance import as_council

GRANTED, OTHER = "GLOT", "HLOT"


@dataclass
class Scene:
    gw: Gateway
    lot: bytes
    """The on-chain id of lot GLOT, the manufacturer's."""
    auditor: dict[str, str]
    """The auditor's credentials."""


def commissioning(minute: int, lot: str, serials: list[str]) -> dict[str, Any]:
    return event(
        minute,
        epcList=[sgtin(s) for s in serials],
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        ilmd={"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": "2030-12-31"},
    )


@pytest.fixture(scope="module")
def scene(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """The manufacturer's gateway has captured the commissioning of QG1, QG2 (lot GLOT) and of
    QH1 (lot HLOT) and an inspection of QG1; nobody holds a grant yet."""
    db = tmp_path_factory.mktemp("grants") / "gateway.db"
    with running_gateway(
        world, db, operator_key=operator_key("manufacturer"), console_key=CONSOLE_KEY
    ) as gw:
        inspection = event(
            3, epcList=[sgtin("QG1")], action="OBSERVE", bizStep="inspecting", disposition="active"
        )
        job = capture(
            gw,
            document(
                commissioning(1, GRANTED, ["QG1", "QG2"]),
                commissioning(2, OTHER, ["QH1"]),
                inspection,
            ),
        )
        assert job["counts"]["applied"] == 2, job  # the inspection is stored only
        lot = world.net["manufacturer"].owners.lot_id(GTIN, GRANTED)
        yield Scene(gw, lot, gw.auth("auditor"))


def pack_events(scene: Scene, serial: str) -> tuple[int, list[str]]:
    """The status of the auditor's request for pack ``serial``'s events, and their steps."""
    path = f"/v1/epcs/{quote(sgtin(serial), safe='')}/events"
    response = scene.gw.client.get(path, headers=scene.auditor)
    if response.status_code != 200:
        return response.status_code, []
    body = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return 200, [e["bizStep"] for e in body]


def visible_serials(scene: Scene) -> set[str]:
    """The pack serials in the events the auditor reads through ``/v1/events``."""
    response = scene.gw.client.get("/v1/events", params={"perPage": "1000"}, headers=scene.auditor)
    assert response.status_code == 200, response.text
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return {epc.rsplit("/", 1)[1] for e in events for epc in e.get("epcList", [])}


def indexed_grants(scene: Scene) -> list[tuple[str, int]]:
    with Session(scene.gw.state.engine) as conn:
        rows = conn.execute(
            select(m.AccessGrant.grantee, m.AccessGrant.expires_at).where(
                m.AccessGrant.lot_id == scene.lot
            )
        ).all()
    return [(g, int(e)) for g, e in rows]


def test_without_a_grant_the_auditor_is_refused(scene: Scene) -> None:
    assert pack_events(scene, "QG1")[0] == 403
    assert visible_serials(scene) & {"QG1", "QG2", "QH1"} == set()


def test_a_granted_auditor_reads_the_lots_events_until_revoked(scene: Scene, world: World) -> None:
    maker, auditor = world.net["manufacturer"], world.net.address("auditor")
    maker.grant_access(scene.lot, auditor)
    scene.gw.wait_indexed()
    assert indexed_grants(scene) == [(auditor, 0)]
    assert pack_events(scene, "QG1") == (200, ["commissioning", "inspecting"])
    assert pack_events(scene, "QH1")[0] == 403  # another lot
    assert visible_serials(scene) & {"QG1", "QG2", "QH1"} == {"QG1", "QG2"}
    maker.revoke_access(scene.lot, auditor)
    scene.gw.wait_indexed()
    assert indexed_grants(scene) == []
    assert pack_events(scene, "QG1")[0] == 403
    assert visible_serials(scene) & {"QG1", "QG2"} == set()


def test_an_expired_grant_is_refused(scene: Scene, world: World) -> None:
    maker, auditor = world.net["manufacturer"], world.net.address("auditor")
    tester = world.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    until = int(world.w3.eth.get_block("latest")["timestamp"]) + 60
    maker.grant_access(scene.lot, auditor, until)
    scene.gw.wait_indexed()
    assert pack_events(scene, "QG2") == (200, ["commissioning"])
    tester.time_travel(until + 1)  # chain time passes the expiry; the index still holds it
    scene.gw.wait_indexed()
    assert indexed_grants(scene) == [(auditor, until)]
    assert pack_events(scene, "QG2")[0] == 403
    assert visible_serials(scene) & {"QG1", "QG2"} == set()
    maker.revoke_access(scene.lot, auditor)
    scene.gw.wait_indexed()


def test_a_grant_by_a_member_that_does_not_own_the_lot_is_refused_on_chain(
    scene: Scene, world: World
) -> None:
    with pytest.raises(LedgerRevertError) as caught:
        world.net["wholesaler_a"].grant_access(scene.lot, world.net.address("auditor"))
    assert caught.value.error == "AccessGrantsNotLotOwner"
    scene.gw.wait_indexed()
    assert pack_events(scene, "QG1")[0] == 403


def test_the_council_grants_and_revokes_by_proposal(scene: Scene, world: World) -> None:
    net, auditor = world.net, world.net.address("auditor")
    grants = net["manufacturer"].grants
    as_council(net, grants, "grant", scene.lot, auditor, 0, by=("wholesaler_a", "regulator"))
    scene.gw.wait_indexed()
    assert pack_events(scene, "QG1") == (200, ["commissioning", "inspecting"])
    as_council(net, grants, "revoke", scene.lot, auditor, by=("wholesaler_a", "regulator"))
    scene.gw.wait_indexed()
    assert pack_events(scene, "QG1")[0] == 403
