"""Live anomaly findings on a real anvil node: the gateway indexes a history block by block,
its alerts come as the chain grows (alert stream and webhook, to the members concerned and
regulators only), a finding later events explain is withdrawn, one whose blocks a reorg
undid is withdrawn, and at the end the gateway's live findings are exactly what
``rxledger audit anomalies`` finds over a full replay with the gateway's scans."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_helpers import CONSOLE, Gateway, WebhookReceiver, World, dm, running_gateway
from sqlalchemy import select
from typer.testing import CliRunner
from web3 import Web3

from gateway.db import models as m
from gateway.services.live_findings import finding_key, load_thresholds
from gateway.services.scans import recorded_scans
from ledger_client.audit.scans import write_scans
from ledger_client.chain import connect
from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet
from ledger_client.errors import InvalidInputError
from ledger_client.types import DecommissionReason
from tests.utils.anvil import rpc
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
GTIN, LOT, EXPIRY = "09506000134352", "LIVE1", "301231"
OLD_LOT, OLD_EXPIRY = "LIVEOLD", "200131"  # expired long ago
DAY = 86_400
LIVE = {"anomaly_interval_seconds": 0, "index_chunk_blocks": 1}  # detect after every block


def pack(i: int) -> tuple[str, str]:
    return GTIN, f"P{i}"


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[World]:
    """A demo network on its own anvil node, its clock a day behind the scanners' (scans
    carry the gateway's wall-clock time); pharmacy_a holds P0-P3, supplied by wholesaler_a."""
    with Anvil(port=free_port(), timestamp=int(time.time()) - DAY) as node:
        w3 = connect(node.url)
        rpc(w3, "anvil_setBalance", w3.eth.accounts[0], hex(10**24))
        net = deploy_devnet(w3)
        maker, wa, pa = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
        maker.register_lot(GTIN, LOT, EXPIRY)
        maker.register_lot(GTIN, OLD_LOT, OLD_EXPIRY)
        maker.commission(GTIN, LOT, [f"P{i}" for i in range(8)])
        maker.commission(GTIN, OLD_LOT, ["X1"])
        six = [pack(i) for i in range(6)]
        maker.ship(wa.address, packs=six)
        wa.receive(packs=six)
        wa.ship(pa.address, packs=six[:4])
        pa.receive(packs=six[:4])
        net.deployment.save(tmp_path / "deployment.json")
        yield World(w3, net, tmp_path / "deployment.json")


def poll(fn: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 60
    while not (value := fn()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def sse(stream: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """The (event name, data) of each server-sent event of ``stream``."""
    event = ""
    for line in stream.iter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            yield event, json.loads(line[6:])


def next_finding(events: Iterator[tuple[str, dict[str, Any]]], kind: str, event: str) -> Any:
    """The next ``event`` (alert, withdrawal) of an anomaly alert of finding ``kind``."""
    for name, alert in events:
        finding = alert["data"].get("finding", {})
        if name == event and alert["kind"] == "anomaly" and finding["kind"] == kind:
            return alert
    raise AssertionError(f"the stream ended before a {event} of {kind}")


def anomalies(gw: Gateway, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = gw.client.get("/v1/alerts", params={"kind": "anomaly", "limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["alerts"])


def of_kind(alerts: list[dict[str, Any]], kind: str, live: bool = True) -> list[dict[str, Any]]:
    return [
        a
        for a in alerts
        if a["data"]["finding"]["kind"] == kind and (a["withdrawn_at"] is None) == live
    ]


def batch_audit(world: World, gw: Gateway, root: Path) -> list[dict[str, Any]]:
    """``rxledger audit anomalies`` over a full replay of the chain, with the scans the
    gateway recorded."""
    with gw.state.engine.connect() as conn:
        scans = recorded_scans(conn)
    path = root / "verifications.jsonl"
    write_scans(scans, path)
    url = world.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    args = ["audit", "anomalies", "--scans", str(path), "--rpc", url]
    result = CliRunner().invoke(app, [*args, "--deployment", str(world.deployment_file)])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def settled(gw: Gateway, w3: Web3) -> list[dict[str, Any]]:
    """The gateway's findings once it detected them as at the head, JSON as the CLI prints."""
    head = w3.eth.block_number
    gw.wait_indexed(head)
    poll(lambda: gw.state.findings.as_of_block == head, "detection at the head")
    found = [f.as_dict() for f in gw.state.findings.findings]
    return list(json.loads(json.dumps(found, default=str)))


def live_keys(gw: Gateway) -> set[str]:
    with gw.state.engine.connect() as conn:
        return set(
            conn.execute(
                select(m.Alert.key).where(m.Alert.kind == "anomaly", m.Alert.withdrawn_at.is_(None))
            ).scalars()
        )


def keys_of(findings: list[dict[str, Any]]) -> set[str]:
    from ledger_client.audit.findings import Finding

    return {finding_key(Finding(**f)) for f in findings}


def test_live_findings_arrive_as_the_chain_grows_and_end_equal_to_the_batch_audit(
    chain: World, tmp_path: Path
) -> None:
    w3, net = chain.w3, chain.net
    maker, wb, pa = net["manufacturer"], net["wholesaler_b"], net["pharmacy_a"]
    with running_gateway(chain, tmp_path / "gw.db", **LIVE) as gw:
        regulator, pharmacy_b = gw.auth("regulator"), gw.auth("pharmacy_b")
        hook = WebhookReceiver()
        r = gw.client.post(
            "/v1/alerts/subscriptions",
            json={"url": hook.url, "kinds": ["anomaly"]},
            headers=gw.auth("wholesaler_b"),
        )
        assert r.status_code == 201, r.text
        params = {"params": {"timeout": 60}, "headers": regulator}
        with gw.client.stream("GET", "/v1/alerts/stream", **params) as stream:
            events = sse(stream)
            # a pharmacy ships a pack on to a wholesaler that never supplied it
            onward = pa.ship(wb.address, packs=[pack(0)])[0]
            alert = next_finding(events, "ROLE_ORDER", "alert")
        assert alert["subject"] == "0x" + onward.tx_hash.hex()
        assert alert["data"]["as_of_block"] == onward.block_number
        finding = alert["data"]["finding"]
        assert finding["threshold"] and "pharmacy_a" in finding["seen"]
        assert [e["tx"] for e in finding["evidence"]][0] == "0x" + onward.tx_hash.hex()
        assert {pa.address, wb.address} <= set(alert["data"]["members"])
        assert alert["message"].startswith("ROLE_ORDER: dispenser pharmacy_a shipped 1 pack")
        # the members it concerns and regulators read it, a member it does not concern not
        poll(lambda: hook.received, "wholesaler_b's webhook")
        assert [a["id"] for a in hook.received] == [alert["id"]]
        assert of_kind(anomalies(gw, regulator), "ROLE_ORDER")
        assert not of_kind(anomalies(gw, pharmacy_b), "ROLE_ORDER")

        # the chain grows: expired stock moves, a dispensed pack is scanned again, a pack is
        # scanned at two pharmacies, one with a lot it was not commissioned in
        wb.receive(packs=[pack(0)])
        maker.ship(wb.address, packs=[(GTIN, "X1")])
        wb.receive(packs=[(GTIN, "X1")])
        pa.decommission([pack(1)], DecommissionReason.DISPENSED)
        scans = [("pharmacy_b", "P1", LOT), ("pharmacy_a", "P2", LOT), ("pharmacy_b", "P2", LOT)]
        for who, serial, lot in [*scans, ("pharmacy_a", "P3", "WRONG")]:
            headers = CONSOLE if who == "pharmacy_a" else pharmacy_b
            r = gw.client.get("/v1/verify", params={"code": dm(serial, lot)}, headers=headers)
            assert r.status_code == 200, r.text
        poll(lambda: of_kind(anomalies(gw, regulator), "VERIFIED_TWO_PLACES"), "the scan finding")
        # a shipment left open for two weeks is found; its receipt explains it
        late = maker.ship(wb.address, packs=[pack(6)])[0]
        rpc(w3, "evm_increaseTime", 15 * DAY)
        rpc(w3, "evm_mine")
        open_ = poll(lambda: of_kind(anomalies(gw, regulator), "SHIPMENT_NOT_RECEIVED"), "it")
        assert open_[0]["subject"] == "0x" + late.tx_hash.hex()
        wb.receive(packs=[pack(6)])
        gone = poll(
            lambda: of_kind(anomalies(gw, regulator), "SHIPMENT_NOT_RECEIVED", live=False),
            "the withdrawal",
        )
        assert gone[0]["id"] == open_[0]["id"]
        assert "later events explain it" in gone[0]["withdrawn_reason"]
        # and one that stays open to the end
        maker.ship(wb.address, packs=[pack(7)])
        rpc(w3, "evm_increaseTime", 15 * DAY)
        rpc(w3, "evm_mine")

        live = settled(gw, w3)
        batch = batch_audit(chain, gw, tmp_path)
        assert live == batch
        assert {f["kind"] for f in batch} >= {
            "ROLE_ORDER",
            "EXPIRED_MOVING",
            "DECOMMISSIONED_VERIFIED",
            "VERIFIED_TWO_PLACES",
            "SHIPMENT_NOT_RECEIVED",
            "PRODUCT_MISMATCH",
        }
        assert live_keys(gw) == keys_of(batch)
        metrics = gw.client.get("/metrics").text
        assert 'rxledger_anomaly_findings{kind="ROLE_ORDER"} 1.0' in metrics
        withdrawn = [a for a in anomalies(gw, regulator) if a["withdrawn_at"] is not None]
        assert gone[0]["id"] in {a["id"] for a in withdrawn}
        assert f'rxledger_anomaly_alerts_total{{change="withdrawn"}} {len(withdrawn)}.0' in metrics
        assert "rxledger_anomaly_detection_seconds_count" in metrics


def test_a_thresholds_file_naming_no_threshold_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps({"not_received_days": 3, "not_recieved": 1}))
    with pytest.raises(InvalidInputError, match="unknown not_recieved; known: .*not_received_days"):
        load_thresholds(path)
    path.write_text(json.dumps({"not_received_days": 3}))
    assert load_thresholds(path).not_received_days == 3


def test_a_reorg_withdraws_the_finding_its_undone_blocks_raised_and_a_restart_raises_none(
    chain: World, tmp_path: Path
) -> None:
    w3, net = chain.w3, chain.net
    maker, wb, pa = net["manufacturer"], net["wholesaler_b"], net["pharmacy_a"]
    with running_gateway(chain, tmp_path / "gw.db", **LIVE) as gw:
        params = {"params": {"timeout": 60}, "headers": gw.auth("regulator")}
        with gw.client.stream("GET", "/v1/alerts/stream", **params) as stream:
            events = sse(stream)
            fork = rpc(w3, "evm_snapshot")
            fork_block = w3.eth.block_number
            pa.ship(wb.address, packs=[pack(0)])
            raised = next_finding(events, "ROLE_ORDER", "alert")
            assert rpc(w3, "evm_revert", fork)
            maker.ship(wb.address, packs=[pack(6)])  # other blocks at those heights, and more
            rpc(w3, "anvil_mine", hex(4))
            withdrawn = next_finding(events, "ROLE_ORDER", "withdrawal")
        assert withdrawn["id"] == raised["id"]
        assert f"reorganisation back to block {fork_block}" in withdrawn["withdrawn_reason"]
        live = settled(gw, w3)
        assert live == batch_audit(chain, gw, tmp_path)
        assert live_keys(gw) == keys_of(live)
        alerts = anomalies(gw, CONSOLE)
    # a restart rebuilds the model from the index and raises nothing it raised before
    with running_gateway(chain, tmp_path / "gw.db", **LIVE) as again:
        assert settled(again, w3) == live
        assert anomalies(again, CONSOLE) == alerts
