"""The deployment's event stream as the owner's store keeps it, for exports and DSCSA TI/TS.

An EPCIS export or a TI/TS is a projection of one subject (a pack, a lot, a shipment) over
the whole stream, so what a later run can reuse is the stream itself: the store holds a
copy of the deployment's logs and a cursor (the last block copied and its hash); each run
reads from the chain only the blocks after the cursor, then replays the copy.

Reorgs and other chains: when the chain's block at the cursor's height is gone or has
another hash (a reorg, or a dev chain restarted behind the same URL), or the copy is of
another deployment (chain id or registry address), the copy is dropped and rebuilt from
the deployment's first block. Simple and correct: a reorg below the cursor changes the
cursor block's hash too, reorgs are rare (QBFT finalises every block; dev chains revert),
and a rebuild costs one full read, what every run cost before.
"""

from __future__ import annotations

from collections.abc import Iterable

from web3 import Web3

from ledger_client.chain import block_hash
from ledger_client.contracts import Deployment
from ledger_client.epcis.store import ChainCursor, EventStore
from ledger_client.events import ChainEvent, decode
from ledger_client.logs import fetch_logs

__all__ = ["chain_events", "sync"]


def sync(w3: Web3, deployment: Deployment, store: EventStore) -> None:
    """Bring ``store``'s copy of the deployment's logs up to the chain's latest block."""
    head = w3.eth.get_block("latest")
    key = (int(w3.eth.chain_id), Web3.to_checksum_address(deployment.registry))
    cursor = store.chain_cursor()
    rebuild = (
        cursor is None
        or (cursor.chain_id, cursor.registry) != key
        or block_hash(w3, cursor.block_number) != cursor.block_hash
    )
    start = deployment.block if rebuild or cursor is None else cursor.block_number + 1
    end = int(head["number"])
    logs = fetch_logs(w3, deployment, start, end) if start <= end else []
    if block_hash(w3, end) == bytes(head["hash"]):
        store.save_chain_logs(logs, ChainCursor(*key, end, bytes(head["hash"])), replace=rebuild)
    else:  # a reorg while reading: read again
        sync(w3, deployment, store)


def chain_events(
    w3: Web3, deployment: Deployment, store: EventStore | None
) -> Iterable[ChainEvent]:
    """The deployment's events in chain order: ``store``'s copy brought up to date, or read
    from the chain when there is no store."""
    if store is None:
        return decode(fetch_logs(w3, deployment))
    sync(w3, deployment, store)
    return decode(store.chain_logs())
