"""Which EPCIS event hashes are already anchored on chain, and by which contract events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

from web3 import Web3

from ledger_client.contracts import Deployment
from ledger_client.events import ChainEvent, RegistryEvent, decode, project
from ledger_client.logs import fetch_logs
from ledger_client.types import ZERO_HASH

__all__ = ["AnchorIndex"]

E = TypeVar("E", bound=RegistryEvent)


class AnchorIndex:
    """Contract events grouped by the event hash they anchor, followed block by block.

    ``load`` reads the chain from the deployment block; ``refresh`` reads only new blocks;
    ``add`` records the events of a receipt just written, so a document that names the
    same event twice writes it once.
    """

    def __init__(self) -> None:
        self._by_hash: dict[tuple[type[RegistryEvent], bytes], list[RegistryEvent]] = defaultdict(
            list
        )
        self._seen: set[tuple[bytes, int]] = set()
        self.next_block = 0

    @classmethod
    def load(cls, w3: Web3, deployment: Deployment) -> AnchorIndex:
        """Index every anchored event of ``deployment`` up to the latest block."""
        index = cls()
        index.next_block = deployment.block
        index.refresh(w3, deployment)
        return index

    def refresh(self, w3: Web3, deployment: Deployment) -> None:
        """Index the blocks written since the last load or refresh."""
        latest = w3.eth.block_number
        if latest >= self.next_block:
            self.add(decode(fetch_logs(w3, deployment, self.next_block, latest)))
            self.next_block = latest + 1

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

    def anchored(self, kind: type[E], event_hash: bytes) -> list[E]:
        """Every ``kind`` event that anchored ``event_hash``."""
        return [e for e in self._by_hash.get((kind, event_hash), ()) if isinstance(e, kind)]
