"""RxLedger on a real network: four geth Clique signers (built by `make geth`), a block every
two seconds, each partner writing through its own node; all nodes agree on the result, and a
signer that crashes is not missed and catches up when it comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger_client.chain import dev_account
from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.devnet import DevNetwork, demo_accounts, deploy_devnet
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason, Receipt, VerificationStatus
from tests.utils.factories import EXPIRY, GTIN, sscc

pytestmark = pytest.mark.network

CASE = sscc(1)
SERIALS = [f"CLQ{i:03d}" for i in range(10)]


@pytest.fixture(scope="module")
def network() -> Iterator[CliqueNetwork]:
    """Four signers, the demo members funded in the genesis."""
    geth_binary()  # fails naming `make geth` when geth is not built
    with CliqueNetwork(size=4, period=2, funded=demo_accounts()) as network:
        yield network


@pytest.fixture(scope="module")
def devnet(network: CliqueNetwork) -> DevNetwork:
    """The demo consortium, deployed through node 1."""
    return deploy_devnet(network.w3(0))


def on_node(network: CliqueNetwork, devnet: DevNetwork, index: int, member: str) -> Ledger:
    """``member``'s ledger writing through node ``index`` (0-based)."""
    return Ledger(network.w3(index), devnet.deployment, dev_account(member))


def landed(network: CliqueNetwork, receipts: Receipt | list[Receipt]) -> int:
    """Wait until every node has the (last) write in the same block; return its number."""
    last = receipts[-1] if isinstance(receipts, list) else receipts
    return network.wait_for_transaction(last.tx_hash)


def test_a_shipment_moves_through_three_partners_nodes_and_every_node_agrees(
    network: CliqueNetwork, devnet: DevNetwork
) -> None:
    manufacturer = on_node(network, devnet, 0, "manufacturer")
    wholesaler = on_node(network, devnet, 1, "wholesaler_a")
    pharmacy = on_node(network, devnet, 2, "pharmacy_a")

    landed(network, manufacturer.register_lot(GTIN, "CLQ1", EXPIRY))
    landed(network, manufacturer.commission(GTIN, "CLQ1", SERIALS, CASE))
    landed(network, manufacturer.ship(wholesaler.address, units=[CASE]))
    landed(network, wholesaler.receive(units=[CASE]))
    landed(network, wholesaler.ship(pharmacy.address, units=[CASE]))
    landed(network, pharmacy.receive(units=[CASE]))
    assert pharmacy.verify(GTIN, SERIALS[0], "CLQ1", EXPIRY).status == VerificationStatus.VERIFIED
    landed(network, pharmacy.unpack([CASE]))
    final = landed(
        network, pharmacy.decommission([(GTIN, SERIALS[0])], DecommissionReason.DISPENSED)
    )

    block_hash = network.agreed_hash(final)
    answers = []
    for i in range(len(network.nodes)):
        reader = Ledger(network.w3(i), devnet.deployment)
        assert bytes(network.w3(i).eth.get_block(final)["hash"]) == block_hash
        answers.append(
            (
                reader.verify(GTIN, SERIALS[0], "CLQ1", EXPIRY).status,
                reader.verify(GTIN, SERIALS[1], "CLQ1", EXPIRY).status,
                reader.pack_state(GTIN, SERIALS[1]).custodian,
            )
        )
    dispensed = (VerificationStatus.DECOMMISSIONED, VerificationStatus.VERIFIED, pharmacy.address)
    assert answers == [dispensed] * len(network.nodes)


def test_the_other_signers_seal_while_one_is_down_and_it_catches_up(
    network: CliqueNetwork, devnet: DevNetwork
) -> None:
    manufacturer = on_node(network, devnet, 0, "manufacturer")
    with network.down(3) as node:
        assert not node.running
        height = max(network.heads().values())
        network.wait_until_peered(height + 3)
        assert min(network.heads().values()) >= height + 3
        written = landed(network, manufacturer.register_lot(GTIN, "CLQ2", EXPIRY))
    assert network.running() == [0, 1, 2, 3]
    assert bytes(network.w3(3).eth.get_block(written)["hash"]) == network.agreed_hash(written)
    assert Ledger(network.w3(3), devnet.deployment).lot_state(GTIN, "CLQ2").owner == (
        manufacturer.address
    )
    assert network.wait_for_seal(3) > written
