"""The store's copy of the chain's events (ledger_client.epcis.stream) on a real anvil node: a
second export or TI/TS reads only the new blocks, a reorg or another deployment rebuilds the
copy, and every result equals that of a fresh rebuild."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.middleware.base import Web3Middleware

from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.epcis.dscsa import transaction_information
from ledger_client.epcis.history import export_history
from ledger_client.epcis.store import EventStore
from tests.utils.anvil import rpc
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
GTIN, LOT, CASE = "09506000134352", "STREAM1", "106141410000000019"
CREATED = "2025-01-01T00:00:00Z"

Reader = Callable[[Web3, DevNetwork, EventStore], dict[str, Any]]
READERS: dict[str, Reader] = {
    "export": lambda w3, net, store: export_history(
        w3, net.deployment, store, "lot", f"(01){GTIN}(10){LOT}", creation_date=CREATED
    ),
    "ti-ts": lambda w3, net, store: transaction_information(w3, net.deployment, store, CASE),
}


def _deploy(w3: Web3) -> DevNetwork:
    """A demo network whose manufacturer shipped a case of lot ``LOT`` to wholesaler_a."""
    rpc(w3, "anvil_setBalance", w3.eth.accounts[0], hex(10**24))  # it funds the members
    net = deploy_devnet(w3)
    m, wa = net["manufacturer"], net["wholesaler_a"]
    m.register_lot(GTIN, LOT, "301231")
    m.commission(GTIN, LOT, ["A1", "A2"], into_sscc=CASE)
    m.ship(wa.address, units=[CASE])
    wa.receive(units=[CASE])
    return net


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Web3, DevNetwork]]:
    with Anvil(port=free_port()) as node:
        w3 = connect(node.url)
        yield w3, _deploy(w3)


@pytest.fixture
def chain(deployed: tuple[Web3, DevNetwork]) -> Iterator[tuple[Web3, DevNetwork]]:
    """The module's network (:func:`_deploy`), put back as it was after the test."""
    w3 = deployed[0]
    snapshot = rpc(w3, "evm_snapshot")
    yield deployed
    assert rpc(w3, "evm_revert", snapshot)


def _forward(net: DevNetwork, to: str) -> None:
    """wholesaler_a ships the case on to member ``to``, who receives it."""
    net["wholesaler_a"].ship(net[to].address, units=[CASE])
    net[to].receive(units=[CASE])


@contextmanager
def log_ranges(w3: Web3) -> Iterator[list[tuple[int, int]]]:
    """The block ranges of the eth_getLogs calls ``w3`` makes meanwhile."""
    ranges: list[tuple[int, int]] = []

    def number(value: Any) -> int:
        return int(value, 16) if isinstance(value, str) else int(value)

    class Recorder(Web3Middleware):
        def request_processor(self, method: Any, params: Any) -> Any:
            if method == "eth_getLogs":
                ranges.append((number(params[0]["fromBlock"]), number(params[0]["toBlock"])))
            return method, params

    w3.middleware_onion.add(Recorder, "log ranges")
    try:
        yield ranges
    finally:
        w3.middleware_onion.remove("log ranges")


@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_a_second_read_fetches_only_the_new_blocks_and_equals_a_fresh_rebuild(
    chain: tuple[Web3, DevNetwork], tmp_path: Path, read: Reader
) -> None:
    w3, net = chain
    with EventStore(tmp_path / "store.sqlite") as store:
        first = read(w3, net, store)
        cursor = store.chain_cursor()
        assert cursor is not None and cursor.block_number == w3.eth.block_number
        _forward(net, "pharmacy_a")
        with log_ranges(w3) as ranges:
            second = read(w3, net, store)
        assert ranges == [(cursor.block_number + 1, w3.eth.block_number)]
        with log_ranges(w3) as ranges:
            assert read(w3, net, store) == second
        assert ranges == []  # no new block: nothing read
    assert second != first
    with EventStore() as fresh:
        assert second == read(w3, net, fresh)


#: What the chain holds after it was reverted below the cursor.
REORGS: dict[str, Callable[[DevNetwork], None]] = {
    "other blocks at the same heights": lambda net: _forward(net, "pharmacy_b"),
    "a chain shorter than the cursor": lambda net: None,
}


@pytest.mark.parametrize("reorg", REORGS.values(), ids=REORGS.keys())
@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_a_reorg_below_the_cursor_drops_the_copy_and_rebuilds_it(
    chain: tuple[Web3, DevNetwork], read: Reader, reorg: Callable[[DevNetwork], None]
) -> None:
    w3, net = chain
    snapshot = rpc(w3, "evm_snapshot")
    _forward(net, "pharmacy_a")
    with EventStore() as store:
        before = read(w3, net, store)
        cursor = store.chain_cursor()
        assert cursor is not None
        assert rpc(w3, "evm_revert", snapshot)
        reorg(net)
        assert (
            w3.eth.block_number < cursor.block_number
            or w3.eth.get_block(cursor.block_number)["hash"] != cursor.block_hash
        )
        with log_ranges(w3) as ranges:
            after = read(w3, net, store)
        assert ranges[0][0] == net.deployment.block
    assert after != before
    with EventStore() as fresh:
        assert after == read(w3, net, fresh)


def test_a_copy_of_another_deployment_on_the_same_chain_is_not_reused(
    chain: tuple[Web3, DevNetwork],
) -> None:
    w3, net = chain
    read = READERS["export"]
    with EventStore() as store:
        ours = read(w3, net, store)
        other = _deploy(w3)
        with log_ranges(w3) as ranges:
            theirs = read(w3, other, store)
        assert ranges[0][0] == other.deployment.block
        cursor = store.chain_cursor()
        assert cursor is not None and cursor.registry == other.deployment.registry
    assert theirs != ours
    with EventStore() as fresh:
        assert theirs == read(w3, other, fresh)


def test_a_copy_of_a_chain_restarted_with_the_same_addresses_is_not_reused() -> None:
    read = READERS["export"]
    with EventStore() as store:
        with Anvil(port=free_port()) as first:
            w3 = connect(first.url)
            net = _deploy(w3)
            net["wholesaler_a"].ship(net["pharmacy_a"].address, units=[CASE])
            ours = read(w3, net, store)
        with Anvil(port=free_port()) as restarted:
            w3 = connect(restarted.url)
            again = _deploy(w3)
            assert again.deployment.registry == net.deployment.registry
            with log_ranges(w3) as ranges:
                theirs = read(w3, again, store)
            assert ranges[0][0] == again.deployment.block
            with EventStore() as fresh:
                assert theirs == read(w3, again, fresh)
    assert theirs != ours
