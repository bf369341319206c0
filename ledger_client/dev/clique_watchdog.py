"""A watchdog that ends Clique's fork deadlock on a :class:`CliqueNetwork`.

Clique lets a signer seal at most one of every ``len(signers) // 2 + 1`` consecutive blocks.
When signers seal out of turn, the nodes can end on two forks that none of them leaves (of
equal total difficulty, or heavier but missing a block the others dropped) where every
signer that may still seal on one fork sits on the other: nobody seals again (go-ethereum
issue #24705; EIP-3436 proposed a fork-choice rule against it, never adopted). An operator
ends it by rewinding the nodes of one fork to the common ancestor (``debug_setHead``) so
that they sync the other fork, where their signers may seal. The watchdog does the same: once no
head has moved for ``stall_after`` seconds while nodes that are peered disagree on the
head, it keeps the heaviest fork (then the one most nodes hold, then the lowest node) and
rewinds the peered nodes of every other fork (a node whose head is on the kept chain is only
behind, and is left to catch up), each with its sealing paused until it holds
the kept head. Nodes that are not peered with the kept fork (a partition) are left alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from web3 import Web3
from web3.types import RPCEndpoint

from ledger_client.chain import connect

if TYPE_CHECKING:
    from ledger_client.dev.clique import CliqueNetwork, GethNode

log = logging.getLogger(__name__)

#: How long a rewound node may take to sync the kept fork (geth retries a sync every 10 s).
RESYNC_TIMEOUT = 60.0


@dataclass(frozen=True)
class Head:
    """A node's latest block."""

    number: int
    hash: bytes
    total_difficulty: int


@dataclass(frozen=True)
class Rewind:
    """One intervention: ``nodes`` (names) rewound to block ``ancestor`` to follow the fork
    whose head was ``kept`` (block ``kept_number``)."""

    nodes: tuple[str, ...]
    ancestor: int
    kept: bytes
    kept_number: int


class CliqueWatchdog:
    """Polls every running node of ``network`` each ``poll`` seconds in a background thread
    and rewinds one side of a deadlock (see the module docstring); :attr:`rewinds` records
    what it did."""

    def __init__(
        self, network: CliqueNetwork, stall_after: float | None = None, poll: float = 1.0
    ) -> None:
        self.network = network
        self.stall_after = stall_after if stall_after is not None else 5.0 * network.period
        self.poll = poll
        self.rewinds: list[Rewind] = []
        self._w3: dict[str, Web3] = {}
        self._last: dict[int, Head] = {}
        self._since = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching (a stall counts from now)."""
        self._last, self._since = {}, time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="clique-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; wait for a rewind in progress to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def check(self) -> Rewind | None:
        """Read every running node's head once; rewind a fork if the network is deadlocked."""
        heads = {i: self._head(i) for i in self.network.running()}
        now = time.monotonic()
        if heads != self._last:
            self._last, self._since = heads, now
            return None
        forks: dict[bytes, list[int]] = defaultdict(list)
        for i, head in heads.items():
            forks[head.hash].append(i)
        if now - self._since < self.stall_after or len(forks) < 2:
            return None
        self._since = now  # act again only after another stall_after
        kept = max(
            forks, key=lambda h: (heads[forks[h][0]].total_difficulty, len(forks[h]), -forks[h][0])
        )
        anchor = forks[kept][0]
        peered = self._peered(forks[kept])
        losers = [
            i
            for h, nodes in forks.items()
            if h != kept
            for i in nodes
            if i in peered and not self._behind_on(i, anchor, heads)
        ]
        if not losers:
            return None
        return self._rewind(losers, anchor, heads)

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.check()
            except Exception as exc:  # a node restarting, or stopped under us
                log.debug("clique watchdog: poll failed: %r", exc)

    def _rewind(self, losers: Sequence[int], anchor: int, heads: dict[int, Head]) -> Rewind:
        kept = heads[anchor]
        ancestor = min(self._common_ancestor(i, anchor, heads) for i in losers)
        rewind = Rewind(
            tuple(self.network.nodes[i].name for i in losers), ancestor, kept.hash, kept.number
        )
        log.warning(
            "clique deadlock: heads (number, hash, total difficulty) %s; "
            "rewinding %s to block %d to follow %s",
            {
                self.network.nodes[i].name: (h.number, h.hash.hex()[:8], h.total_difficulty)
                for i, h in heads.items()
            },
            ", ".join(rewind.nodes),
            ancestor,
            kept.hash.hex()[:8],
        )
        enode = self.network.nodes[anchor].enode
        try:
            for i in losers:
                self._call(i, "miner_stop")
                self._call(i, "debug_setHead", hex(ancestor))
                # geth looks for a heavier peer when one connects or announces a block (and
                # none is sealed): reconnect one.
                self._call(i, "admin_removePeer", enode)
                self._call(i, "admin_addPeer", enode)
            deadline = time.monotonic() + RESYNC_TIMEOUT
            pending = set(losers)
            while pending and time.monotonic() < deadline and not self._stop.wait(0.2):
                pending = {i for i in pending if not self._holds(i, kept)}
            if pending:
                names = ", ".join(self.network.nodes[i].name for i in sorted(pending))
                log.warning("clique watchdog: %s did not sync the kept fork", names)
        finally:
            for i in losers:  # sealing resumes even if a node failed us midway
                try:
                    self._call(i, "miner_start")
                except Exception as exc:  # a node that stopped: it seals when restarted
                    name = self.network.nodes[i].name
                    log.warning("clique watchdog: cannot resume sealing on %s: %r", name, exc)
        self.rewinds.append(rewind)
        return rewind

    def _common_ancestor(self, node: int, anchor: int, heads: dict[int, Head]) -> int:
        number = min(heads[node].number, heads[anchor].number)
        while number > 0 and self._hash(node, number) != self._hash(anchor, number):
            number -= 1
        return number

    def _behind_on(self, node: int, anchor: int, heads: dict[int, Head]) -> bool:
        """True when ``node``'s head is a block of ``anchor``'s chain: it is catching up (a
        follower importing heavy blocks on a loaded machine), not on a fork."""
        head = heads[node]
        return head.number <= heads[anchor].number and self._hash(anchor, head.number) == head.hash

    def _holds(self, node: int, kept: Head) -> bool:
        """True once ``node`` has the kept head's block on its canonical chain."""
        head = self._head(node)
        return head.number >= kept.number and self._hash(node, kept.number) == kept.hash

    def _peered(self, nodes: Sequence[int]) -> set[int]:
        """The nodes connected to any of ``nodes`` (by their p2p public keys)."""
        by_key = {n.public_key: i for i, n in enumerate(self.network.nodes)}
        peered: set[int] = set()
        for i in nodes:
            for peer in self._call(i, "admin_peers"):
                key = peer["enode"].removeprefix("enode://").split("@")[0]
                if key in by_key:
                    peered.add(by_key[key])
        return peered

    def _head(self, node: int) -> Head:
        block = self._web3(node).eth.get_block("latest")
        return Head(block["number"], bytes(block["hash"]), int(block["totalDifficulty"]))

    def _hash(self, node: int, number: int) -> bytes:
        return bytes(self._web3(node).eth.get_block(number)["hash"])

    def _call(self, node: int, method: str, *params: Any) -> Any:
        return self._web3(node).manager.request_blocking(RPCEndpoint(method), list(params))

    def _web3(self, node: int) -> Web3:
        geth: GethNode = self.network.nodes[node]
        if geth.url not in self._w3:
            self._w3[geth.url] = connect(geth.url, timeout=10)
        return self._w3[geth.url]
