"""Which EPCIS event hashes are already anchored on chain, and by which contract events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from web3 import Web3

from ledger_client.contracts import Deployment
from ledger_client.logs import iter_events
from ledger_client.types import ZERO_HASH, LedgerEvent

__all__ = ["AnchorIndex"]


class AnchorIndex:
    """Contract events grouped by the event hash they anchor, followed block by block.

    ``load`` reads the chain from the deployment block; ``refresh`` reads only new blocks;
    ``add`` records the events of a receipt just written, so a document that names the
    same event twice writes it once.
    """

    def __init__(self) -> None:
        self._by_hash: dict[tuple[str, bytes], list[dict[str, Any]]] = defaultdict(list)
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
            self.add(iter_events(w3, deployment, self.next_block, latest))
            self.next_block = latest + 1

    def add(self, events: Iterable[LedgerEvent]) -> None:
        """Record contract events (duplicates, by transaction and log index, are ignored)."""
        for event in events:
            key = (event.tx_hash, event.log_index)
            eh = event.args.get("eventHash")
            if key in self._seen or not eh or bytes(eh) == ZERO_HASH:
                continue
            self._seen.add(key)
            self._by_hash[(event.name, bytes(eh))].append(event.args)

    def anchored(self, name: str, event_hash: bytes) -> list[dict[str, Any]]:
        """The arguments of every ``name`` event that anchored ``event_hash``."""
        return list(self._by_hash.get((name, event_hash), ()))

    def ids(self, name: str, event_hash: bytes, field: str, **match: bytes) -> set[bytes]:
        """Union of the id list ``field`` of ``name`` events anchoring ``event_hash`` whose
        other arguments equal ``match`` (e.g. ``lotId=...``)."""
        found: set[bytes] = set()
        for args in self.anchored(name, event_hash):
            if all(bytes(args[key]) == value for key, value in match.items()):
                found.update(bytes(i) for i in args[field])
        return found
