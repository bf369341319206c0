"""The soak's verdict on writes: what the gateway acknowledged against the contract events
and pack states on chain, and the gateway's index against the chain."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
from _soak_traffic import Acks

from ledger_client.contracts import Deployment
from ledger_client.events import (
    DecommissionsUndone,
    ItemsReceived,
    ItemsShipped,
    PacksDecommissioned,
    RegistryEvent,
    decode,
)
from ledger_client.gs1 import PackCode
from ledger_client.logs import fetch_logs
from ledger_client.types import ZERO_HASH, PackStatus


def chain_counts(
    w3: Any, deployment: Deployment, first: int, last: int, operator: str
) -> dict[str, Counter[bytes]]:
    """Per pack id, the operator's decommissions, undos, shipments and receipts in blocks
    ``first..last``; per event hash, the contract events anchoring it."""
    counts: dict[str, Counter[bytes]] = {
        k: Counter() for k in ("dispensed", "undone", "shipped", "received", "anchors")
    }
    for event in decode(fetch_logs(w3, deployment, first, last)):
        match event:
            case PacksDecommissioned() if event.by == operator:
                counts["dispensed"].update(event.pack_ids)
            case DecommissionsUndone() if event.by == operator:
                counts["undone"].update(event.pack_ids)
            case ItemsShipped() if event.from_ == operator:
                counts["shipped"].update(event.pack_ids)
            case ItemsReceived() if event.by == operator:
                counts["received"].update(event.pack_ids)
        if isinstance(event, RegistryEvent) and event.event_hash != ZERO_HASH:
            counts["anchors"][event.event_hash] += 1
    return counts


def check_writes(
    acks: Acks, counts: dict[str, Counter[bytes]], states: dict[bytes, PackStatus]
) -> dict[str, int]:
    """Compare what the gateway acknowledged with what the chain shows."""
    lost = doubled = 0
    pairs = [
        (acks.dispensed, counts["dispensed"]),
        (acks.undone, counts["undone"]),
        (acks.shipped, counts["shipped"]),
        (acks.received, counts["received"]),
        (acks.applied_events, counts["anchors"]),
    ]
    for acked, seen in pairs:
        for key in set(acked) | set(seen):
            if key in acks.unsure:
                continue
            lost += max(0, acked[key] - seen[key])
            doubled += max(0, seen[key] - acked[key])
    doubled += sum(n - 1 for n in acks.applied_events.values() if n > 1)
    expected = {pid: acks.final.get(pid, PackStatus.ACTIVE) for pid in states}
    wrong = sum(
        1 for pid, status in states.items() if pid not in acks.unsure and status != expected[pid]
    )
    return {
        "dispenses": sum(acks.dispensed.values()),
        "undos": sum(acks.undone.values()),
        "captured_events": sum(acks.applied_events.values()),
        "duplicate_posts_skipped": acks.duplicates_skipped,
        "lost": lost,
        "doubled": doubled,
        "wrong_final_state": wrong,
        "unsure_packs": len(acks.unsure),
    }


def index_mismatches(
    client: httpx.Client, packs: list[PackCode], statuses: list[PackStatus], block: int
) -> int:
    """Packs whose status the gateway's index gives differently from ``statuses``, the
    chain's (in the order of ``packs``), once the index has reached ``block``."""
    deadline = time.monotonic() + 120
    while client.get("/readyz").json()["checks"]["indexed_block"] < block:
        if time.monotonic() > deadline:
            raise SystemExit(f"the index did not reach block {block}")
        time.sleep(0.2)
    wrong = 0
    for start in range(0, len(packs), 500):
        codes = [f"(01){p.gtin}(21){p.serial}" for p in packs[start : start + 500]]
        results = client.post("/v1/verify", json={"codes": codes}).json()["results"]
        for status, r in zip(statuses[start : start + 500], results, strict=True):
            wrong += r["pack"]["status"] != status.name
    return wrong
