"""Events built by hand, for models replayed from crafted histories."""

from __future__ import annotations

from ledger_client.events import EVENT_TYPES, ChainEvent, RegistryEvent
from ledger_client.events.schema import field_name

CLASSES = {cls.name: cls for classes in EVENT_TYPES.values() for cls in classes}


def crafted(name: str, ts: int, n: int, tx: int | None = None, **args: object) -> ChainEvent:
    """Event ``name`` with ``args`` under their ABI names, in block ``n`` at time ``ts``, in
    transaction ``tx`` (default: one of its own, numbered ``n``)."""
    cls = CLASSES[name]
    fields = {field_name(k): tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    if issubclass(cls, RegistryEvent):
        fields.setdefault("event_hash", bytes(32))
    tx_hash = (n if tx is None else tx).to_bytes(32, "big")
    return cls(block_number=n, timestamp=ts, tx_hash=tx_hash, log_index=0, **fields)
