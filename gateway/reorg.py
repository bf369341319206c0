"""Reorgs: seeing that blocks the index applied left the chain, and rolling the index back.

The index records the hash of each step's last block and of every block whose events it
applied (``indexed_blocks``), for the newest :data:`KEPT_BLOCKS` blocks below its cursor.
The indexed chain is still canonical while the newest recorded block is; when it is not, the
fork point is the newest recorded block that still is (a block on the chain has all its
ancestors on it, so a binary search finds it), or the first block when none is (a reorg
deeper than the kept hashes, a dev chain restarted behind the same URL).

Rolling back is one database transaction: the stored events above the fork point are
deleted, and the state tables are rebuilt by applying the stored events below it again,
without the chain. A crash leaves the index as it was; the next step sees the fork again.
Its cost is that of re-projecting every stored event (measured in docs/gateway.md); reorgs
are rare, a few blocks deep on Clique, and never happen on QBFT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Connection, delete, func, insert, select

from gateway.db import models as m
from gateway.projection import DirectoryEntry, IndexProjection, event_of

#: How many blocks below the cursor keep their recorded hash: deeper forks rebuild it all.
KEPT_BLOCKS = 4096
#: Events read back per query while rebuilding the state tables.
REPLAY_BATCH = 5000
#: The state tables, rebuilt from the stored events.
STATE_TABLES = (
    m.Pack,
    m.Unit,
    m.Lot,
    m.Member,
    m.Prefix,
    m.Product,
    m.AccessGrant,
    m.ExceptionCase,
)

#: The hash of the chain's block at a height, None when the chain is shorter.
HashAt = Callable[[int], bytes | None]


def record_blocks(conn: Connection, hashes: Mapping[int, bytes], cursor: int) -> None:
    """Record the hashes of blocks just applied; forget those :data:`KEPT_BLOCKS` below
    ``cursor``."""
    if hashes:
        conn.execute(delete(m.IndexedBlock).where(m.IndexedBlock.number.in_(list(hashes))))
        conn.execute(insert(m.IndexedBlock), [{"number": n, "hash": h} for n, h in hashes.items()])
    conn.execute(delete(m.IndexedBlock).where(m.IndexedBlock.number < cursor - KEPT_BLOCKS))


def fork_point(conn: Connection, hash_at: HashAt, first_block: int) -> int | None:
    """None while the newest recorded block is on the chain; otherwise the newest recorded
    block that is (``first_block - 1`` when none is): what the index must roll back to."""
    rows = list(conn.execute(select(m.IndexedBlock.number, m.IndexedBlock.hash)))
    if not rows:
        return None
    rows.sort()

    def canonical(i: int) -> bool:
        return hash_at(int(rows[i][0])) == bytes(rows[i][1])

    if canonical(len(rows) - 1):
        return None
    low, high = 0, len(rows) - 1  # rows[high] is off the chain; find the last row that is on
    if not canonical(low):
        return first_block - 1
    while high - low > 1:
        middle = (low + high) // 2
        if canonical(middle):
            low = middle
        else:
            high = middle
    return int(rows[low][0])


def roll_back(conn: Connection, fork: int, directory_entry: DirectoryEntry) -> int:
    """Delete the stored events above block ``fork`` and rebuild the state tables from those
    left; return how many events were deleted. Runs in the caller's transaction."""
    gone = conn.execute(
        select(func.count()).select_from(m.ChainEvent).where(m.ChainEvent.block_number > fork)
    ).scalar_one()
    above = select(m.ChainEvent.id).where(m.ChainEvent.block_number > fork)
    conn.execute(delete(m.EventItem).where(m.EventItem.event_id.in_(above)))
    conn.execute(delete(m.ChainEvent).where(m.ChainEvent.block_number > fork))
    conn.execute(delete(m.IndexedBlock).where(m.IndexedBlock.number > fork))
    for table in STATE_TABLES:
        conn.execute(delete(table))
    index = IndexProjection(conn, directory_entry)
    last = 0
    while True:
        rows = list(
            conn.execute(
                select(m.ChainEvent)
                .where(m.ChainEvent.id > last)
                .order_by(m.ChainEvent.id)
                .limit(REPLAY_BATCH)
            )
        )
        if not rows:
            return int(gone)
        for row in rows:
            index.restate(event_of(row))  # type: ignore[arg-type]
        last = rows[-1].id
