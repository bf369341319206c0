"""Reads of the SQL index: the state the indexer built from confirmed chain events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Engine, select

from gateway.db import models as m
from gateway.indexer import CURSOR_ID
from gateway.services.standing import STRANGER, Standing
from ledger_client.contracts import MemberStatus, Role
from ledger_client.owners import CodeOwners, longest_prefix_owner
from ledger_client.rules import top_holder
from ledger_client.types import PackStatus, UnitStatus


@dataclass(frozen=True)
class PackRecord:
    """A pack and its lot, with custody resolved through its units."""

    pack_id: bytes
    status: int
    reason: int
    flags: int
    flag_reason: int
    decommissioned_at: int
    lot_id: bytes
    lot_tag: bytes
    lot_owner: str
    lot_expiry: int
    lot_expires_at: int
    lot_status: int
    parent: bytes | None
    custodian: str | None
    pending_to: str | None
    in_transit: bool
    lost: bool = False


@dataclass(frozen=True)
class MemberRecord:
    """A member as indexed."""

    address: str
    index: int
    gln: str
    roles: int
    status: int
    licence_expiry: int = 0


@dataclass(frozen=True)
class ProductRecord:
    """A product directory entry as indexed."""

    gtin: str
    owner: str
    name: str
    strength: str
    dosage_form: str
    ndc: str
    gateway_url: str


_PACK_SQL = (
    "SELECT p.status, p.reason, p.flags, p.flag_reason, p.decommissioned_at, p.lot_id, l.owner, "
    "l.expiry, l.expires_at, l.status, p.parent, p.custodian, p.pending_to, p.lot_tag "
    "FROM packs p JOIN lots l ON l.lot_id = p.lot_id WHERE p.pack_id = ?"
)
_UNIT_SQL = "SELECT status, parent, custodian, pending_to FROM units WHERE unit_id = ?"


class UnitRow(NamedTuple):
    """A unit as indexed: what the custody walk reads."""

    status: int
    parent: bytes | None
    custodian: str | None
    pending_to: str | None


#: A unit the index names as a parent but does not hold: nobody's custody.
_UNKNOWN_UNIT = UnitRow(UnitStatus.NONE, None, None, None)


def custody_unit(unit: bytes, load: Callable[[bytes], UnitRow | None]) -> UnitRow | None:
    """The unit whose custodian holds what sits in ``unit`` (:func:`top_holder`), its rows
    read through ``load``; None when the index does not know ``unit``."""

    def parent(row: UnitRow) -> UnitRow | None:
        return None if row.parent is None else load(row.parent) or _UNKNOWN_UNIT

    start = load(unit)
    return None if start is None else top_holder(start, parent)


class IndexedOwners(CodeOwners):
    """The prefix owners as the index holds them (as of the read model's last refresh)."""

    def __init__(self, readmodel: ReadModel) -> None:
        super().__init__()
        self._readmodel = readmodel

    def index(self, code: str) -> int:
        """Return the member index owning the prefix of GTIN-14 or SSCC-18 ``code`` (0: none)."""
        owner = self._readmodel.prefix_owner(code)
        return self.member_index(owner) if owner else 0

    def member_index(self, address: str) -> int:
        """The member index of account ``address`` as the index holds it (0: none)."""
        member = self._readmodel.member(address)
        return member.index if member else 0


class ReadModel:
    """Typed queries on the index, with the small tables (prefixes, products, members) cached
    per indexed block so they cost nothing on the hot path. ``owners`` gives the ids of
    codes' genuine records from the same tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._cache_block: tuple[int, bytes | None] = (-2, None)
        self._cursor_hash: bytes | None = None
        self._local = threading.local()
        self._paramstyle = engine.dialect.paramstyle
        self._cursor = -1
        self._cursor_read_at = -1e9
        self._prefixes: dict[str, str] = {}
        self._products: dict[str, ProductRecord] = {}
        self._members: dict[str, MemberRecord] = {}
        self.owners = IndexedOwners(self)

    # ------------------------------------------------------------------ cursor and caches

    def indexed_block(self, max_age: float = 0.05) -> int:
        """Return the last indexed block (-1 before the first step), re-read at most every
        ``max_age`` seconds so the hot path does not query it on every request."""
        now = time.monotonic()
        if now - self._cursor_read_at > max_age:
            row = self._one(
                "SELECT c.last_block, b.hash FROM indexer_cursor c"
                " LEFT JOIN indexed_blocks b ON b.number = c.last_block WHERE c.id = ?",
                CURSOR_ID,
            )
            self._cursor = int(row[0]) if row else -1
            self._cursor_hash = bytes(row[1]) if row and row[1] is not None else None
            self._cursor_read_at = now
        return self._cursor

    def head_block(self) -> int:
        """Return the chain head the indexer saw last (-1 before the first step)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(m.IndexerCursor.head_block).where(m.IndexerCursor.id == CURSOR_ID)
            ).first()
        return int(row[0]) if row else -1

    def refresh(self, block: int) -> None:
        """Reload the small tables if the index moved from the block they were read at (past
        it, or to another block at its height after a reorg)."""
        key = (block, self._cursor_hash)
        if key == self._cache_block:
            return
        with self._lock, self.engine.connect() as conn:
            if key == self._cache_block:
                return
            self._prefixes = {
                p: o for p, o in conn.execute(select(m.Prefix.prefix, m.Prefix.owner))
            }
            self._products = {
                r.gtin: ProductRecord(
                    r.gtin, r.owner, r.name, r.strength, r.dosage_form, r.ndc, r.gateway_url
                )
                for r in conn.execute(select(m.Product))
            }
            self._members = {
                r.address: MemberRecord(
                    r.address,
                    r._mapping["index"],  # r.index is the tuple's method
                    r.gln,
                    r.roles,
                    r.status,
                    int(r.licence_expiry or 0),
                )
                for r in conn.execute(select(m.Member))
            }
            self._cache_block = key

    def prefix_owner(self, code: str) -> str | None:
        """Return the member owning the company prefix of GTIN-14 or SSCC-18 ``code``, longest
        prefix first (as on chain)."""
        return longest_prefix_owner(self._prefixes, code)

    def product(self, gtin14: str) -> ProductRecord | None:
        """Return ``gtin14``'s directory entry."""
        return self._products.get(gtin14)

    def member(self, address: str | None) -> MemberRecord | None:
        """Return the indexed member at ``address``."""
        return self._members.get(address) if address else None

    def members(self) -> list[MemberRecord]:
        """Return every indexed member."""
        return list(self._members.values())

    def standing(self, address: str) -> Standing:
        """Return ``address``'s roles, status and licence as of the newest indexed block: the
        member table is reread on the first request after the indexer commits a block (with
        its events, in one transaction; the block number is re-read every 50 ms), so a
        suspension counts from the first request after that."""
        self.refresh(self.indexed_block())
        member = self._members.get(address)
        if member is None:
            return STRANGER
        return Standing(Role(member.roles), MemberStatus(member.status), member.licence_expiry)

    # ------------------------------------------------------------------ packs

    def pack(self, pack_id: bytes) -> PackRecord | None:
        """Return the indexed state of pack ``pack_id``, or None if the index does not know it.

        The hot path of verification: two primary-key lookups on a raw DB-API connection
        kept per thread (SQLAlchemy's result machinery costs more than the query itself).
        """
        row = self._one(_PACK_SQL, pack_id)
        if row is None:
            return None
        custodian, pending_to, status = row[11], row[12], row[0]
        if row[10] is not None:
            custodian, pending_to, status = self._unit_custody(bytes(row[10]))
        in_transit, lost = status == PackStatus.IN_TRANSIT, status == PackStatus.LOST
        return PackRecord(
            pack_id,
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            bytes(row[5]),
            bytes(row[13]),
            row[6],
            row[7],
            row[8],
            row[9],
            bytes(row[10]) if row[10] is not None else None,
            custodian,
            pending_to if in_transit or lost else None,
            in_transit,
            lost,
        )

    def _unit_custody(self, unit: bytes) -> tuple[str | None, str | None, int]:
        """The custodian, recipient and status of the unit holding what sits in ``unit``
        (UnitStatus, whose IN_TRANSIT and LOST are PackStatus's; NONE when unknown)."""
        top = custody_unit(unit, self._unit_row)
        if top is None:
            return None, None, UnitStatus.NONE
        return top.custodian, top.pending_to, top.status

    def _unit_row(self, unit: bytes) -> UnitRow | None:
        row = self._one(_UNIT_SQL, unit)
        if row is None:
            return None
        return UnitRow(row[0], bytes(row[1]) if row[1] is not None else None, row[2], row[3])

    def _one(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.engine.raw_connection()
            if self.engine.dialect.name != "sqlite":
                conn.driver_connection.autocommit = True  # type: ignore[union-attr]
            self._local.conn = conn
        if self._paramstyle != "qmark":
            sql = sql.replace("?", "%s")
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return tuple(row) if row is not None else None
