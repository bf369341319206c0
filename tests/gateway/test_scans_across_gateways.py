"""A regulator's anomaly audit with the scans of every partner's gateway (``/v1/scans``,
``rxledger audit scans``): two pharmacies' real gateways on one anvil chain, each recording the
verifications it answers. A pack verified at its holder's gateway and a copy of its code
verified at another pharmacy's are found as one pack at two places only from both gateways'
scans; each gateway's scans are read by regulators and its operator, nobody else."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_helpers import GTIN, LiveServer, World, dm, gateway_settings, login, operator_key
from typer.testing import CliRunner

from gateway.main import create_app
from ledger_client.audit.anomalies import detect
from ledger_client.audit.gateway_scans import collect_scans
from ledger_client.audit.replay import audit
from ledger_client.audit.scans import read_scans
from ledger_client.chain import connect, dev_account
from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet
from tests.utils.anvil import rpc
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
LOT, EXPIRY = "SC1", "301231"
PHARMACIES = ("pharmacy_a", "pharmacy_b")


@dataclass
class Scene:
    world: World
    rpc_url: str
    gateways: dict[str, httpx.Client]
    urls: dict[str, str]

    def auth(self, gateway: str, member: str) -> dict[str, str]:
        token = login(self.gateways[gateway], dev_account(member))
        return {"Authorization": f"Bearer {token}"}

    def scans(self, gateway: str, member: str, **params: int) -> httpx.Response:
        return self.gateways[gateway].get(
            "/v1/scans", params=params, headers=self.auth(gateway, member)
        )


def _verify(scene: Scene, gateway: str, member: str, serial: str) -> None:
    r = scene.gateways[gateway].get(
        "/v1/verify", params={"code": dm(serial, LOT, EXPIRY)}, headers=scene.auth(gateway, member)
    )
    assert r.status_code == 200, r.text


def _recorded(scene: Scene, gateway: str, count: int) -> list[dict[str, Any]]:
    """The gateway's scans once it has recorded ``count`` (verifications are written a moment
    after they are answered)."""
    deadline = time.monotonic() + 30
    while True:
        rows = scene.scans(gateway, gateway, limit=1000).json()["scans"]
        if len(rows) >= count:
            return list(rows)
        assert time.monotonic() < deadline, f"{gateway} recorded {len(rows)} scans"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """pharmacy_a holds K1 and verifies it twice at its gateway; pharmacy_b verifies a copy
    of K1's code at its own."""
    root = tmp_path_factory.mktemp("scans")
    with ExitStack() as stack:
        node = stack.enter_context(Anvil(port=free_port()))
        w3 = connect(node.url)
        rpc(w3, "anvil_setBalance", w3.eth.accounts[0], hex(10**24))
        net = deploy_devnet(w3)
        maker, pa = net["manufacturer"], net["pharmacy_a"]
        maker.register_product(GTIN, "Amoxicillin 500 mg capsules")
        maker.register_lot(GTIN, LOT, EXPIRY)
        maker.commission(GTIN, LOT, ["K1", "K2"])
        maker.ship(pa.address, packs=[(GTIN, "K1")])
        pa.receive(packs=[(GTIN, "K1")])
        net.deployment.save(root / "deployment.json")
        world = World(w3, net, root / "deployment.json")
        gateways, urls = {}, {}
        for name in PHARMACIES:
            port = free_port()
            urls[name] = f"http://127.0.0.1:{port}"
            settings = gateway_settings(
                world, root / f"{name}.db", operator_key=operator_key(name),
                public_url=urls[name], publish_gateway_url=True,
            )  # fmt: skip
            stack.enter_context(LiveServer(create_app(settings, w3), port))
            gateways[name] = stack.enter_context(httpx.Client(base_url=urls[name], timeout=60))
        deadline = time.monotonic() + 30
        while not all(net[n].gateway_url() for n in PHARMACIES):  # published at start-up
            assert time.monotonic() < deadline, "the gateways did not publish their URLs"
            time.sleep(0.05)
        s = Scene(world, node.url, gateways, urls)
        _verify(s, "pharmacy_a", "pharmacy_a", "K1")
        _verify(s, "pharmacy_a", "pharmacy_a", "K1")
        _verify(s, "pharmacy_b", "pharmacy_b", "K1")
        _recorded(s, "pharmacy_a", 2)
        _recorded(s, "pharmacy_b", 1)
        yield s


def test_a_gateway_s_scans_are_read_by_regulators_and_its_operator_only(scene: Scene) -> None:
    mine = scene.scans("pharmacy_a", "pharmacy_a").json()["scans"]
    pa = dev_account("pharmacy_a").address
    assert [(r["gtin"], r["serial"], r["location"], r["lot"]) for r in mine] == [
        (GTIN, "K1", pa, LOT)
    ] * 2
    assert all(r["expiry"] == int(EXPIRY) and isinstance(r["time"], int) for r in mine)
    assert scene.scans("pharmacy_a", "regulator").json()["scans"] == mine
    for member in ("pharmacy_b", "manufacturer", "wholesaler_a"):
        refused = scene.scans("pharmacy_a", member)
        assert refused.status_code == 403, member
        assert "neither a regulator nor this gateway's operator" in refused.json()["detail"]
    assert scene.gateways["pharmacy_a"].get("/v1/scans").status_code == 401
    bad = scene.gateways["pharmacy_a"].get(
        "/v1/scans", params={"limit": 0}, headers=scene.auth("pharmacy_a", "regulator")
    )
    assert bad.status_code == 422


def test_scans_come_a_page_at_a_time_oldest_first(scene: Scene) -> None:
    first = scene.scans("pharmacy_a", "regulator", limit=1).json()
    assert len(first["scans"]) == 1 and first["next_after"] == first["scans"][0]["id"]
    second = scene.scans("pharmacy_a", "regulator", limit=1, after=first["next_after"]).json()
    assert second["scans"][0]["id"] > first["scans"][0]["id"]
    last = scene.scans("pharmacy_a", "regulator", limit=1, after=second["next_after"]).json()
    assert last == {"scans": [], "next_after": None}


def test_only_the_scans_of_both_gateways_show_the_pack_at_two_places(scene: Scene) -> None:
    w3, dep = scene.world.w3, scene.world.net.deployment
    got = collect_scans(w3, dep, dev_account("regulator"))
    by_member = {s.member: s for s in got.sources}
    for name in PHARMACIES:
        source = by_member[dev_account(name).address]
        assert (source.url, source.status) == (scene.urls[name], "ok")
    assert by_member[dev_account("pharmacy_a").address].scans == 2
    assert by_member[dev_account("pharmacy_b").address].scans == 1
    assert by_member[dev_account("manufacturer").address].status == "no gateway"
    assert not got.failed and len(got.records) == 3
    model = audit(w3, dep, compare=False).model
    kinds = {f.kind for f in detect(model, verifications=got.records)}
    assert {"VERIFIED_TWO_PLACES", "SCAN_WITHOUT_CUSTODY"} <= kinds
    pa = dev_account("pharmacy_a").address
    alone = [r for r in got.records if r.location == pa]
    assert "VERIFIED_TWO_PLACES" not in {f.kind for f in detect(model, verifications=alone)}


def test_the_cli_writes_one_scans_file_and_a_gateway_that_refuses_fails_it(
    scene: Scene, tmp_path: Path
) -> None:
    out = tmp_path / "scans.jsonl"
    base = ["--rpc", scene.rpc_url, "--deployment", str(scene.world.deployment_file)]
    result = CliRunner().invoke(
        app, ["audit", "scans", "--out", str(out), "--as", "regulator", "--json", *base]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scans"] == 3 and len(read_scans(out)) == 3
    anomalies = CliRunner().invoke(app, ["audit", "anomalies", "--scans", str(out), *base])
    assert anomalies.exit_code == 0, anomalies.output
    assert "VERIFIED_TWO_PLACES" in {f["kind"] for f in json.loads(anomalies.stdout)}
    # a pharmacy is no regulator: the other pharmacy's gateway refuses it, and says so
    result = CliRunner().invoke(
        app, ["audit", "scans", "--out", str(out), "--as", "pharmacy_b", *base]
    )
    assert result.exit_code == 1
    assert f"{dev_account('pharmacy_a').address} {scene.urls['pharmacy_a']}: refused" in (
        result.stdout
    )
    assert f"{dev_account('pharmacy_b').address} {scene.urls['pharmacy_b']}: ok, 1 scans" in (
        result.stdout
    )
    assert len(read_scans(out)) == 1  # its own gateway's, and nothing silently merged


def test_appending_asks_each_gateway_only_for_the_scans_since_the_last_run(
    scene: Scene, tmp_path: Path
) -> None:
    out = tmp_path / "scans.jsonl"
    base = ["--rpc", scene.rpc_url, "--deployment", str(scene.world.deployment_file)]

    def run() -> dict[str, Any]:
        args = ["audit", "scans", "--out", str(out), "--append", "--as", "regulator", "--json"]
        result = CliRunner().invoke(app, [*args, *base])
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.stdout))

    assert run()["scans"] == 3
    _verify(scene, "pharmacy_b", "pharmacy_b", "K2")
    (*_, newest) = _recorded(scene, "pharmacy_b", 2)
    second = run()
    assert second["scans"] == 1
    pb = {s["member"]: s for s in second["gateways"]}[dev_account("pharmacy_b").address]
    assert (pb["scans"], pb["last"]) == (1, newest["id"])
    assert [r.serial for r in read_scans(out)] == ["K1", "K1", "K1", "K2"]
    assert run()["scans"] == 0
    assert len(read_scans(out)) == 4
