"""The owner's store: the clear EPCIS events and master data a member keeps off chain.

A small SQLite file (stdlib ``sqlite3``). Events are keyed by their EPCIS event hash, the
value anchored on chain, so a history rebuilt from chain joins back to the clear events.
Every imported event is kept, also those with no ledger meaning (sensor readings,
transaction events), with the document header it came with (sender, receiver, DSCSA
transaction statement), the warnings it was received with (``event_warnings``: a malformed
location or party id, an unknown vocabulary value, a non-standard extension) and the master
data (products, locations, other vocabularies).

It also keeps a copy of the deployment's logs up to a cursor, which exports and TI/TS
bring up to date and replay (:mod:`ledger_client.epcis.stream`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike
from typing import Any

from ledger_client.epcis.import12 import master_data_of
from ledger_client.epcis.mapping import MappingReport
from ledger_client.epcis.tolerated import ValidationWarning
from ledger_client.epcis.validation import iter_events
from ledger_client.errors import ConfigurationError
from ledger_client.events import RawLog
from ledger_client.gs1.epc import parse_epc_or_none
from ledger_client.ids import lot_id, pack_id, unit_id

__all__ = ["ChainCursor", "ClearIds", "EventRecord", "EventStore", "StoredEvent", "event_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    instance_identifier TEXT,
    sender TEXT,
    receiver TEXT,
    creation_date TEXT,
    context_json TEXT NOT NULL,
    header_json TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    key TEXT PRIMARY KEY,
    hash_uri TEXT,
    event_id TEXT,
    type TEXT NOT NULL,
    event_time TEXT,
    event_json TEXT NOT NULL,
    context_json TEXT NOT NULL,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    stored_only TEXT
);
CREATE TABLE IF NOT EXISTS event_warnings (
    event_key TEXT NOT NULL REFERENCES events(key),
    field TEXT NOT NULL,
    kind TEXT NOT NULL,
    value_json TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (event_key, field)
);
CREATE TABLE IF NOT EXISTS vocabulary (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    element_json TEXT NOT NULL,
    PRIMARY KEY (type, id)
);
CREATE TABLE IF NOT EXISTS products (
    gtin TEXT PRIMARY KEY,
    name TEXT,
    ndc TEXT,
    attributes_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS locations (
    gln TEXT PRIMARY KEY,
    name TEXT,
    attributes_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    chain_id INTEGER NOT NULL,
    registry TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_logs (
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    address TEXT NOT NULL,
    topics BLOB NOT NULL,
    data BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    tx_hash BLOB NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
"""


def event_key(event_hash: bytes | None, event: dict[str, Any]) -> str:
    """The store key of an event: its event hash in hex, or ``raw:`` + sha-256 of its JSON
    when the EPCIS event hash cannot be computed."""
    if event_hash:
        return event_hash.hex()
    text = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return "raw:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """A clear event with the JSON-LD context and the header of its document."""

    key: str
    hash_uri: str | None
    event: dict[str, Any]
    context: Any
    document: dict[str, Any]
    stored_only: str | None


@dataclass(frozen=True)
class EventRecord:
    """A stored event as the query interface reads it: its position in the store, its key
    (the event hash in hex, or ``raw:...``) and when this store recorded it (EPCIS
    ``recordTime``: when its document was stored)."""

    position: int
    key: str
    event: dict[str, Any]
    context: Any
    record_time: str


@dataclass
class ClearIds:
    """The clear GS1 identifiers behind the ids of their genuine records (under the members
    owning their prefixes), as the stored events name them."""

    packs: dict[bytes, tuple[str, str]]
    """pack id -> (GTIN, serial)"""
    lots: dict[bytes, tuple[str, str]]
    """lot id -> (GTIN, lot)"""
    units: dict[bytes, str]
    """unit id -> SSCC"""
    pack_lots: dict[bytes, str] = field(default_factory=dict)
    """pack id -> the lot number an event gives with the pack (its lot however the lot's id
    was keyed)"""


@dataclass(frozen=True)
class ChainCursor:
    """Where the store's copy of the chain's logs ends: the deployment it copies (chain id,
    registry address) and the last block it holds, with that block's hash."""

    chain_id: int
    registry: str
    block_number: int
    block_hash: bytes


def _add_ids(
    ids: ClearIds,
    event: dict[str, Any],
    owner_of: Callable[[str], int],
    lot_keys: Mapping[int, bytes],
) -> None:
    ilmd = event.get("ilmd")
    lot = ilmd.get("cbvmda:lotNumber") if isinstance(ilmd, dict) else None
    values = [*event.get("epcList", []), *event.get("childEPCs", []), event.get("parentID")]
    values += [q.get("epcClass") for q in event.get("quantityList", []) if isinstance(q, dict)]
    for value in values:
        epc = parse_epc_or_none(value)
        if epc is None:
            continue
        if epc.kind == "sgtin" and epc.gtin and epc.serial:
            owner = owner_of(epc.gtin)
            pid = pack_id(epc.gtin, epc.serial, owner=owner)
            ids.packs[pid] = (epc.gtin, epc.serial)
            if lot is not None:
                lid = lot_id(epc.gtin, str(lot), owner=owner, key=lot_keys.get(owner))
                ids.lots[lid] = (epc.gtin, str(lot))
                ids.pack_lots[pid] = str(lot)
        elif epc.kind == "lgtin" and epc.gtin and epc.lot:
            owner = owner_of(epc.gtin)
            lid = lot_id(epc.gtin, epc.lot, owner=owner, key=lot_keys.get(owner))
            ids.lots[lid] = (epc.gtin, epc.lot)
        elif epc.kind == "sscc" and epc.sscc:
            ids.units[unit_id(epc.sscc, owner=owner_of(epc.sscc))] = epc.sscc


class EventStore:
    """One member's off-chain EPCIS store in SQLite (``":memory:"`` for a throw-away one)."""

    def __init__(self, path: str | PathLike[str] = ":memory:") -> None:
        try:
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:  # a missing folder, or a file that is not SQLite
            raise ConfigurationError(f"cannot open the EPCIS store {path}: {exc}") from None

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writes

    def add_document(
        self,
        doc: dict[str, Any],
        report: MappingReport,
        warnings: Iterable[ValidationWarning] = (),
    ) -> int:
        """Store every event of a mapped document, the ``warnings`` it was received with
        (beside their events) and its master data; return the document id.

        Events already stored (same key) and their warnings are left as they are; master
        data is updated.
        """
        header = {k: v for k, v in doc.get("epcisHeader", {}).items() if k != "epcisMasterData"}
        context = doc.get("@context")
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO documents (instance_identifier, sender, receiver, creation_date,"
                " context_json, header_json, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.get("instanceIdentifier"),
                    doc.get("sender"),
                    doc.get("receiver"),
                    doc.get("creationDate"),
                    json.dumps(context),
                    json.dumps(header),
                    datetime.now(UTC).isoformat(),
                ),
            )
            document_id = int(cursor.lastrowid or 0)
            events = [event for _, event in iter_events(doc)]
            keys = [event_key(entry.event_hash, events[entry.index]) for entry in report.events]
            for entry, key in zip(report.events, keys, strict=True):
                event = events[entry.index]
                self.db.execute(
                    "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        entry.event_hash_uri,
                        entry.event_id,
                        entry.type,
                        event.get("eventTime"),
                        json.dumps(event),
                        json.dumps(event.get("@context", context)),
                        document_id,
                        entry.stored_only,
                    ),
                )
            self.db.executemany(
                "INSERT OR IGNORE INTO event_warnings VALUES (?, ?, ?, ?, ?)",
                (
                    (keys[w.index], w.field, w.kind, json.dumps(w.value), w.message)
                    for w in warnings
                ),
            )
            self._add_master_data(doc)
        return document_id

    def _add_master_data(self, doc: dict[str, Any]) -> None:
        vocabularies = doc.get("epcisHeader", {}).get("epcisMasterData", {}).get("vocabularyList")
        for vocabulary in vocabularies or []:
            for element in vocabulary.get("vocabularyElementList", []) or []:
                self.db.execute(
                    "INSERT OR REPLACE INTO vocabulary VALUES (?, ?, ?)",
                    (vocabulary.get("type", ""), element.get("id", ""), json.dumps(element)),
                )
        data = master_data_of(doc)
        for product in data["products"]:
            if "gtin" in product and "lot" not in product:
                self.db.execute(
                    "INSERT OR REPLACE INTO products VALUES (?, ?, ?, ?)",
                    (
                        product["gtin"],
                        product.get("name"),
                        product.get("ndc"),
                        json.dumps(product["attributes"]),
                    ),
                )
        for location in data["locations"]:
            if "gln" in location:
                self.db.execute(
                    "INSERT OR REPLACE INTO locations VALUES (?, ?, ?)",
                    (location["gln"], location.get("name"), json.dumps(location["attributes"])),
                )

    # ------------------------------------------------------------------ reads

    def event(self, event_hash: bytes) -> StoredEvent | None:
        """The clear event anchored as ``event_hash``, or None if this store does not hold it."""
        row = self.db.execute(
            "SELECT e.key, e.hash_uri, e.event_json, e.context_json, e.stored_only,"
            " d.instance_identifier, d.sender, d.receiver, d.creation_date, d.header_json"
            " FROM events e JOIN documents d ON d.id = e.document_id WHERE e.key = ?",
            (event_hash.hex(),),
        ).fetchone()
        if row is None:
            return None
        document = {
            "instanceIdentifier": row[5],
            "sender": row[6],
            "receiver": row[7],
            "creationDate": row[8],
            "header": json.loads(row[9]),
        }
        return StoredEvent(row[0], row[1], json.loads(row[2]), json.loads(row[3]), document, row[4])

    def warnings(self, key: str) -> list[dict[str, Any]]:
        """The warnings the event stored under ``key`` was received with: field (JSON pointer
        in the event), kind, value and message, in field order."""
        return [
            {"field": field, "kind": kind, "value": json.loads(value), "message": message}
            for field, kind, value, message in self.db.execute(
                "SELECT field, kind, value_json, message FROM event_warnings"
                " WHERE event_key = ? ORDER BY field",
                (key,),
            )
        ]

    def all_events(self) -> list[dict[str, Any]]:
        """Every clear event, in the order stored."""
        return [
            json.loads(row[0])
            for row in self.db.execute("SELECT event_json FROM events ORDER BY rowid")
        ]

    def records(self) -> Iterator[EventRecord]:
        """Every stored event with its position, key and record time, in the order stored."""
        for position, key, text, context, stored_at in self.db.execute(
            "SELECT e.rowid, e.key, e.event_json, e.context_json, d.stored_at"
            " FROM events e JOIN documents d ON d.id = e.document_id ORDER BY e.rowid"
        ):
            yield EventRecord(int(position), key, json.loads(text), json.loads(context), stored_at)

    def identifiers(
        self, owner_of: Callable[[str], int], lot_keys: Mapping[int, bytes] | None = None
    ) -> ClearIds:
        """The clear packs, lots and logistic units that the stored events name, by the ids
        of their records under the member index ``owner_of`` gives for a GTIN or SSCC (the
        prefix owner's: ``PrefixOwners.index``), lots keyed with the owners' ``lot_keys``
        (member index -> lot key) where given."""
        ids = ClearIds({}, {}, {})
        for event in self.all_events():
            _add_ids(ids, event, owner_of, lot_keys or {})
        return ids

    def count(self) -> int:
        """How many events the store holds."""
        return int(self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def product(self, gtin: str) -> dict[str, Any] | None:
        """Master data of product ``gtin``: name, ndc and all attributes (CBV short names)."""
        return self._master_data("products", "gtin", gtin, ("name", "ndc"))

    def location(self, gln: str) -> dict[str, Any] | None:
        """Master data of party or location ``gln``: name and attributes (address...)."""
        return self._master_data("locations", "gln", gln, ("name",))

    def _master_data(
        self, table: str, key: str, value: str, columns: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """The row of ``table`` whose ``key`` is ``value``: ``columns`` and its attributes."""
        names = ", ".join(columns)  # table and column names are this module's, never input
        row = self.db.execute(
            f"SELECT {names}, attributes_json FROM {table} WHERE {key} = ?", (value,)
        ).fetchone()
        if row is None:
            return None
        *cells, attributes = row
        return {
            key: value,
            **dict(zip(columns, cells, strict=True)),
            "attributes": json.loads(attributes),
        }

    def vocabulary_ids(self) -> list[str]:
        """The ids of every master data element the store holds."""
        return [row[0] for row in self.db.execute("SELECT DISTINCT id FROM vocabulary")]

    def vocabulary(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """EPCIS master data vocabularies holding the elements whose id is in ``ids``."""
        wanted = set(ids)
        by_type: dict[str, list[dict[str, Any]]] = {}
        for kind, element_id, text in self.db.execute(
            "SELECT type, id, element_json FROM vocabulary ORDER BY type, id"
        ):
            if element_id in wanted:
                by_type.setdefault(kind, []).append(json.loads(text))
        return [
            {"type": kind, "vocabularyElementList": elements} for kind, elements in by_type.items()
        ]

    # ------------------------------------------------------------ the copy of the chain's logs

    def chain_cursor(self) -> ChainCursor | None:
        """Where the copy of the chain's logs ends, or None if there is no copy."""
        row = self.db.execute(
            "SELECT chain_id, registry, block_number, block_hash FROM chain_cursor"
        ).fetchone()
        return None if row is None else ChainCursor(row[0], row[1], row[2], bytes(row[3]))

    def save_chain_logs(
        self, logs: Iterable[RawLog], cursor: ChainCursor, *, replace: bool = False
    ) -> None:
        """Add ``logs`` (those after the cursor) to the copy and move its cursor to ``cursor``,
        in one transaction; with ``replace``, drop the copy first."""
        with self.db:
            if replace:
                self.db.execute("DELETE FROM chain_logs")
            self.db.executemany(
                "INSERT OR IGNORE INTO chain_logs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        g.block_number,
                        g.log_index,
                        g.address,
                        b"".join(g.topics),
                        g.data,
                        g.timestamp,
                        g.tx_hash,
                    )
                    for g in logs
                ),
            )
            self.db.execute(
                "INSERT OR REPLACE INTO chain_cursor VALUES (1, ?, ?, ?, ?)",
                (cursor.chain_id, cursor.registry, cursor.block_number, cursor.block_hash),
            )

    def chain_logs(self) -> Iterator[RawLog]:
        """The copy's logs, in chain order."""
        for block, index, address, topics, data, timestamp, tx_hash in self.db.execute(
            "SELECT * FROM chain_logs ORDER BY block_number, log_index"
        ):
            words = tuple(topics[i : i + 32] for i in range(0, len(topics), 32))
            yield RawLog(address, words, data, block, timestamp, tx_hash, index)
