"""A partner joining late, on a node without old state: anvil reloaded from its ``--state``
file (as ``make run`` continues a chain) serves only its newest block's state, yet a gateway
started on it indexes from the deployment block and becomes ready, and the auditor compares an
older log export with the chain."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gateway_helpers import CONSOLE, CONSOLE_KEY, EXPIRY, GTIN, LOT, LiveServer, dm, operator_key
from web3 import Web3
from web3.exceptions import Web3RPCError

from gateway.core.config import Settings
from gateway.main import create_app
from ledger_client.audit import audit, export_logs, fetch_logs
from ledger_client.chain import connect
from ledger_client.contracts import Deployment
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet, ledgers_for
from ledger_client.types import DecommissionReason
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
NAME = "Amoxicillin 500 mg capsules"


@dataclass
class Reloaded:
    """A chain written, stopped and started again from its state file."""

    node: Anvil
    w3: Web3
    deployment: Deployment
    deployment_file: Path
    product_block: int
    export: Path
    root: Path


def mine(w3: Web3, blocks: int) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reloaded]:
    root = tmp_path_factory.mktemp("late")
    state = root / "state.json"
    with Anvil(port=free_port(), state_file=state) as first:
        w3 = connect(first.url)
        net = deploy_devnet(w3)
        m, pa = net["manufacturer"], net["pharmacy_a"]
        m.register_product(GTIN, NAME, "500 mg", "capsule", "0000-0000", "")
        product_block = w3.eth.block_number
        m.register_lot(GTIN, LOT, EXPIRY)
        m.commission(GTIN, LOT, ["S1", "S2", "S3"])
        m.ship(pa.address, packs=[(GTIN, "S1"), (GTIN, "S2")])
        pa.receive(packs=[(GTIN, "S1"), (GTIN, "S2")])
        export = root / "logs.jsonl"
        export_logs(fetch_logs(w3, net.deployment), net.deployment, export, w3.eth.block_number)
        pa.decommission([(GTIN, "S2")], DecommissionReason.DISPENSED)
        mine(w3, 2)  # every write is confirmed at the default depth of 2
        net.deployment.save(root / "deployment.json")
    with Anvil(port=free_port(), state_file=state) as node:
        yield Reloaded(
            node,
            connect(node.url),
            net.deployment,
            root / "deployment.json",
            product_block,
            export,
            root,
        )


def test_reloaded_node_serves_no_state_of_old_blocks(reloaded: Reloaded) -> None:
    directory = reloaded.deployment.contract(reloaded.w3, "ProductDirectory")
    assert directory.functions.product(GTIN).call()[1][0] == NAME
    with pytest.raises(Web3RPCError, match="BlockOutOfRange"):
        directory.functions.product(GTIN).call(block_identifier=reloaded.product_block)
    head = reloaded.w3.eth.block_number
    with pytest.raises(Web3RPCError, match="BlockOutOfRange"):
        directory.functions.product(GTIN).call(block_identifier=head - 2)


def test_gateway_started_late_becomes_ready_and_verifies_from_logs_and_current_state(
    reloaded: Reloaded,
) -> None:
    settings = Settings(
        environment="local",
        chain_url=reloaded.node.url,
        deployment_file=reloaded.deployment_file,
        database_url=f"sqlite:///{reloaded.root / 'gateway.db'}",
        index_poll_seconds=0.05,
        operator_key=operator_key("pharmacy_a"),
        console_key=CONSOLE_KEY,
        token_secret="t" * 40,
    )  # type: ignore[call-arg]
    assert settings.confirmation_depth == 2
    app = create_app(settings)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        deadline = time.monotonic() + 60
        while (ready := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.1)
        checks = ready.json()["checks"]
        assert checks["indexed_block"] == checks["head_block"] - 2
        genuine = client.get("/v1/verify", params={"code": dm("S1")}, headers=CONSOLE).json()
        assert genuine["status"] == "VERIFIED" and genuine["verdict"] == "green"
        assert genuine["product"]["name"] == NAME and genuine["product"]["strength"] == "500 mg"
        assert genuine["pack"]["custodian_name"] == "pharmacy_a"
        dispensed = client.get("/v1/verify", params={"code": dm("S2")}, headers=CONSOLE).json()
        assert dispensed["status"] == "DECOMMISSIONED" and dispensed["verdict"] == "red"
        unknown = client.get("/v1/verify", params={"code": dm("X9")}, headers=CONSOLE).json()
        assert unknown["status"] == "UNKNOWN"

        # a directory update after the restart is read at the confirmed head once indexed
        manufacturer = ledgers_for(reloaded.w3, reloaded.deployment)["manufacturer"]
        manufacturer.register_product(GTIN, NAME + " (new pack design)", "500 mg", "capsule")
        mine(reloaded.w3, 2)
        target, deadline = reloaded.w3.eth.block_number - 2, time.monotonic() + 60
        while app.state.rx.readmodel.indexed_block(0) < target:
            assert time.monotonic() < deadline, "the update was never indexed"
            time.sleep(0.05)
        updated = client.get("/v1/verify", params={"code": dm("S1")}, headers=CONSOLE).json()
        assert updated["product"]["name"] == NAME + " (new pack design)"


def test_audit_of_an_older_export_compares_with_the_head_on_a_node_without_old_state(
    reloaded: Reloaded,
) -> None:
    result = audit(reloaded.w3, log_file=reloaded.export)
    assert result.divergences == []
    assert result.compared_at_block == reloaded.w3.eth.block_number
    assert result.compared == {"packs": 3, "units": 0, "lots": 1, "exceptions": 0}
    # the dispense after the export was fetched from the chain and replayed
    assert "PacksDecommissioned" in {e.name for e in result.model.events}
