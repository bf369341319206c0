"""SQLAlchemy 2 models: the chain index (events, state, access grants, exceptions),
verifications, alerts, capture jobs and the warnings of the events they captured, and the
dock's receiving sessions.

Ids (packs, lots, units, hashes) are stored as 32 raw bytes, addresses as checksummed text.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Id = LargeBinary(32)
Address = String(42)


class Base(DeclarativeBase):
    """Declarative base of every gateway table."""


class IndexerCursor(Base):
    """Where the indexer stopped: the last block whose events are all applied."""

    __tablename__ = "indexer_cursor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_block: Mapped[int] = mapped_column(BigInteger)
    head_block: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[float] = mapped_column(Float)


class IndexedBlock(Base):
    """The hash of a block the index applied: each step's last block and every block with
    events, so a reorg is seen and its fork point found (``gateway/reorg.py``)."""

    __tablename__ = "indexed_blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(Id)


class ChainEvent(Base):
    """One decoded contract event, applied exactly once (unique transaction hash + log index)."""

    __tablename__ = "chain_events"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index", name="uq_event_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_time: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[bytes] = mapped_column(Id)
    log_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str | None] = mapped_column(Address, nullable=True)
    event_hash: Mapped[bytes | None] = mapped_column(Id, nullable=True, index=True)
    args: Mapped[dict[str, object]] = mapped_column(JSON)


class EventItem(Base):
    """An id an event names, so a pack's, unit's or lot's history is one indexed lookup."""

    __tablename__ = "event_items"
    __table_args__ = (Index("ix_event_items_item", "item_id", "event_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("chain_events.id", ondelete="CASCADE"))
    item_id: Mapped[bytes] = mapped_column(Id)
    kind: Mapped[str] = mapped_column(String(12))  # pack | unit | lot | container


class Lot(Base):
    """A lot's current state."""

    __tablename__ = "lots"
    lot_id: Mapped[bytes] = mapped_column(Id, primary_key=True)
    owner: Mapped[str] = mapped_column(Address)
    expiry: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(Integer)


class AccessGrant(Base):
    """A live or expired grant of read access to a lot's events (AccessGrants contract);
    ``expires_at`` 0: until revoked. A revoked grant has no row."""

    __tablename__ = "access_grants"
    lot_id: Mapped[bytes] = mapped_column(Id, primary_key=True)
    grantee: Mapped[str] = mapped_column(Address, primary_key=True, index=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    granted_by: Mapped[str] = mapped_column(Address)


class Pack(Base):
    """A pack's current state; ``custodian`` is None while it sits in a unit (see ``parent``)."""

    __tablename__ = "packs"
    pack_id: Mapped[bytes] = mapped_column(Id, primary_key=True)
    lot_id: Mapped[bytes] = mapped_column(Id, index=True)
    #: The 3-byte lot tag the pack was commissioned with (``ledger_client.ids.lot_tag``).
    lot_tag: Mapped[bytes] = mapped_column(LargeBinary(3))
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[int] = mapped_column(Integer, default=0)
    flags: Mapped[int] = mapped_column(Integer, default=0)
    flag_reason: Mapped[int] = mapped_column(Integer, default=0)
    decommissioned_at: Mapped[int] = mapped_column(BigInteger, default=0)
    parent: Mapped[bytes | None] = mapped_column(Id, nullable=True, index=True)
    custodian: Mapped[str | None] = mapped_column(Address, nullable=True, index=True)
    pending_to: Mapped[str | None] = mapped_column(Address, nullable=True)


class Unit(Base):
    """A logistic unit's current state."""

    __tablename__ = "units"
    unit_id: Mapped[bytes] = mapped_column(Id, primary_key=True)
    status: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=1)
    parent: Mapped[bytes | None] = mapped_column(Id, nullable=True, index=True)
    custodian: Mapped[str | None] = mapped_column(Address, nullable=True)
    pending_to: Mapped[str | None] = mapped_column(Address, nullable=True)


class ExceptionCase(Base):
    """An exception between two trading partners (ExceptionRegistry contract): its parties,
    kind, items hash, the three steps' evidence hashes (None: step not taken or no evidence)
    and block times (0: not yet)."""

    __tablename__ = "exceptions"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    opener: Mapped[str] = mapped_column(Address, index=True)
    counterparty: Mapped[str] = mapped_column(Address, index=True)
    kind: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer, index=True)
    resolved_by: Mapped[int] = mapped_column(Integer, default=0)
    items_hash: Mapped[bytes] = mapped_column(Id)
    evidence_hash: Mapped[bytes | None] = mapped_column(Id, nullable=True)
    answer_hash: Mapped[bytes | None] = mapped_column(Id, nullable=True)
    resolution_hash: Mapped[bytes | None] = mapped_column(Id, nullable=True)
    opened_at: Mapped[int] = mapped_column(BigInteger)
    answered_at: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved_at: Mapped[int] = mapped_column(BigInteger, default=0)


class Member(Base):
    """A consortium member as the chain's events describe it."""

    __tablename__ = "members"
    address: Mapped[str] = mapped_column(Address, primary_key=True)
    index: Mapped[int] = mapped_column(Integer)
    gln: Mapped[str] = mapped_column(String(13))
    roles: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    licence_expiry: Mapped[int] = mapped_column(BigInteger)


class Prefix(Base):
    """A GS1 company prefix and the member it is assigned to."""

    __tablename__ = "prefixes"
    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    owner: Mapped[str] = mapped_column(Address)


class Product(Base):
    """A product directory entry."""

    __tablename__ = "products"
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    owner: Mapped[str] = mapped_column(Address)
    name: Mapped[str] = mapped_column(Text)
    strength: Mapped[str] = mapped_column(Text, default="")
    dosage_form: Mapped[str] = mapped_column(Text, default="")
    ndc: Mapped[str] = mapped_column(Text, default="")
    gateway_url: Mapped[str] = mapped_column(Text, default="")


class VerificationRecord(Base):
    """One verification answered by this gateway: who asked, when, what they got."""

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pack_id: Mapped[bytes] = mapped_column(Id, index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    client: Mapped[str] = mapped_column(String(64), index=True)
    pack_status: Mapped[int] = mapped_column(Integer, default=0)
    pack_reason: Mapped[int] = mapped_column(Integer, default=0)
    by_dispenser: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[float] = mapped_column(Float, index=True)
    #: What the code printed (None: not in the code): the lot, the expiry as YYMMDD.
    lot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    expiry: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Alert(Base):
    """A raised alert; ``key`` makes raising the same alert twice a no-op."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(80))
    holder: Mapped[str | None] = mapped_column(Address, nullable=True, index=True)
    #: True: readable only by ``holder``, the members in ``alert_audience`` and regulators and
    #: auditors; False: by every member if ``holder`` is None.
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    at: Mapped[float] = mapped_column(Float, index=True)
    #: The block of the event that raised it (None: raised by a verification).
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    #: Set when the block that raised it left the chain (a reorg): the alert no longer holds.
    withdrawn_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertWithdrawal(Base):
    """A withdrawal of an alert, in order: what webhooks send withdrawal notices from."""

    __tablename__ = "alert_withdrawals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Float)


class AlertAudience(Base):
    """A member entitled to read a restricted alert (its clear GTIN, serial and scanner)."""

    __tablename__ = "alert_audience"
    __table_args__ = (Index("ix_alert_audience_address", "address", "alert_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(Address)


class Subscription(Base):
    """A webhook that receives alerts as JSON POSTs."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(Address)
    all_holders: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)


class CaptureJob(Base):
    """An EPCIS capture job and its per-event results."""

    __tablename__ = "capture_jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(Address)
    running: Mapped[bool] = mapped_column(Boolean, default=True)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    error_behaviour: Mapped[str] = mapped_column(String(10), default="proceed")
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    results: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    errors: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    created_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class EventWarning(Base):
    """A tolerated flaw of a captured event (a malformed location or party id, an unknown
    vocabulary value, a non-standard extension): the event was received all the same.
    ``event_hash`` joins it to the clear event in the operator's EPCIS store (None: the
    event's hash could not be computed, or the job stopped before it was)."""

    __tablename__ = "event_warnings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    capture_id: Mapped[str] = mapped_column(
        ForeignKey("capture_jobs.id", ondelete="CASCADE"), index=True
    )
    event_index: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    event_hash: Mapped[bytes | None] = mapped_column(Id, nullable=True, index=True)
    path: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12))  # location | party | vocabulary | extension
    value: Mapped[object] = mapped_column(JSON, nullable=True)
    message: Mapped[str] = mapped_column(Text)


class LoginNonce(Base):
    """The nonce of a login challenge: issued for one address, consumed by one token exchange.

    Kept in the database so that every worker of a gateway honours it exactly once.
    """

    __tablename__ = "login_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Address)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class NamedQuery(Base):
    """An EPCIS named query: a saved set of query parameters, run by its creator."""

    __tablename__ = "named_queries"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(Address, index=True)
    query: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class ReceivedTransactionInformation(Base):
    """The DSCSA TI/TS of a shipment the operator received, fetched from the seller's gateway:
    queued when the receipt is indexed, then fetched (retried until stored) and checked
    against the shipment on chain."""

    __tablename__ = "received_ti"
    shipment_tx: Mapped[bytes] = mapped_column(Id, primary_key=True)
    seller: Mapped[str] = mapped_column(Address)
    #: The shipment's anchored event hash (None: anchored none) and block time, from chain.
    event_hash: Mapped[bytes | None] = mapped_column(Id, nullable=True)
    shipped_at: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | stored | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    document: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    fetched_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class QuarantinedReturn(Base):
    """A returned pack this gateway's operator did not take back into saleable stock: the
    latest verification that refused it, and how often it was submitted."""

    __tablename__ = "returns_quarantine"
    pack_id: Mapped[bytes] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    holder: Mapped[str | None] = mapped_column(Address, nullable=True)
    first_at: Mapped[float] = mapped_column(Float)
    last_at: Mapped[float] = mapped_column(Float, index=True)
    submissions: Mapped[int] = mapped_column(Integer, default=1)


class DockSession(Base):
    """A receiving session at the operator's dock: an expected inbound shipment (every item
    ``sender`` has in transit to the operator, or those of one shipment transaction), the
    scans matched against it, and what was received and reported. ``plan`` is the report the
    receiver confirmed when closing (None while open)."""

    __tablename__ = "dock_sessions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator: Mapped[str] = mapped_column(Address)
    sender: Mapped[str] = mapped_column(Address)
    shipment_tx: Mapped[bytes | None] = mapped_column(Id, nullable=True)
    status: Mapped[str] = mapped_column(String(8), index=True)  # open | closed
    plan: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class DockScan(Base):
    """An item scanned in a dock session, once (a repeat scan counts in ``repeats``): its
    ledger id, clear code and, for a pack, the case or pallet it was found in. A scan the
    chain does not have in transit to the operator is quarantined when scanned, with the
    member the chain named as its holder then (None: nobody)."""

    __tablename__ = "dock_scans"
    __table_args__ = (UniqueConstraint("session_id", "item_id", name="uq_dock_scan_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("dock_sessions.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[bytes] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(4))  # pack | unit
    code: Mapped[str] = mapped_column(Text)  # as scanned
    clear: Mapped[str] = mapped_column(String(64))  # (01)GTIN(21)SERIAL or (00)SSCC
    within: Mapped[bytes | None] = mapped_column(Id, nullable=True)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    last_holder: Mapped[str | None] = mapped_column(Address, nullable=True)
    at: Mapped[float] = mapped_column(Float)


class DockAction(Base):
    """A write a dock session made on chain: a receipt, or an exception opened (``kind`` is
    ``receive`` or the exception kind), once per session, kind, counterparty and items."""

    __tablename__ = "dock_actions"
    __table_args__ = (
        UniqueConstraint("session_id", "kind", "counterparty", "items_hash", name="uq_dock_action"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("dock_sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    counterparty: Mapped[str] = mapped_column(Address)
    items_hash: Mapped[bytes] = mapped_column(Id)
    items: Mapped[list[str]] = mapped_column(JSON)  # 0x ids
    tx_hashes: Mapped[list[str]] = mapped_column(JSON)
    exception_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)  # the evidence document
    evidence_hash: Mapped[bytes | None] = mapped_column(Id, nullable=True)
    at: Mapped[float] = mapped_column(Float)
