"""Drive a :class:`CliqueNetwork` of four signers into Clique's equal-difficulty deadlock.

Sealing is paused on every node, the network is split into two pairs (peers removed through
the admin API), and each pair seals, one chosen signer at a time, until neither of its
signers may seal (each sealed one of its last ``len(signers) // 2`` blocks), with both forks
of the same total difficulty. Then sealing resumes everywhere and the pairs are peered
again: no node may seal on its own fork and neither fork is heavier, so without help the
network never seals again.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from web3.types import RPCEndpoint

from ledger_client.dev.clique import CliqueNetwork

#: Tries (each one block later) to find a head from which an equal-difficulty split exists.
ATTEMPTS = 8

#: Two sides, each a pair of nodes and the order in which they seal.
Plan = tuple[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]]


def deadlock(network: CliqueNetwork, timeout: float = 60.0) -> tuple[list[int], list[int]]:
    """Deadlock ``network``; return the node indexes of the two sides."""
    for _ in range(ATTEMPTS):
        number = _freeze(network, timeout)
        plan = _plan(network, number)
        if plan is not None:
            break
        _call_all(network, "miner_start")
        _reach(network, range(4), number + 1, timeout)
    else:
        raise AssertionError(f"no equal-difficulty split found in {ATTEMPTS} blocks")
    sides = [list(pair) for pair, _ in plan]
    for a, b in itertools.product(*sides):
        _call(network, a, "admin_removePeer", network.nodes[b].enode)
        _call(network, b, "admin_removePeer", network.nodes[a].enode)
    _poll(lambda: _peer_counts(network) == [1] * 4, timeout, "the network did not split")
    for _, seals in plan:
        for k, node in enumerate(seals):
            _call(network, node, "miner_start")
            _reach(network, [node], number + k + 1, timeout)
    _call_all(network, "miner_start")
    for a, b in itertools.product(*sides):
        _call(network, a, "admin_addPeer", network.nodes[b].enode)
    _poll(lambda: _peer_counts(network) == [3] * 4, timeout, "the network did not heal")
    return sides[0], sides[1]


def _plan(network: CliqueNetwork, number: int) -> Plan | None:
    """Sealing orders for two pairs from head ``number`` that stall both with equal difficulty."""
    signers = [n.signer.address for n in network.nodes]
    limit = len(signers) // 2 + 1
    recent = [
        signers.index(network.signer_of(h)) for h in range(max(1, number - limit + 2), number + 1)
    ]

    def runs(members: Sequence[int]) -> Iterator[tuple[tuple[int, ...], int]]:
        """Every way ``members`` can seal until stuck, with the difficulty gained."""
        stack: list[tuple[tuple[int, ...], int]] = [((), 0)]
        while stack:
            seals, gain = stack.pop()
            last = (recent + list(seals))[-(limit - 1) :]
            free = [m for m in members if m not in last]
            if not free:
                yield seals, gain
            for m in free:
                turn = network.in_turn(number + len(seals) + 1) == m
                stack.append(((*seals, m), gain + (2 if turn else 1)))

    for pair in ((0, 1), (0, 2), (0, 3)):
        other = tuple(i for i in range(4) if i not in pair)
        for (a, gain_a), (b, gain_b) in itertools.product(runs(pair), runs(other)):
            if a and b and gain_a == gain_b:
                return (pair, a), (other, b)
    return None


def _freeze(network: CliqueNetwork, timeout: float) -> int:
    """Pause sealing everywhere; wait until all nodes agree on a head; return its number."""
    _call_all(network, "miner_stop")
    settle = network.period + 2.0  # a seal already under way lands within period + wiggle
    seen: dict[int, Any] = {}
    since = time.monotonic()

    def settled() -> bool:
        nonlocal seen, since
        heads = {i: network.w3(i).eth.get_block("latest")["hash"] for i in network.running()}
        if heads != seen:
            seen, since = heads, time.monotonic()
        return len(set(heads.values())) == 1 and time.monotonic() - since > settle

    _poll(settled, timeout, "the nodes did not settle on one head")
    return network.heads()[0]


def _reach(network: CliqueNetwork, nodes: Iterable[int], height: int, timeout: float) -> None:
    nodes = list(nodes)

    def reached() -> bool:
        return all(network.heads()[i] >= height for i in nodes)

    _poll(reached, timeout, f"nodes {nodes} did not reach block {height}")


def _peer_counts(network: CliqueNetwork) -> list[int]:
    return [network.w3(i).net.peer_count for i in range(len(network.nodes))]


def _call(network: CliqueNetwork, node: int, method: str, *params: Any) -> Any:
    return network.w3(node).manager.request_blocking(RPCEndpoint(method), list(params))


def _call_all(network: CliqueNetwork, method: str) -> None:
    for i in network.running():
        _call(network, i, method)


def _poll(done: Callable[[], bool], timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure} within {timeout} s")
        time.sleep(0.2)
