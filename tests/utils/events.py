"""Find and read events in transaction receipts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledger_client.events import ChainEvent
from ledger_client.types import Receipt


def only_event(receipts: Receipt | Iterable[Receipt]) -> ChainEvent:
    """The single event of ``receipts``; fails when there are more or none."""
    items = [receipts] if isinstance(receipts, Receipt) else list(receipts)
    found = [e for r in items for e in r.events]
    assert len(found) == 1, [e.name for e in found]
    return found[0]


def normalised(args: dict[str, Any]) -> dict[str, Any]:
    """Event args with bytes-like values as ``bytes`` and lists as lists of ``bytes``."""

    def norm(v: Any) -> Any:
        if isinstance(v, (bytes, bytearray)):
            return bytes(v)
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        return v

    return {k: norm(v) for k, v in args.items()}
