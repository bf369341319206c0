"""A partner's node dies in the middle of a large ingest on the four-signer Clique network: the
other three keep sealing, the partner's writes fail with a retryable error (or go on through a
second node it trusts), its gateway reports not ready, and once the node is back and synced
the ingest ends with every pack commissioned exactly once and the gateway caught up."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from ledger_client.chain import connect, dev_account
from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.devnet import DevNetwork, demo_accounts, deploy_devnet
from ledger_client.events import decode
from ledger_client.ledger import Ledger
from ledger_client.logs import fetch_logs
from ledger_client.pipeline import BatchInterruptedError
from tests.gateway.gateway_helpers import CONSOLE, World, dm, running_gateway
from tests.utils.factories import EXPIRY, GTIN

pytestmark = pytest.mark.network

#: Blocks of 15 M gas take five chunks of 100 packs: an ingest of 2,000 packs spans blocks.
GAS_LIMIT = 15_000_000
PACKS = 2_000
CHUNK = 100


@pytest.fixture(scope="module")
def network() -> Iterator[CliqueNetwork]:
    """Four signers, a block every two seconds, the demo members funded in the genesis."""
    geth_binary()  # fails naming `make geth` when geth is not built
    with CliqueNetwork(size=4, period=2, funded=demo_accounts(), gas_limit=GAS_LIMIT) as network:
        yield network


@pytest.fixture(scope="module")
def devnet(network: CliqueNetwork) -> DevNetwork:
    """The demo consortium, deployed through node 1."""
    return deploy_devnet(network.w3(0))


class Ingest:
    """``PACKS`` packs of a new lot commissioned by the manufacturer in a thread; ``started``
    is set once the first chunk has landed, and the ingest then waits for ``proceed``: the
    test kills the node while the batch is certainly unfinished (on a busy machine the rest of
    it could otherwise land before the kill)."""

    def __init__(self, writer: Ledger, lot: str) -> None:
        self.writer, self.lot = writer, lot
        self.serials = [f"{lot}-{i:05d}" for i in range(PACKS)]
        writer.register_lot(GTIN, lot, EXPIRY)
        self.from_block = writer.w3.eth.block_number + 1
        self.started, self.proceed = threading.Event(), threading.Event()
        self.raised: BaseException | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.writer.commission(GTIN, self.lot, self.serials, progress=lambda _: self._landed())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.raised = exc

    def _landed(self) -> None:
        self.started.set()
        assert self.proceed.wait(120), "the test never let the ingest go on"

    def result(self) -> BaseException | None:
        """Wait for the batch; return what it raised, if anything."""
        self.thread.join(timeout=300)
        assert not self.thread.is_alive(), "the ingest did not end"
        return self.raised

    def each_commissioned_once(self, reader: Ledger) -> None:
        """Every pack is on chain, and commissioned by exactly one event."""
        ids = reader.pack_ids([(GTIN, s) for s in self.serials])
        events = decode(fetch_logs(reader.w3, reader.deployment, self.from_block))
        counts = Counter(
            p for e in events if e.name == "PacksCommissioned" for p in e.args["packIds"]
        )
        assert counts == Counter(ids)
        assert {v.lot_id for v in reader.pack_states(ids)} == {reader.owners.lot_id(GTIN, self.lot)}


def writer_on(
    network: CliqueNetwork, devnet: DevNetwork, index: int, fallback: Sequence[int] = ()
) -> Ledger:
    """The manufacturer writing through node ``index``, failing over to ``fallback``."""
    return Ledger(
        connect(network.nodes[index].url),
        devnet.deployment,
        dev_account("manufacturer"),
        CHUNK,
        retries=2,
        retry_delay=0.5,
        window=8,
        fallback=[connect(network.nodes[i].url) for i in fallback],
    )


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll ``check`` until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.2)


def test_a_dead_node_fails_the_ingest_retryably_and_it_ends_once_after_the_node_is_back(
    network: CliqueNetwork, devnet: DevNetwork, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment.json"
    devnet.deployment.save(deployment)
    node = network.nodes[3]
    world = World(connect(node.url), devnet, deployment)
    with running_gateway(world, tmp_path / "gateway.db", chain_url=node.url) as gateway:
        writer = writer_on(network, devnet, 3)
        ingest = Ingest(writer, "DIES1")
        assert ingest.started.wait(120)
        with network.down(3):
            assert ingest.thread.is_alive()  # killed mid-ingest
            ingest.proceed.set()
            raised = ingest.result()
            assert isinstance(raised, BatchInterruptedError)
            assert isinstance(raised, ConnectionError)  # retryable
            height = max(network.heads().values())
            network.wait_until_peered(height + 3)  # the other three keep sealing
            ready = gateway.client.get("/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"]["chain"] is False

        writer.commission(GTIN, "DIES1", ingest.serials, skip_done=True)
        ingest.each_commissioned_once(Ledger(network.w3(0), devnet.deployment))
        head = world.w3.eth.block_number
        wait_until(
            lambda: (
                gateway.client.get("/readyz").status_code == 200
                and gateway.client.get("/readyz").json()["checks"]["indexed_block"] >= head
            ),
            "the gateway did not catch up",
        )
        last = ingest.serials[-1]
        scanned = gateway.client.get(
            "/v1/verify", params={"code": dm(last, "DIES1", str(EXPIRY), GTIN)}, headers=CONSOLE
        )
        on_chain = Ledger(network.w3(0), devnet.deployment).verify(GTIN, last, "DIES1", EXPIRY)
        assert scanned.json()["status"] == on_chain.status.name


def test_with_a_second_trusted_node_the_ingest_fails_over_and_ends_while_its_node_is_down(
    network: CliqueNetwork, devnet: DevNetwork
) -> None:
    ingest = Ingest(writer_on(network, devnet, 2, fallback=[0]), "DIES2")
    assert ingest.started.wait(120)
    with network.down(2) as node:
        assert ingest.thread.is_alive()  # killed mid-ingest
        ingest.proceed.set()
        assert ingest.result() is None
        assert not node.running
    ingest.each_commissioned_once(Ledger(network.w3(2), devnet.deployment))  # synced again
