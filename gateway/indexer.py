"""The indexer: follows the chain's RxLedger logs into SQL, once, in order, after confirmation.

Each step reads the logs of a range of blocks that are at least ``confirmation_depth`` blocks
below the head, applies their events to the state tables and moves the cursor, all in one
database transaction. A crash anywhere rolls the whole step back, and the next run starts
again from the cursor stored in SQL. An event already stored (same transaction hash and log
index) is never applied twice, so a node that delivers a range again changes nothing.

It needs nothing a pruned node lacks: logs, block headers, and contract state only at the
confirmed head (or the latest block). A gateway can therefore start late, from the
deployment block, on any ordinary (non-archive) node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from web3 import Web3
from web3.exceptions import Web3RPCError

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.services.chain import Chain
from ledger_client.events import decode_logs
from ledger_client.gs1.dates import end_of_day
from ledger_client.types import ZERO_HASH, LedgerEvent, LotStatus, PackStatus, UnitStatus

log = get_logger("rxledger.indexer")

packs_t = cast(Table, m.Pack.__table__)
units_t = cast(Table, m.Unit.__table__)
CURSOR_ID = 1

#: Called inside the indexing transaction with the events just applied (alerts use it).
EventHook = Callable[[Connection, list["AppliedEvent"]], None]


@dataclass(frozen=True)
class AppliedEvent:
    """An event as applied: the decoded event, its block time and its row id."""

    event: LedgerEvent
    block_time: int
    row_id: int


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _ids(values: Iterable[bytes]) -> list[bytes]:
    return [bytes(v) for v in values]


class Indexer:
    """Follows one deployment's logs into the database behind ``engine``."""

    def __init__(
        self,
        chain: Chain,
        engine: Engine,
        confirmation_depth: int,
        chunk_blocks: int = 500,
        start_block: int = 0,
        hooks: Sequence[EventHook] = (),
    ) -> None:
        self.chain = chain
        self.engine = engine
        self.confirmation_depth = confirmation_depth
        self.chunk_blocks = chunk_blocks
        self.start_block = start_block
        self.hooks = list(hooks)
        self._block_times: dict[int, int] = {}
        self._state_block = -1

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
        """Apply the next range of confirmed blocks; return how many blocks it covered."""
        head = int(self.chain.w3.eth.block_number)
        safe = head - self.confirmation_depth
        start = self.cursor() + 1
        if start > safe:
            self._save_head(head)
            return 0
        end = min(safe, start + self.chunk_blocks - 1)
        logs = sorted(
            self.chain.w3.eth.get_logs(
                {"fromBlock": start, "toBlock": end, "address": self.chain.contract_addresses}
            ),
            key=lambda log: (log["blockNumber"], log["logIndex"]),
        )
        self.apply(decode_logs(self.chain.w3, logs), start, end, head)
        return end - start + 1

    def apply(self, events: Sequence[LedgerEvent], start: int, end: int, head: int) -> int:
        """Apply ``events`` of blocks ``start..end`` and move the cursor to ``end``, atomically.

        Events already stored are skipped; returns how many were new. If another indexer
        wrote the same range first (a unique key says so), nothing of this
        step is kept and 0 is returned: the next step starts again from the stored cursor.
        """
        try:
            return self._apply(events, start, end, head)
        except IntegrityError as exc:
            log.warning(
                "indexer step lost a race with another writer; retrying", error=str(exc)[:200]
            )
            return 0

    def _apply(self, events: Sequence[LedgerEvent], start: int, end: int, head: int) -> int:
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
            applied = []
            for event in events:
                if (event.tx_hash, event.log_index) in known:
                    continue
                known.add((event.tx_hash, event.log_index))
                applied.append(self._apply_one(conn, event))
            for hook in self.hooks:
                hook(conn, applied)
            self._move_cursor(conn, end, head)
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

    def _save_head(self, head: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(m.IndexerCursor)
                .where(m.IndexerCursor.id == CURSOR_ID)
                .values(head_block=head, updated_at=time.time())
            )

    def _block_time(self, number: int) -> int:
        if number not in self._block_times:
            if len(self._block_times) > 10_000:
                self._block_times.clear()
            self._block_times[number] = int(self.chain.w3.eth.get_block(number)["timestamp"])
        return self._block_times[number]

    def _apply_one(self, conn: Connection, event: LedgerEvent) -> AppliedEvent:
        args = event.args
        block_time = self._block_time(event.block_number)
        actor = args.get("by") or args.get("from") or args.get("owner") or args.get("account")
        event_hash = args.get("eventHash")
        row_id = conn.execute(
            insert(m.ChainEvent)
            .values(
                block_number=event.block_number,
                block_time=block_time,
                tx_hash=event.tx_hash,
                log_index=event.log_index,
                name=event.name,
                actor=actor,
                event_hash=bytes(event_hash) if event_hash and event_hash != ZERO_HASH else None,
                args={k: _jsonable(v) for k, v in args.items()},
            )
            .returning(m.ChainEvent.id)
        ).scalar_one()
        handler = getattr(self, f"_on_{event.name}", None)
        if handler is not None:
            items = handler(conn, event, block_time)
            if items:
                conn.execute(
                    insert(m.EventItem),
                    [{"event_id": row_id, "item_id": i, "kind": k} for i, k in items],
                )
        return AppliedEvent(event, block_time, row_id)

    # ---------------------------------------------------- lots

    def _on_LotRegistered(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        lot, expiry = bytes(e.args["lotId"]), int(e.args["expiry"])
        conn.execute(
            insert(m.Lot).values(
                lot_id=lot,
                owner=e.args["owner"],
                expiry=expiry,
                expires_at=end_of_day(expiry),
                status=int(LotStatus.ACTIVE),
            )
        )
        return [(lot, "lot")]

    def _on_LotStatusChanged(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        lot = bytes(e.args["lotId"])
        conn.execute(update(m.Lot).where(m.Lot.lot_id == lot).values(status=int(e.args["status"])))
        return [(lot, "lot")]

    # ---------------------------------------------------- packs and units

    def _upsert_container(self, conn: Connection, unit: bytes, by: str, level: int) -> None:
        row = conn.execute(select(m.Unit.level).where(m.Unit.unit_id == unit)).first()
        if row is None:
            conn.execute(
                insert(m.Unit).values(
                    unit_id=unit,
                    status=int(UnitStatus.ACTIVE),
                    level=level,
                    parent=None,
                    custodian=by,
                    pending_to=None,
                )
            )
        else:
            conn.execute(
                update(m.Unit)
                .where(m.Unit.unit_id == unit)
                .values(parent=None, custodian=by, level=max(level, int(row[0])))
            )

    def _set_packs(self, conn: Connection, ids: list[bytes], **values: Any) -> None:
        if ids:
            conn.execute(
                packs_t.update().where(packs_t.c.pack_id == bindparam("b_id")).values(**values),
                [{"b_id": i} for i in ids],
            )

    def _set_units(self, conn: Connection, ids: list[bytes], **values: Any) -> None:
        if ids:
            conn.execute(
                units_t.update().where(units_t.c.unit_id == bindparam("b_id")).values(**values),
                [{"b_id": i} for i in ids],
            )

    def _on_PacksCommissioned(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        lot, unit, by = bytes(e.args["lotId"]), bytes(e.args["unitId"]), e.args["by"]
        ids = _ids(e.args["packIds"])
        parent = None if unit == ZERO_HASH else unit
        if parent is not None:
            self._upsert_container(conn, parent, by, 1)
        conn.execute(
            insert(m.Pack),
            [
                {
                    "pack_id": i,
                    "lot_id": lot,
                    "status": int(PackStatus.ACTIVE),
                    "reason": 0,
                    "flags": 0,
                    "flag_reason": 0,
                    "decommissioned_at": 0,
                    "parent": parent,
                    "custodian": None if parent else by,
                    "pending_to": None,
                }
                for i in ids
            ],
        )
        items = [(i, "pack") for i in ids] + [(lot, "lot")]
        return items + ([(parent, "container")] if parent else [])

    def _on_ItemsPacked(self, conn: Connection, e: LedgerEvent, _t: int) -> list[tuple[bytes, str]]:
        unit, by = bytes(e.args["unitId"]), e.args["by"]
        packs, units = _ids(e.args["packIds"]), _ids(e.args["unitIds"])
        level = 1
        if units:
            levels = conn.execute(select(m.Unit.level).where(m.Unit.unit_id.in_(units))).scalars()
            level = max([1, *(lv + 1 for lv in levels)])
        self._upsert_container(conn, unit, by, level)
        self._set_packs(conn, packs, parent=unit, custodian=None)
        self._set_units(conn, units, parent=unit, custodian=None)
        return [(i, "pack") for i in packs] + [(i, "unit") for i in units] + [(unit, "container")]

    def _on_ItemsUnpacked(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        unit, by = bytes(e.args["unitId"]), e.args["by"]
        packs, units = _ids(e.args["packIds"]), _ids(e.args["unitIds"])
        self._set_packs(conn, packs, parent=None, custodian=by)
        self._set_units(conn, units, parent=None, custodian=by)
        return [(i, "pack") for i in packs] + [(i, "unit") for i in units] + [(unit, "container")]

    def _on_UnitsDissolved(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        units = _ids(e.args["unitIds"])
        self._set_units(
            conn, units, parent=None, custodian=e.args["by"], status=int(UnitStatus.DISSOLVED)
        )
        return [(i, "container") for i in units]

    def _on_ItemsShipped(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        packs, units = _ids(e.args["packIds"]), _ids(e.args["unitIds"])
        sender, to = e.args["from"], e.args["to"]
        self._set_packs(
            conn,
            packs,
            parent=None,
            custodian=sender,
            status=int(PackStatus.IN_TRANSIT),
            pending_to=to,
        )
        self._set_units(
            conn,
            units,
            parent=None,
            custodian=sender,
            status=int(UnitStatus.IN_TRANSIT),
            pending_to=to,
        )
        return [(i, "pack") for i in packs] + [(i, "container") for i in units]

    def _on_ItemsReceived(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        packs, units, by = _ids(e.args["packIds"]), _ids(e.args["unitIds"]), e.args["by"]
        self._set_packs(conn, packs, custodian=by, status=int(PackStatus.ACTIVE), pending_to=None)
        self._set_units(conn, units, custodian=by, status=int(UnitStatus.ACTIVE), pending_to=None)
        return [(i, "pack") for i in packs] + [(i, "container") for i in units]

    def _on_PacksDecommissioned(
        self, conn: Connection, e: LedgerEvent, t: int
    ) -> list[tuple[bytes, str]]:
        packs = _ids(e.args["packIds"])
        self._set_packs(
            conn,
            packs,
            custodian=e.args["by"],
            parent=None,
            status=int(PackStatus.DECOMMISSIONED),
            reason=int(e.args["reason"]),
            decommissioned_at=t,
        )
        return [(i, "pack") for i in packs]

    def _on_DecommissionsUndone(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        packs = _ids(e.args["packIds"])
        self._set_packs(conn, packs, status=int(PackStatus.ACTIVE), reason=0, decommissioned_at=0)
        return [(i, "pack") for i in packs]

    def _on_PacksFlagged(
        self, conn: Connection, e: LedgerEvent, _t: int
    ) -> list[tuple[bytes, str]]:
        packs = _ids(e.args["packIds"])
        self._set_packs(
            conn, packs, flags=int(e.args["flags"]), flag_reason=int(e.args["reasonCode"])
        )
        return [(i, "pack") for i in packs]

    # ---------------------------------------------------- consortium and directory

    def _on_MemberAdded(self, conn: Connection, e: LedgerEvent, _t: int) -> None:
        a = e.args
        conn.execute(
            insert(m.Member).values(
                address=a["account"],
                index=int(a["index"]),
                gln=str(a["gln"]).zfill(13),
                roles=int(a["roles"]),
                status=1,
                licence_expiry=int(a["licenceExpiry"]),
            )
        )

    def _on_MemberStatusChanged(self, conn: Connection, e: LedgerEvent, _t: int) -> None:
        conn.execute(
            update(m.Member)
            .where(m.Member.address == e.args["account"])
            .values(status=int(e.args["status"]))
        )

    def _on_MemberRolesChanged(self, conn: Connection, e: LedgerEvent, _t: int) -> None:
        conn.execute(
            update(m.Member)
            .where(m.Member.address == e.args["account"])
            .values(roles=int(e.args["roles"]))
        )

    def _on_MemberLicenceChanged(self, conn: Connection, e: LedgerEvent, _t: int) -> None:
        conn.execute(
            update(m.Member)
            .where(m.Member.address == e.args["account"])
            .values(licence_expiry=int(e.args["licenceExpiry"]))
        )

    def _on_PrefixAssigned(self, conn: Connection, e: LedgerEvent, _t: int) -> None:
        conn.execute(delete(m.Prefix).where(m.Prefix.prefix == e.args["prefix"]))
        conn.execute(insert(m.Prefix).values(prefix=e.args["prefix"], owner=e.args["account"]))

    def _on_PrefixRevoked(self, conn: Connection, e: LedgerEvent, _t: int) -> None:
        conn.execute(delete(m.Prefix).where(m.Prefix.prefix == e.args["prefix"]))

    def _on_ProductRegistered(self, conn: Connection, e: LedgerEvent, _t: int) -> None:
        gtin = e.args["gtin14"]
        owner, info = self._directory_entry(gtin)
        conn.execute(delete(m.Product).where(m.Product.gtin == gtin))
        conn.execute(
            insert(m.Product).values(
                gtin=gtin,
                owner=Web3.to_checksum_address(owner),
                name=info[0],
                strength=info[1],
                dosage_form=info[2],
                ndc=info[3],
                gateway_url=info[4],
            )
        )

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
