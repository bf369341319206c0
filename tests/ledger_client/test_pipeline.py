"""The batch pipeline on a real anvil node mining a block a second: chunks in flight together,
in nonce order, a revert reported by chunk while the others land, a node restart mid-batch."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from web3 import Web3
from web3.types import RPCEndpoint

from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.events import decode
from ledger_client.ids import lot_hash, pack_word
from ledger_client.ledger import Ledger
from ledger_client.logs import fetch_logs
from ledger_client.pipeline import BatchRevertError
from ledger_client.types import ZERO_HASH, PackStatus
from tests.utils.factories import EXPIRY, GTIN
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
E = TypeVar("E", bound=BaseException)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    """anvil mining a block every second (also after a restart), its state kept on disk."""
    state = tmp_path_factory.mktemp("anvil") / "state.json"
    with Anvil(port=free_port(), state_file=state, block_time=1) as anvil:
        yield anvil


@pytest.fixture(scope="module")
def net(node: Anvil) -> DevNetwork:
    """The demo network, deployed while the node mines at once; then a block a second."""
    w3 = connect(node.url)
    w3.manager.request_blocking(RPCEndpoint("evm_setAutomine"), [True])
    network = deploy_devnet(w3)
    w3.manager.request_blocking(RPCEndpoint("evm_setIntervalMining"), [1])
    return network


def maker(node: Anvil, net: DevNetwork, lot: str, **kwargs: object) -> Ledger:
    """The manufacturer on ``node`` (chunks of 5), with lot ``lot`` registered."""
    account = net["manufacturer"].account
    ledger = Ledger(connect(node.url), net.deployment, account, 5, **kwargs)  # type: ignore[arg-type]
    ledger.register_lot(GTIN, lot, EXPIRY)
    return ledger


def mining(w3: Web3, seconds: int) -> None:
    """Mine a block every ``seconds`` (0: only when asked)."""
    w3.manager.request_blocking(RPCEndpoint("evm_setIntervalMining"), [seconds])


def wait_for_pending(ledger: Ledger, nonce: int) -> None:
    """Wait until ``ledger``'s account has sent transactions up to ``nonce``."""
    deadline = time.monotonic() + 30
    while ledger.w3.eth.get_transaction_count(ledger.address, "pending") < nonce:
        assert time.monotonic() < deadline, "the batch did not send its chunks"
        time.sleep(0.05)


class Batch:
    """A batch write run in a thread; ``result`` joins it and returns what it raised."""

    def __init__(self, write: Callable[[], object]) -> None:
        self.raised: BaseException | None = None

        def run() -> None:
            try:
                write()
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                self.raised = exc

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def result(self, expected: type[E]) -> E:
        """What the batch raised, of type ``expected`` (``type(None)``: it raised nothing)."""
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the batch did not finish"
        assert isinstance(self.raised, expected), self.raised
        return self.raised


def commissioned(w3: Web3, net: DevNetwork, since: int) -> Counter[bytes]:
    """How often each pack id was commissioned in the blocks from ``since``."""
    events = decode(fetch_logs(w3, net.deployment, since))
    return Counter(p for e in events if e.name == "PacksCommissioned" for p in e.args["packIds"])


def test_chunks_share_blocks_and_land_in_nonce_order(node: Anvil, net: DevNetwork) -> None:
    m = maker(node, net, "PIPE1", window=4)
    first = m.w3.eth.get_transaction_count(m.address)
    serials = [f"P{i}" for i in range(40)]
    receipts = m.commission(GTIN, "PIPE1", serials)

    assert len(receipts) == 8
    nonces = [int(m.w3.eth.get_transaction(r.tx_hash)["nonce"]) for r in receipts]
    assert nonces == list(range(first, first + 8))
    assert m.w3.eth.get_transaction_count(m.address) == first + 8
    blocks = [r.block_number for r in receipts]
    assert blocks == sorted(blocks) and len(set(blocks)) < len(blocks)  # several a block
    packs = [p for r in receipts for e in r.events for p in e.args["packIds"]]
    assert packs == m.pack_ids([(GTIN, s) for s in serials])


def test_a_chunk_refused_at_estimate_is_reported_and_the_others_land(
    node: Anvil, net: DevNetwork
) -> None:
    m = maker(node, net, "PIPE2")
    m.commission(GTIN, "PIPE2", ["Q7"])
    serials = [f"Q{i}" for i in range(15)]

    with pytest.raises(BatchRevertError) as raised:
        m.commission(GTIN, "PIPE2", serials)

    (failure,) = raised.value.failures
    assert failure.items == tuple(m.pack_ids([(GTIN, f"Q{i}") for i in range(5, 10)]))
    assert raised.value.error == failure.error.error == "SerialRegistryPackExists"
    assert len(raised.value.receipts) == 2
    states = [v.status for v in m.pack_states([(GTIN, s) for s in serials])]
    active, none = PackStatus.ACTIVE, PackStatus.NONE
    assert states == [active] * 5 + [none, none, active, none, none] + [active] * 5


def test_a_chunk_that_reverts_once_mined_is_reported_and_the_others_land(
    node: Anvil, net: DevNetwork
) -> None:
    """Another writer with the same key takes pack R2 in the same block: the chunk passed its
    estimate, is mined and fails; the pipeline names its items and the revert."""
    m = maker(node, net, "PIPE3")
    before = m.w3.eth.block_number
    rival = m.registry.functions.commission(
        lot_hash(GTIN, "PIPE3"), ZERO_HASH, [pack_word(GTIN, "R2", "PIPE3")], ZERO_HASH
    ).build_transaction({"from": m.address, "nonce": m.w3.eth.get_transaction_count(m.address)})
    mining(m.w3, 0)  # until the block below: the rival and both chunks wait in the pool
    m.w3.eth.send_raw_transaction(m._signer().sign_transaction(rival).raw_transaction)  # type: ignore[arg-type]
    serials = [f"R{i}" for i in range(10)]
    batch = Batch(lambda: m.commission(GTIN, "PIPE3", serials))
    wait_for_pending(m, int(rival["nonce"]) + 3)
    m.w3.manager.request_blocking(RPCEndpoint("evm_mine"), [])
    mining(m.w3, 1)

    raised = batch.result(BatchRevertError)
    (failure,) = raised.failures
    assert failure.items == tuple(m.pack_ids([(GTIN, f"R{i}") for i in range(5)]))
    assert failure.error.error == "SerialRegistryPackExists"
    assert set(commissioned(m.w3, net, before + 1)) == set(
        m.pack_ids([(GTIN, s) for s in ["R2", *serials[5:]]])
    )


def test_after_a_restart_lost_chunks_are_resent_as_signed_and_a_taken_nonce_re_derived(
    node: Anvil, net: DevNetwork
) -> None:
    """Eight chunks wait in anvil's pool when it restarts (the pool is lost); before the batch
    is back, another writer with the same key takes the first chunk's nonce for pack N2. The
    batch resends seven chunks as signed and the first, less N2, at a new nonce: every pack
    is commissioned exactly once."""
    m = maker(node, net, "PIPE4", window=8, retries=4, retry_delay=5.0)
    before = m.w3.eth.block_number
    first = m.w3.eth.get_transaction_count(m.address)
    rival = m.registry.functions.commission(
        lot_hash(GTIN, "PIPE4"), ZERO_HASH, [pack_word(GTIN, "N2", "PIPE4")], ZERO_HASH
    ).build_transaction({"from": m.address, "nonce": first})
    serials = [f"N{i}" for i in range(60)]
    mining(m.w3, 0)
    batch = Batch(lambda: m.commission(GTIN, "PIPE4", serials))
    wait_for_pending(m, first + 8)
    node.stop()
    node.start()  # mines a block a second again; the chain is as it was, the pool empty
    assert m.w3.eth.get_transaction_count(m.address, "pending") == first
    m.w3.eth.send_raw_transaction(m._signer().sign_transaction(rival).raw_transaction)  # type: ignore[arg-type]

    assert batch.result(type(None)) is None
    assert m.w3.eth.get_transaction_count(m.address) == first + 13  # the rival, 12 chunks
    ids = m.pack_ids([(GTIN, s) for s in serials])
    assert commissioned(m.w3, net, before + 1) == Counter(ids)
    assert all(v.status == PackStatus.ACTIVE for v in m.pack_states(ids))
