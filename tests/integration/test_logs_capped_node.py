"""The auditor's reads against a node that caps eth_getLogs, as Besu and the node providers
do (-32005, "query returned more than N results"; geth instead cuts a large answer off at its
HTTP write timeout): the range is halved until the node answers, and every log still comes,
once, in chain order; the gateway's indexer reads such a node the same way and keeps the
smaller range. And against a node that drops a large eth_call batch, as a busy geth
closes the connection when a batch outlasts its write timeout: the batch is halved, and the
comparison with the chain's state is the same."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from web3 import Web3
from web3.exceptions import Web3RPCError

from gateway.indexer import Indexer
from gateway.services.chain import Chain
from ledger_client.audit.replay import compare_with_chain, replay_logs
from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.rpc_proxy import StandardRpcProxy
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.logs import fetch_logs
from tests.utils.index_state import fresh_engine, index_state
from tests.utils.ports import free_port

GTIN, LOT, EXPIRY = "09506000134352", "CAP1", "301231"

pytestmark = pytest.mark.anvil


def six_blocks_of_packs(w3: Web3, tag: str) -> DevNetwork:
    """The demo network, and six commissions of two packs each (one block each)."""
    net = deploy_devnet(w3)
    net["manufacturer"].register_lot(GTIN, LOT, EXPIRY)
    for i in range(6):
        net["manufacturer"].commission(GTIN, LOT, [f"{tag}{i}A", f"{tag}{i}B"])
    return net


def test_a_capped_node_gives_every_log_once_through_smaller_ranges() -> None:
    with Anvil(port=free_port()) as node:
        w3 = connect(node.url)
        net = six_blocks_of_packs(w3, "CAP")
        everything = fetch_logs(w3, net.deployment)
        per_block = Counter(log.block_number for log in everything)
        cap = max(per_block.values())  # each block fits; the whole history does not
        assert len(everything) > cap

        with StandardRpcProxy(node.url, max_logs=cap) as proxy:
            capped = fetch_logs(connect(proxy.url), net.deployment)
            assert proxy.refused["eth_getLogs"] > 0
        assert capped == everything


def test_a_block_with_more_logs_than_the_node_returns_is_an_error_not_a_gap() -> None:
    with Anvil(port=free_port()) as node:
        w3 = connect(node.url)
        net = deploy_devnet(w3)
        everything = fetch_logs(w3, net.deployment)
        busiest = max(Counter(log.block_number for log in everything).values())
        assert busiest > 1  # the deployment writes several logs in one block
        with (
            StandardRpcProxy(node.url, max_logs=busiest - 1) as proxy,
            pytest.raises(Web3RPCError, match="query returned more than"),
        ):
            fetch_logs(connect(proxy.url), net.deployment)


def test_a_node_that_drops_large_call_batches_gives_the_same_comparison() -> None:
    with Anvil(port=free_port()) as node:
        w3 = connect(node.url)
        net = deploy_devnet(w3)
        net["manufacturer"].register_lot(GTIN, LOT, EXPIRY)
        net["manufacturer"].commission(GTIN, LOT, [f"DROP{i}" for i in range(12)])
        model = replay_logs(fetch_logs(w3, net.deployment)).model
        direct = compare_with_chain(model, w3, net.deployment, chunk=1)
        with StandardRpcProxy(node.url, max_batch=3) as proxy:
            halved = compare_with_chain(model, connect(proxy.url), net.deployment, chunk=1)
            assert proxy.dropped > 0
        assert halved == direct
        assert direct[0] == [] and direct[1]["packs"] == 12


def test_the_gateway_indexer_reads_a_capped_node_in_smaller_ranges(tmp_path: Path) -> None:
    with Anvil(port=free_port()) as node:
        w3 = connect(node.url)
        net = six_blocks_of_packs(w3, "IDX")
        start, head = net.deployment.block, w3.eth.block_number
        direct = fresh_engine(tmp_path / "direct.db")
        Indexer(Chain(w3, net.deployment), direct, 0, 5000, start).catch_up()
        cap = max(Counter(log.block_number for log in fetch_logs(w3, net.deployment)).values())
        with StandardRpcProxy(node.url, max_logs=cap) as proxy:
            engine = fresh_engine(tmp_path / "capped.db")
            indexer = Indexer(Chain(connect(proxy.url), net.deployment), engine, 0, 5000, start)
            assert indexer.catch_up() == head
            assert proxy.refused["eth_getLogs"] > 0
        assert indexer.chunk_blocks < 5000  # later steps keep the range the node answered
        assert index_state(engine) == index_state(direct)
