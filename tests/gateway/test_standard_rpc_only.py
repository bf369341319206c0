"""RxLedger needs nothing of a node but the standard Ethereum JSON-RPC methods: the whole
lifecycle (deploy, register a lot, commission, pack, ship, receive, verify, decommission) and
a gateway indexing and verifying, all through a proxy that refuses every other method, refuse
nothing; a non-standard call through it is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_helpers import CONSOLE, CONSOLE_KEY, EXPIRY, GTIN, LOT, LiveServer, dm, operator_key

from gateway.core.config import Settings
from gateway.main import create_app
from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.rpc_proxy import METHOD_NOT_FOUND, StandardRpcProxy
from ledger_client.devnet import deploy_devnet
from ledger_client.types import DecommissionReason, VerificationStatus
from tests.utils.factories import make_sscc
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil

CASE, PALLET = make_sscc("0614141", 71), make_sscc("0614141", 72)
NON_STANDARD = (
    "anvil_mine", "evm_snapshot", "debug_traceTransaction", "admin_peers", "miner_start",
    "clique_getSigner", "personal_listAccounts", "txpool_content",
)  # fmt: skip


@pytest.fixture(scope="module")
def proxy() -> Iterator[StandardRpcProxy]:
    """An anvil node reached only through the proxy."""
    with Anvil(port=free_port()) as node, StandardRpcProxy(node.url) as proxy:
        yield proxy


def rpc(proxy: StandardRpcProxy, payload: object) -> object:
    return httpx.post(proxy.url, json=payload, timeout=30).json()


def test_the_lifecycle_and_a_gateway_need_no_non_standard_method(
    proxy: StandardRpcProxy, tmp_path: Path
) -> None:
    w3 = connect(proxy.url)
    net = deploy_devnet(w3)
    m, w, pa = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    m.register_lot(GTIN, LOT, EXPIRY)
    m.commission(GTIN, LOT, ["P1", "P2"], into_sscc=CASE)
    m.pack(PALLET, units=[CASE])
    m.ship(w.address, units=[PALLET])
    w.receive(units=[PALLET])
    w.unpack([PALLET])
    w.ship(pa.address, units=[CASE])
    pa.receive(units=[CASE])
    pa.unpack([CASE])
    assert pa.verify(GTIN, "P1", LOT, EXPIRY).status == VerificationStatus.VERIFIED
    pa.decommission([(GTIN, "P2")], DecommissionReason.DISPENSED)
    net.deployment.save(tmp_path / "deployment.json")

    settings = Settings(
        environment="local",
        chain_url=proxy.url,
        deployment_file=tmp_path / "deployment.json",
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        confirmation_depth=0,
        index_poll_seconds=0.05,
        operator_key=operator_key("pharmacy_a"),
        console_key=CONSOLE_KEY,
        token_secret="t" * 40,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        deadline = time.monotonic() + 60
        while (ready := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.1)
        assert ready.json()["checks"]["indexed_block"] == w3.eth.block_number
        genuine = client.get("/v1/verify", params={"code": dm("P1")}, headers=CONSOLE).json()
        assert (genuine["status"], genuine["pack"]["custodian_name"]) == ("VERIFIED", "pharmacy_a")
        dispensed = client.get("/v1/verify", params={"code": dm("P2")}, headers=CONSOLE).json()
        assert dispensed["status"] == "DECOMMISSIONED"

    assert proxy.refused == {}
    assert {"eth_sendRawTransaction", "eth_call", "eth_getLogs"} <= set(proxy.forwarded)


@pytest.mark.parametrize("method", NON_STANDARD)
def test_a_non_standard_method_is_refused_with_a_json_rpc_error(
    proxy: StandardRpcProxy, method: str
) -> None:
    before = proxy.refused[method]
    answer = rpc(proxy, {"jsonrpc": "2.0", "id": 7, "method": method, "params": []})
    assert answer == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {
            "code": METHOD_NOT_FOUND,
            "message": f"{method} is not a standard Ethereum JSON-RPC method",
        },
    }
    assert proxy.refused[method] == before + 1


def test_a_batch_is_answered_call_by_call_in_order(proxy: StandardRpcProxy) -> None:
    calls = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "evm_mine", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "net_version", "params": []},
    ]
    head = connect(proxy.url).eth.block_number
    answers = rpc(proxy, calls)
    assert isinstance(answers, list)
    assert [a["id"] for a in answers] == [1, 2, 3]
    assert answers[0]["result"] == hex(31337) and answers[2]["result"] == "31337"
    assert answers[1]["error"]["code"] == METHOD_NOT_FOUND
    assert connect(proxy.url).eth.block_number == head  # evm_mine never reached the node


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{not json", -32700), (b"[]", -32600), (json.dumps([{"id": 1}]).encode(), -32600)],
)
def test_a_malformed_request_gets_a_json_rpc_error(
    proxy: StandardRpcProxy, body: bytes, code: int
) -> None:
    answer = httpx.post(proxy.url, content=body, timeout=30).json()
    error = answer[0]["error"] if isinstance(answer, list) else answer["error"]
    assert error["code"] == code
