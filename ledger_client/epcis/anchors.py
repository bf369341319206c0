"""Which EPCIS event hashes are already anchored on chain, and by which contract events.

Reorgs: the index keeps a cursor, the last block it read and that block's hash, as the
owner's store does (:mod:`ledger_client.epcis.stream`). When the chain's block at the
cursor's height is gone or has another hash (a fork undone, a dev chain restarted behind the
same URL), the index is dropped and read again from the deployment block, so an anchor whose
block left the chain is not taken for done. Events recorded from receipts above the cursor
are provisional: each refresh forgets them and reads their blocks from the chain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

from web3 import Web3

from ledger_client.chain import block_hash
from ledger_client.contracts import Deployment
from ledger_client.events import ChainEvent, RegistryEvent, decode, project
from ledger_client.logs import fetch_logs
from ledger_client.types import ZERO_HASH

__all__ = ["AnchorIndex"]

E = TypeVar("E", bound=RegistryEvent)
Key = tuple[type[RegistryEvent], bytes]


class AnchorIndex:
    """Contract events grouped by the event hash they anchor, followed block by block.

    ``load`` reads the chain from the deployment block; ``refresh`` reads only new blocks,
    or all again after a reorg; ``add`` records the events of a receipt just written, so a
    document that names the same event twice writes it once.
    """

    def __init__(self) -> None:
        self._by_hash: dict[Key, list[RegistryEvent]] = defaultdict(list)
        self._seen: set[tuple[bytes, int]] = set()
        #: Events recorded from receipts, in blocks the index has not read yet.
        self._unread: list[RegistryEvent] = []
        self.next_block = 0
        #: The last block read and its hash (None: nothing read yet).
        self.cursor: tuple[int, bytes] | None = None

    @classmethod
    def load(cls, w3: Web3, deployment: Deployment) -> AnchorIndex:
        """Index every anchored event of ``deployment`` up to the latest block."""
        index = cls()
        index.next_block = deployment.block
        index.refresh(w3, deployment)
        return index

    def refresh(self, w3: Web3, deployment: Deployment) -> None:
        """Index the blocks written since the last read; start again from the deployment
        block if the block at the cursor left the chain."""
        if self.cursor is not None and block_hash(w3, self.cursor[0]) != self.cursor[1]:
            self._by_hash.clear()
            self._seen.clear()
            self._unread.clear()
            self.next_block, self.cursor = deployment.block, None
        self._forget_unread()
        head = w3.eth.get_block("latest")
        latest, latest_hash = int(head["number"]), bytes(head["hash"])
        if latest < self.next_block:
            return
        logs = fetch_logs(w3, deployment, self.next_block, latest)
        if block_hash(w3, latest) != latest_hash:  # a reorg while reading: read again
            self.refresh(w3, deployment)
            return
        self.next_block, self.cursor = latest + 1, (latest, latest_hash)
        self.add(decode(logs))

    def add(self, events: Iterable[ChainEvent]) -> None:
        """Record contract events (duplicates, by transaction and log index, are ignored)."""
        project(events, self)

    def apply(self, event: ChainEvent) -> None:
        """Record one contract event if it anchors an event hash and is new."""
        key = (event.tx_hash, event.log_index)
        if not isinstance(event, RegistryEvent) or event.event_hash == ZERO_HASH:
            return
        if key not in self._seen:
            self._seen.add(key)
            self._by_hash[(type(event), event.event_hash)].append(event)
            if event.block_number >= self.next_block:
                self._unread.append(event)

    def anchored(self, kind: type[E], event_hash: bytes) -> list[E]:
        """Every ``kind`` event that anchored ``event_hash``."""
        return [e for e in self._by_hash.get((kind, event_hash), ()) if isinstance(e, kind)]

    def _forget_unread(self) -> None:
        for event in self._unread:
            self._seen.discard((event.tx_hash, event.log_index))
            self._by_hash[(type(event), event.event_hash)].remove(event)
        self._unread.clear()
