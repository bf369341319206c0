"""A fork undone on four geth Clique signers: the network is split 3/1, the lone signer seals
a block holding a recall written through it, the partition heals and the majority's chain
wins. Both partners' indexes equal a fresh index of the final chain, the alert the orphaned
block raised is withdrawn, and the recall is on the final chain or reported not done."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from web3.types import RPCEndpoint

from gateway.db import models as m
from gateway.db.session import make_engine, migrate
from gateway.indexer import Indexer
from gateway.reorg import STATE_TABLES
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

pytestmark = pytest.mark.network
LONE = 3


def fresh_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


def snapshot(engine: Engine) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """The index's state tables and its events' positions."""
    with engine.connect() as conn:
        state = {
            t.__tablename__: sorted(tuple(r) for r in conn.execute(select(t.__table__)))
            for t in STATE_TABLES
        }
        state["events"] = sorted(
            (bytes(r[0]), r[1])
            for r in conn.execute(select(m.ChainEvent.tx_hash, m.ChainEvent.log_index))
        )
    return state


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
    lone.manager.request_blocking(RPCEndpoint("miner_stop"), [])
    network.wait_until_peered(max(network.heads().values()) + 2)  # the lone signer may seal
    partition(network, [[0, 1, 2], [LONE]])
    split = lone.eth.block_number
    recaller = Ledger(lone, net.deployment, dev_account("manufacturer"))
    tx = recaller.registry.functions.setLotStatus(
        recaller.owners.lot_id(GTIN, "FORK"), int(LotStatus.RECALLED), b"\0" * 32
    )
    lone.manager.request_blocking(RPCEndpoint("miner_start"), [])
    recall = recaller.transact(tx)  # acknowledged in the lone signer's block
    minority.catch_up()
    alerts = list_alerts(minority.engine, None, True, 1)
    (raised,) = [a for a in alerts if a.kind.value == "lot_recalled"]
    assert raised.withdrawn_at is None
    orphan = bytes(lone.eth.get_block(recall.block_number)["hash"])
    sealing_on = network.w3(0).eth.block_number + 4
    network._wait(lambda: network.w3(0).eth.block_number >= sealing_on, 60, "majority sealed")
    assert lone.eth.block_number == split + 1  # the lone side sealed its one block

    heal(network)
    network.agreed_hash(network.w3(0).eth.block_number)
    assert bytes(lone.eth.get_block(recall.block_number)["hash"]) != orphan
    try:
        landed = recaller.confirm(recall, 2)[0]
        outcome = f"on the final chain in block {landed.block_number}"
    except WriteUndoneError as exc:
        outcome = f"reported not done: {exc.reason}"
    assert outcome
    height = network.w3(0).eth.block_number
    network.wait_until_peered(height + 3)
    network.agreed_hash(height)
    reference = indexer(0, 2, "fresh.db")
    for index in (majority, minority, reference):
        index.confirmation_depth = 2
        index.catch_up()
    assert snapshot(majority.engine) == snapshot(reference.engine)
    assert snapshot(minority.engine) == snapshot(reference.engine)
    withdrawn = [a for a in list_alerts(minority.engine, None, True, 1) if a.id == raised.id]
    assert withdrawn[0].withdrawn_at is not None
