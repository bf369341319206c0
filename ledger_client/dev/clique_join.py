"""A partner joining a running :class:`~ledger_client.dev.clique.CliqueNetwork` late: its node
syncs the chain from the others, then the signers vote its key in (Clique's
``clique_propose``, a majority of them) and it seals its share of the blocks."""

from __future__ import annotations

import shutil

from eth_account import Account
from web3 import Web3
from web3.types import RPCEndpoint

from ledger_client.dev.clique import CliqueNetwork, GethNode


def add_node(network: CliqueNetwork, timeout: float = 120.0) -> int:
    """Start one more geth node with the network's genesis, not a signer yet, dialling every
    node; return its index once it is peered and agrees with the block the others had
    reached."""
    first = network.nodes[0]
    number = len(network.nodes) + 1
    name = f"node{number}"
    node = GethNode(name, network.root / name, Account.create(), network.chain_id)
    node.datadir.mkdir(parents=True)
    genesis = node.datadir / "genesis.json"
    shutil.copyfile(first.datadir / "genesis.json", genesis)
    password = (first.datadir / "password").read_text()
    node.init(genesis, [peer.enode for peer in network.nodes], password)
    reached = max(network.heads().values())
    network.nodes.append(node)
    node.start()
    network.wait_until_peered(reached, timeout)
    network.agreed_hash(reached, timeout)
    return len(network.nodes) - 1


def signers(network: CliqueNetwork, index: int = 0) -> list[str]:
    """The signers at the head, as node ``index`` counts them (``clique_getSigners``)."""
    answer = network.w3(index).manager.request_blocking(RPCEndpoint("clique_getSigners"), [])
    return [Web3.to_checksum_address(a) for a in answer]


def vote_in(network: CliqueNetwork, index: int, timeout: float = 120.0) -> list[int]:
    """Make node ``index``'s key a signer: a majority of the signers propose it, each in the
    blocks it seals; once every running node counts it, they stop proposing and it starts
    sealing. Return the voters' indexes."""
    candidate = network.nodes[index].signer.address
    current = set(signers(network))
    voters = [i for i, n in enumerate(network.nodes) if n.signer.address in current]
    voters = voters[: len(current) // 2 + 1]
    for i in voters:
        network.w3(i).manager.request_blocking(RPCEndpoint("clique_propose"), [candidate, True])

    def counted() -> bool:
        return all(candidate in signers(network, i) for i in network.running())

    network.wait_until(counted, timeout, f"{network.nodes[index].name} was not voted in")
    for i in voters:
        network.w3(i).manager.request_blocking(RPCEndpoint("clique_discard"), [candidate])
    network.nodes[index].seal()
    return voters
