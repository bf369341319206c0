"""The dev bulk loader on a geth Clique network: signed locally with its own nonces, many
transactions in flight in JSON-RPC batches, every receipt waited for and checked; a node
that only follows (does not seal) has the same state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger_client.chain import dev_account
from ledger_client.dev.bulk import BulkError, BulkSender
from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.devnet import DevNetwork, demo_accounts, deploy_devnet
from ledger_client.ids import lot_hash, pack_word
from ledger_client.ledger import Ledger
from ledger_client.types import VerificationStatus
from tests.utils.factories import EXPIRY, GTIN

pytestmark = pytest.mark.network

ZERO = b"\x00" * 32


@pytest.fixture(scope="module")
def network() -> Iterator[CliqueNetwork]:
    """Two nodes, the first sealing every second, the second following."""
    geth_binary()
    with CliqueNetwork(size=2, period=1, funded=demo_accounts(), signers=1) as network:
        yield network


@pytest.fixture(scope="module")
def devnet(network: CliqueNetwork) -> DevNetwork:
    """The demo consortium, deployed through node 1."""
    return deploy_devnet(network.w3(0))


def test_pipelined_bulk_writes_land_in_order_and_a_revert_is_reported(
    network: CliqueNetwork, devnet: DevNetwork
) -> None:
    maker = devnet["manufacturer"]
    bulk = BulkSender(
        maker.w3, devnet.deployment.registry, {maker.address: dev_account("manufacturer")}, 3
    )
    nonce = maker.w3.eth.get_transaction_count(maker.address)
    lot = lot_hash(GTIN, "PIPE1")
    bulk.call(maker.address, "registerLot", lot, EXPIRY, ZERO)
    serials = [f"P{i:03d}" for i in range(40)]
    for k in range(0, 40, 5):  # 8 commissions, at most 3 unmined at a time
        words = [pack_word(GTIN, s, "PIPE1") for s in serials[k : k + 5]]
        bulk.call(maker.address, "commission", lot, ZERO, words, ZERO, items=5, tag=str(k))
    assert bulk.mine() == 9 and bulk.gas_used > 0
    assert len(bulk.hashes) == 8
    network.wait_for_transaction(bytes.fromhex(bulk.hashes["35"][2:]))
    follower = Ledger(network.w3(1), devnet.deployment)
    for reader in (maker, follower):
        statuses = {reader.verify(GTIN, s, "PIPE1", EXPIRY).status for s in serials}
        assert statuses == {VerificationStatus.VERIFIED}
    bulk.call(maker.address, "commission", lot, ZERO, [pack_word(GTIN, serials[0], "PIPE1")], ZERO)
    with pytest.raises(BulkError, match="reverted"):
        bulk.mine()
    assert maker.w3.eth.get_transaction_count(maker.address) == nonce + 10  # each sent once
