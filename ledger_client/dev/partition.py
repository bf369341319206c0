"""Partitioning a local Clique network and healing it, through geth's admin API (loopback).

``partition`` drops the peerings between groups of nodes (``admin_removePeer`` also takes a
node out of the static peers geth redials); ``heal`` peers them all again. Each side seals
on its own chain meanwhile; when they meet, the chain of greater total difficulty wins and
the other side's blocks are orphaned. A signer seals at most one of every ``size // 2 + 1``
consecutive blocks, so with four signers a side of three seals on and a side of one seals
one block at most; two equal sides stall and tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from web3.types import RPCEndpoint

from ledger_client.dev.clique import CliqueNetwork


def _admin(network: CliqueNetwork, index: int, method: str, enode: str) -> None:
    network.w3(index).manager.request_blocking(RPCEndpoint(method), [enode])


def partition(
    network: CliqueNetwork, groups: Sequence[Sequence[int]], timeout: float = 60.0
) -> None:
    """Cut every peering between nodes of different ``groups`` (0-based node indexes) and
    wait until each node peers with its own group only."""
    for a, b in combinations(range(len(groups)), 2):
        for i in groups[a]:
            for j in groups[b]:
                _admin(network, i, "admin_removePeer", network.nodes[j].enode)
                _admin(network, j, "admin_removePeer", network.nodes[i].enode)

    def cut() -> bool:
        return all(
            network.w3(i).net.peer_count == len(group) - 1 for group in groups for i in group
        )

    network.wait_until(cut, timeout, f"the network did not split into {groups}")


def heal(network: CliqueNetwork, timeout: float = 60.0) -> None:
    """Peer every running node with every other again and wait until they are."""
    running = network.running()
    for i, j in combinations(running, 2):
        _admin(network, i, "admin_addPeer", network.nodes[j].enode)
        _admin(network, j, "admin_addPeer", network.nodes[i].enode)
    network.wait_until_peered(0, timeout)
