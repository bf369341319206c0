"""The indexer: follows the chain's RxLedger logs into SQL, once, in order, after confirmation.

Each step reads the logs of a range of blocks that are at least ``confirmation_depth`` blocks
below the head, applies their events to the state tables (:class:`IndexProjection`) and moves
the cursor, all in one database transaction. A crash anywhere rolls the whole step back, and
the next run starts again from the cursor stored in SQL. An event already stored (same
transaction hash and log index) is never applied twice, so a node that delivers a range again
changes nothing.

Each step first checks that the blocks already applied are still the chain's: after a reorg
(a fork of the chain undone, e.g. a Clique partition healed) the index is rolled back to the
fork point and the new canonical blocks are indexed from there (:mod:`gateway.reorg`), and
the rollback hooks withdraw what the undone events raised (alerts).

It needs nothing a pruned node lacks: logs, block headers, and contract state only at the
confirmed head (or the latest block). A gateway can therefore start late, from the
deployment block, on any ordinary (non-archive) node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from requests import RequestException
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from web3.exceptions import BlockNotFound, Web3RPCError

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.projection import AppliedEvent, IndexProjection
from gateway.reorg import fork_point, record_blocks, roll_back
from gateway.services.chain import Chain
from ledger_client.events import ChainEvent, decode, project
from ledger_client.logs import raw_logs

log = get_logger("rxledger.indexer")

CURSOR_ID = 1

#: Called inside the indexing transaction with the events just applied (alerts use it).
EventHook = Callable[[Connection, list[AppliedEvent]], None]
#: Called inside the indexing transaction with the step's last block and its block time: the
#: chain's "now" for what falls due without an event (exception deadlines).
TimeHook = Callable[[Connection, int, int], None]
#: Called inside the rollback transaction with the fork point, before the events above it
#: are deleted (alerts withdraw those they raised).
RollbackHook = Callable[[Connection, int], None]
#: Called after every step's transaction committed, with the block the index then stands at
#: (after a range applied, after a rollback, and when there was nothing new): what follows
#: the whole index rather than one batch's events (the live anomaly findings), in its own
#: transactions.
BlockHook = Callable[[int], None]


@dataclass
class Indexer:
    """Follows one deployment's logs into the database behind ``engine``."""

    chain: Chain
    engine: Engine
    confirmation_depth: int
    chunk_blocks: int = 500
    start_block: int = 0
    hooks: Sequence[EventHook] = ()
    rollback_hooks: Sequence[RollbackHook] = ()
    block_hooks: Sequence[BlockHook] = ()
    time_hooks: Sequence[TimeHook] = ()
    _state_block: int = field(default=-1, init=False, repr=False)

    # ------------------------------------------------------------------ cursor

    def cursor(self) -> int:
        """Return the last block whose events are applied (``start_block - 1`` before any)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(m.IndexerCursor.last_block).where(m.IndexerCursor.id == CURSOR_ID)
            ).first()
        return int(row[0]) if row else self.start_block - 1

    # ------------------------------------------------------------------ stepping

    def step(self) -> int:
        """Roll back a reorg, or apply the next range of confirmed blocks; return how many
        blocks it rolled back or covered."""
        head = int(self.chain.w3.eth.block_number)
        undone = self.undo_reorg(head)
        if undone:
            return undone
        safe = head - self.confirmation_depth
        start = self.cursor() + 1
        if start > safe:
            self._save_head(head)
            return 0
        end, end_hash, logs = self._read_range(start, min(safe, start + self.chunk_blocks - 1))
        hashes = {int(entry["blockNumber"]): bytes(entry["blockHash"]) for entry in logs}
        if end_hash is None or hashes.get(end, end_hash) != end_hash:
            return 0  # the chain changed while the range was read: read it again
        if self._hash_at(end) != end_hash:
            return 0
        hashes[end] = end_hash
        self.apply(decode(raw_logs(self.chain.w3, logs)), start, end, head, hashes)
        return end - start + 1

    def _read_range(self, start: int, end: int) -> tuple[int, bytes | None, list[Any]]:
        """Return ``end``, its block hash and the logs of blocks ``start``..``end``. While the
        node refuses the range or its answer breaks off (geth's 30 s HTTP write timeout cuts a
        large answer mid-way), read half as many blocks, and keep the smaller range from then
        on. A single block the node cannot answer raises."""
        while True:
            end_hash = self._hash_at(end)
            try:
                logs = self.chain.w3.eth.get_logs(
                    {"fromBlock": start, "toBlock": end, "address": self.chain.contract_addresses}
                )
                return end, end_hash, list(logs)
            except (Web3RPCError, RequestException):
                if end == start:
                    raise
                self.chunk_blocks = max(1, (end - start + 1) // 2)
                end = start + self.chunk_blocks - 1
                log.warning("log range too large for the node: halved", blocks=self.chunk_blocks)

    def undo_reorg(self, head: int) -> int:
        """If blocks the index applied left the chain, roll the index back to the fork point
        in one transaction (hooks included); return how many blocks it undid (0: none)."""
        with self.engine.begin() as conn:
            fork = fork_point(conn, self._hash_at, self.start_block)
            if fork is None:
                return 0
            cursor = self.cursor_in(conn)
            self._state_block = head - self.confirmation_depth
            for hook in self.rollback_hooks:
                hook(conn, fork)
            dropped = roll_back(conn, fork, self._directory_entry)
            self._move_cursor(conn, fork, head)
        log.warning(
            "chain reorganised: index rolled back to the fork point",
            fork_block=fork,
            undone_blocks=f"{fork + 1}-{cursor}",
            events_dropped=dropped,
        )
        self._at_block(fork)
        return max(1, cursor - fork)

    def apply(
        self,
        events: Sequence[ChainEvent],
        start: int,
        end: int,
        head: int,
        block_hashes: Mapping[int, bytes] | None = None,
    ) -> int:
        """Apply ``events`` of blocks ``start..end`` and move the cursor to ``end``, atomically,
        recording ``block_hashes`` (number -> hash of the blocks read) to see reorgs later.

        Events already stored are skipped; returns how many were new. If another indexer
        wrote the same range first (a unique key says so), nothing of this
        step is kept and 0 is returned: the next step starts again from the stored cursor.
        """
        try:
            return self._apply(events, start, end, head, block_hashes or {})
        except IntegrityError as exc:
            log.warning(
                "indexer step lost a race with another writer; retrying", error=str(exc)[:200]
            )
            return 0

    def _apply(
        self,
        events: Sequence[ChainEvent],
        start: int,
        end: int,
        head: int,
        block_hashes: Mapping[int, bytes],
    ) -> int:
        self._state_block = head - self.confirmation_depth
        with self.engine.begin() as conn:
            stored = self.cursor_in(conn)
            if stored >= end:
                return 0
            known = {
                (bytes(r[0]), r[1])
                for r in conn.execute(
                    select(m.ChainEvent.tx_hash, m.ChainEvent.log_index).where(
                        m.ChainEvent.block_number.between(start, end)
                    )
                )
            }
            fresh = []
            for event in events:
                if (event.tx_hash, event.log_index) not in known:
                    known.add((event.tx_hash, event.log_index))
                    fresh.append(event)
            index = IndexProjection(conn, self._directory_entry)
            project(fresh, index)
            applied = index.applied
            for hook in self.hooks:
                hook(conn, applied)
            if self.time_hooks:
                now = int(self.chain.w3.eth.get_block(end)["timestamp"])
                for time_hook in self.time_hooks:
                    time_hook(conn, end, now)
            record_blocks(conn, block_hashes, end)
            self._move_cursor(conn, end, head)
        self._at_block(end)
        if applied:
            log.info("indexed", blocks=f"{start}-{end}", events=len(applied))
        return len(applied)

    def cursor_in(self, conn: Connection) -> int:
        """Like :meth:`cursor` inside an open transaction."""
        row = conn.execute(
            select(m.IndexerCursor.last_block).where(m.IndexerCursor.id == CURSOR_ID)
        ).first()
        return int(row[0]) if row else self.start_block - 1

    def catch_up(self) -> int:
        """Step until every confirmed block is applied; return the cursor."""
        while self.step():
            pass
        return self.cursor()

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        """Follow the chain until ``stop`` is set; transport errors are logged and retried."""
        while not stop.is_set():
            try:
                advanced = self.step()
            except Exception as exc:  # noqa: BLE001 - the loop must survive node restarts
                log.warning("indexer step failed", error=repr(exc))
                advanced = 0
            if not advanced:
                stop.wait(poll_seconds)

    # ------------------------------------------------------------------ internals

    def _move_cursor(self, conn: Connection, block: int, head: int) -> None:
        now = time.time()
        updated = conn.execute(
            update(m.IndexerCursor)
            .where(m.IndexerCursor.id == CURSOR_ID)
            .values(last_block=block, head_block=head, updated_at=now)
        )
        if updated.rowcount == 0:
            conn.execute(
                insert(m.IndexerCursor).values(
                    id=CURSOR_ID, last_block=block, head_block=head, updated_at=now
                )
            )

    def _hash_at(self, number: int) -> bytes | None:
        try:
            return bytes(self.chain.w3.eth.get_block(number)["hash"])
        except BlockNotFound:
            return None

    def _save_head(self, head: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(m.IndexerCursor)
                .where(m.IndexerCursor.id == CURSOR_ID)
                .values(head_block=head, updated_at=time.time())
            )
            cursor = self.cursor_in(conn)
        self._at_block(cursor)

    def _at_block(self, block: int) -> None:
        for hook in self.block_hooks:
            hook(block)

    def _directory_entry(self, gtin: str) -> tuple[str, Sequence[str]]:
        """Read ``gtin``'s current directory entry (the event does not carry it).

        Read at the confirmed head, never at the event's own block: a node without archive
        state cannot serve old blocks. The directory keeps only each GTIN's newest entry and
        every change emits ``ProductRegistered`` again, so the row converges on the contract's
        entry. A node that keeps no state even for the confirmed head (one just loaded from a
        state file holds only its newest block) is asked for the latest block instead.
        """
        call = self.chain.directory.functions.product(gtin)
        try:
            owner, info = call.call(block_identifier=self._state_block)
        except Web3RPCError:
            owner, info = call.call(block_identifier="latest")
        return owner, info


class IndexerThread:
    """Runs an :class:`Indexer` in a daemon thread until stopped."""

    def __init__(self, indexer: Indexer, poll_seconds: float) -> None:
        self.indexer = indexer
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rxledger-indexer", daemon=True)

    def _run(self) -> None:
        self.indexer.run(self._stop, self.poll_seconds)

    def start(self) -> None:
        """Start following the chain."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current step and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=30)
