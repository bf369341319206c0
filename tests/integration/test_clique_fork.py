"""A fork undone on four geth Clique signers: the network is split 3/1, the lone signer seals
one block holding a recall written through it while the majority seals on, and the partition
heals: the majority's chain wins. Both partners' indexes equal a fresh index of the final
chain, the alert the orphaned block raised is withdrawn, and the recall is on the final chain
or reported not done."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from web3.types import RPCEndpoint

from gateway.indexer import Indexer
from gateway.services.alerts import list_alerts, on_indexed, withdraw_orphaned
from gateway.services.chain import Chain
from ledger_client.chain import dev_account
from ledger_client.confirm import WriteUndoneError
from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.dev.partition import heal, partition
from ledger_client.devnet import demo_accounts, deploy_devnet
from ledger_client.ledger import Ledger
from ledger_client.types import LotStatus
from tests.utils.factories import EXPIRY, GTIN
from tests.utils.index_state import fresh_engine, index_state

pytestmark = pytest.mark.network
LONE = 3


@pytest.fixture(scope="module")
def network() -> Iterator[CliqueNetwork]:
    geth_binary()
    with CliqueNetwork(size=4, period=1, funded=demo_accounts()) as network:
        yield network


def test_a_healed_partition_undoes_the_minority_block_in_every_index(
    network: CliqueNetwork, tmp_path: Path
) -> None:
    net = deploy_devnet(network.w3(0))
    manufacturer = Ledger(network.w3(0), net.deployment, dev_account("manufacturer"))
    network.wait_for_transaction(manufacturer.register_lot(GTIN, "FORK", EXPIRY).tx_hash)
    (receipt,) = manufacturer.commission(GTIN, "FORK", ["K1", "K2"])
    network.wait_for_transaction(receipt.tx_hash)

    def indexer(node: int, depth: int, name: str) -> Indexer:
        return Indexer(
            Chain(network.w3(node), net.deployment),
            fresh_engine(tmp_path / name),
            depth,
            start_block=net.deployment.block,
            hooks=[on_indexed],
            rollback_hooks=[withdraw_orphaned],
        )

    majority, minority = indexer(0, 2, "majority.db"), indexer(LONE, 0, "minority.db")
    lone = network.w3(LONE)
    # A signer seals at most one of 3 consecutive blocks (4 signers): alone, the lone signer
    # seals one block, and only if it sealed neither of the last two when the network split.
    lone.manager.request_blocking(RPCEndpoint("miner_stop"), [])
    network.wait_until_peered(max(network.heads().values()) + 3)
    partition(network, [[0, 1, 2], [LONE]])
    split = lone.eth.block_number
    lone_signer = network.nodes[LONE].signer.address
    assert lone_signer not in {network.signer_of(h, LONE) for h in (split - 1, split)}
    recaller = Ledger(lone, net.deployment, dev_account("manufacturer"))
    tx = recaller.registry.functions.setLotStatus(
        recaller.owners.lot_id(GTIN, "FORK"), int(LotStatus.RECALLED), b"\0" * 32
    )
    with ThreadPoolExecutor(1) as pool:
        sent = pool.submit(recaller.transact, tx)
        # in the pool before sealing resumes, so the lone signer's one block holds it
        network.wait_until(
            lambda: (
                lone.eth.get_transaction_count(recaller.address, "pending")
                > lone.eth.get_transaction_count(recaller.address)
            ),
            60,
            "the recall did not reach the lone node's pool",
        )
        lone.manager.request_blocking(RPCEndpoint("miner_start"), [])
        recall = sent.result(timeout=60)  # acknowledged in the lone signer's block
    assert recall.block_number == split + 1
    minority.catch_up()
    (raised,) = [
        a for a in list_alerts(minority.engine, None, True, 1) if a.kind.value == "lot_recalled"
    ]
    orphan = bytes(lone.eth.get_block(recall.block_number)["hash"])
    majority_head = split + 4
    network.wait_until(
        lambda: network.w3(0).eth.block_number >= majority_head, 60, "the majority sealed"
    )
    assert lone.eth.block_number == split + 1  # the lone side sealed its one block only

    heal(network)
    height = network.w3(0).eth.block_number
    network.agreed_hash(height)
    assert bytes(lone.eth.get_block(recall.block_number)["hash"]) != orphan
    final = Ledger(network.w3(0), net.deployment)
    try:
        landed = recaller.confirm(recall, 2)[0]  # re-included from the pool
        assert landed.block_number > split + 1
        assert final.lot_state(GTIN, "FORK").status == LotStatus.RECALLED
    except WriteUndoneError:  # or dropped: the client is told
        assert final.lot_state(GTIN, "FORK").status != LotStatus.RECALLED
    height = network.w3(0).eth.block_number
    network.agreed_hash(height)
    reference = indexer(0, 2, "fresh.db")
    for index in (majority, minority, reference):
        index.confirmation_depth = 2
        assert index.catch_up() >= height - 2
    assert index_state(majority.engine) == index_state(reference.engine)
    assert index_state(minority.engine) == index_state(reference.engine)
    (withdrawn,) = [a for a in list_alerts(minority.engine, None, True, 1) if a.id == raised.id]
    assert withdrawn.withdrawn_at is not None
