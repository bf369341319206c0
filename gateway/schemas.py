"""Request and response schemas of the gateway's API, one per entity."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from ledger_client.relay import UINT48_MAX, UINT256_MAX

Verdict = Literal["green", "amber", "red"]
#: Where a pack is relative to a dispensing caller (see VerifyResult.custody).
Custody = Literal["held", "incoming", "outgoing", "elsewhere"]


Severity = Literal["info", "warning", "critical"]


class AlertKind(StrEnum):
    """What an alert is about."""

    EXPIRY_SOON = "expiry_soon"
    EXPIRED = "expired"
    LOT_RECALLED = "lot_recalled"
    LOT_QUARANTINED = "lot_quarantined"
    PACK_SUSPECT = "pack_suspect"
    PACK_ILLEGITIMATE = "pack_illegitimate"
    DISPENSED_PACK_VERIFIED = "dispensed_pack_verified"
    VERIFIED_AT_TWO_PLACES = "verified_at_two_places"
    EXCEPTION_OPENED = "exception_opened"
    EXCEPTION_OVERDUE = "exception_overdue"
    NOTIFICATION_OVERDUE = "notification_overdue"
    #: A finding of the anomaly detectors (``data.finding`` holds it), raised as the chain is
    #: indexed (``gateway/services/live_findings.py``).
    ANOMALY = "anomaly"
    SHIPMENT_ITEMS_MISSING = "shipment_items_missing"


class ProductFacts(BaseModel):
    """Public master data of the product, from the on-chain product directory."""

    gtin: str
    name: str
    strength: str = ""
    dosage_form: str = ""
    ndc: str = ""
    owner: str
    gateway_url: str = ""


class Decommission(BaseModel):
    """When, why and where a pack left the supply chain."""

    reason: str
    at: str = Field(description="ISO 8601 UTC time of the decommission")
    by: str = Field(description="address of the member that decommissioned it")
    by_name: str | None = None
    by_gln: str | None = None
    undo_until: str | None = Field(None, description="end of the undo window, if undoable")


class PackFacts(BaseModel):
    """The pack's state on the ledger."""

    pack_id: str
    status: str
    lot_status: str
    lot_expiry: str = Field(description="expiry the lot was registered with, YYMMDD")
    lot_owner: str
    custodian: str | None = None
    custodian_name: str | None = None
    custodian_gln: str | None = None
    in_transit: bool = False
    lost: bool = Field(False, description="reported lost in transit by its sender")
    pending_to: str | None = Field(
        None, description="the recipient of the shipment carrying it, in transit or lost"
    )
    flags: list[str] = []
    decommission: Decommission | None = None


class VerifyResult(BaseModel):
    """The answer for one scanned pack."""

    code: str = Field(description="the text as scanned")
    status: str = Field(description="VerificationStatus: VERIFIED, UNKNOWN, EXPIRED, ...")
    verdict: Verdict
    reasons: list[str]
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    expiry: str | None = Field(None, description="expiry printed on the pack, ISO date")
    source_format: str | None = None
    warnings: list[str] = []
    product: ProductFacts | None = None
    pack: PackFacts | None = None
    source: Literal["index", "chain"] = "index"
    as_of_block: int = -1
    verified_at: str
    custody: Custody | None = Field(
        default=None,
        description="for a caller with the DISPENSER role: held (the caller is the pack's"
        " custodian), incoming (in transit to the caller), outgoing (shipped by the caller,"
        " not yet received), elsewhere (held by or in transit to another member); null for"
        " other callers and for packs the ledger does not know",
    )
    dispensable: bool = Field(
        default=False,
        description="the caller is a dispenser and may dispense the pack now:"
        " status VERIFIED and custody held",
    )


class VerifyRequest(BaseModel):
    """A batch of scans, e.g. a whole delivery."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"codes": ["]d2010950600013435217261231108675309\x1d21S1"]}]
        }
    )
    codes: list[str] = Field(min_length=1, max_length=1000)


class VerifyBatchResult(BaseModel):
    """Answers for a batch, in the order of the request, with a summary."""

    results: list[VerifyResult]
    summary: dict[str, int]
    verdict: Verdict


class LvmRequest(BaseModel):
    """A GS1 Lightweight Verification Messaging-style request (DSCSA product identifier)."""

    model_config = ConfigDict(populate_by_name=True)
    gtin: str = Field(min_length=1, max_length=14)
    serial_number: str = Field(alias="serialNumber", min_length=1, max_length=20)
    lot_number: str = Field(alias="lotNumber", min_length=1, max_length=20)
    expiration_date: str = Field(
        alias="expirationDate", description="YYMMDD", min_length=6, max_length=10
    )
    corr_uuid: str | None = Field(None, alias="corrUUID", max_length=64)
    requestor_gln: str | None = Field(None, alias="requestorGLN", max_length=13)


class LvmData(BaseModel):
    """The verification part of an LVM response."""

    model_config = ConfigDict(populate_by_name=True)
    verified: bool
    verification_failure_reason: str | None = Field(None, alias="verificationFailureReason")
    additional_info: str | None = Field(None, alias="additionalInfo")


class LvmLookup(BaseModel):
    """Who answers for the GTIN, from the chain: the lookup directory of DSCSA's VRS."""

    model_config = ConfigDict(populate_by_name=True)
    gtin_owner: str = Field(alias="gtinOwner", description="member address")
    gtin_owner_gln: str | None = Field(None, alias="gtinOwnerGLN")
    gateway_url: str | None = Field(None, alias="gatewayUrl", description="its gateway, if known")
    source: Literal["directory", "prefix"] = Field(
        description="the product directory entry, or the GTIN's company prefix assignment"
    )


class LvmResponse(BaseModel):
    """A GS1 LVM-style response."""

    model_config = ConfigDict(populate_by_name=True)
    corr_uuid: str | None = Field(None, alias="corrUUID")
    verification_timestamp: str = Field(alias="verificationTimestamp")
    responder_gln: str | None = Field(None, alias="responderGLN")
    data: LvmData
    status: str = Field(description="RxLedger's VerificationStatus behind the answer")
    requestor_atp: bool | None = Field(
        None,
        alias="requestorATP",
        description="the requestor (requestorGLN, else the caller) is an authorized trading "
        "partner: an active member with an unexpired licence and a trading-partner role",
    )
    requestor_atp_reason: str | None = Field(None, alias="requestorATPReason")
    lookup: LvmLookup | None = Field(
        None, description="who answers for the GTIN; null when no member owns its prefix"
    )


class ChallengeRequest(BaseModel):
    """Who wants a token."""

    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class ChallengeResponse(BaseModel):
    """A Sign-In with Ethereum (EIP-4361) message to sign with EIP-191 personal_sign."""

    message: str = Field(description="the exact text to sign")
    nonce: str = Field(description="single-use: one token exchange consumes it")
    domain: str = Field(description="this gateway's authority, from its public URL")
    uri: str
    chain_id: int
    expires_at: int = Field(description="Unix time after which the message is refused")


class TokenRequest(BaseModel):
    """A signed login message."""

    message: str = Field(
        min_length=1, max_length=4000, description="the challenge's message, exactly as signed"
    )
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class TokenResponse(BaseModel):
    """A bearer token for API calls."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int
    address: str
    roles: list[str]


class DispenseRequest(BaseModel):
    """Packs to decommission (or undo) with the operator's key."""

    codes: list[str] = Field(min_length=1, max_length=500)
    reason: Literal[
        "DISPENSED", "DESTROYED", "SAMPLE", "FREE_SAMPLE", "EXPORTED", "STOLEN", "LOCKED"
    ] = "DISPENSED"


class DispenseResult(BaseModel):
    """What the chain did."""

    tx_hashes: list[str]
    block_number: int
    packs: list[str]
    action: str


class CustodyStep(BaseModel):
    """One chain event in an item's history."""

    event: str
    block_number: int
    at: str
    tx_hash: str
    log_index: int
    actor: str | None = None
    actor_name: str | None = None
    event_hash: str | None = None
    via: str | None = Field(
        None, description="the unit id if the event moved the pack inside a case or pallet"
    )
    details: dict[str, Any] = {}


class PackHistory(BaseModel):
    """A pack's custody chain."""

    gtin: str
    serial: str
    pack_id: str
    current: PackFacts | None
    steps: list[CustodyStep]


class LotHistory(BaseModel):
    """A lot's events and where its packs are."""

    gtin: str
    lot: str
    lot_id: str
    status: str | None
    expiry: str | None
    owner: str | None
    pack_count: int
    holders: dict[str, int]
    steps: list[CustodyStep]


class AlertOut(BaseModel):
    """One alert."""

    id: int | None = None
    kind: AlertKind
    severity: Severity
    message: str
    subject: str
    holder: str | None = None
    at: str
    data: dict[str, Any] = {}
    withdrawn_at: str | None = Field(
        default=None,
        description=(
            "set when the alert no longer holds: the block that raised it left the chain (a"
            " reorg), or what it warned of was done (an exception answered or resolved, an"
            " investigation closed)"
        ),
    )
    withdrawn_reason: str | None = None


class AlertList(BaseModel):
    """Alerts, newest first."""

    alerts: list[AlertOut]


class SubscriptionRequest(BaseModel):
    """A webhook to notify: an http(s) URL of a host outside this gateway's own networks."""

    url: str = Field(max_length=2000, examples=["https://partner.example/hooks/rxledger"])
    kinds: list[AlertKind] = Field(
        default_factory=list, max_length=20, description="alert kinds to send; empty: all"
    )

    @field_validator("url")
    @classmethod
    def _http_url_with_host(cls, url: str) -> str:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"not a URL: {exc}") from None
        if port == 0:
            raise ValueError("the webhook URL's port must be 1 to 65535")
        if parts.scheme not in ("http", "https"):
            raise ValueError("the webhook URL must start with http:// or https://")
        if not parts.hostname:
            raise ValueError("the webhook URL names no host")
        return url


class SubscriptionOut(BaseModel):
    """A registered webhook."""

    id: int
    url: str
    kinds: list[str]
    owner: str


class EPCISBody(BaseModel):
    """The events of an EPCIS document."""

    model_config = ConfigDict(extra="forbid")
    eventList: list[dict[str, Any]] = Field(
        description="EPCIS 2.0 events: ObjectEvent, AggregationEvent, TransactionEvent,"
        " TransformationEvent, AssociationEvent"
    )


def _no_default(schema: dict[str, Any]) -> None:
    """A field that may be left out has no value at all, not null."""
    schema.pop("default", None)


class EPCISDocumentIn(BaseModel):
    """An EPCIS 2.0 JSON-LD EPCISDocument (other EPCIS fields and extension terms allowed).
    Capture checks it against GS1's EPCIS JSON schema (``ledger_client/epcis/schema``) and
    answers 400 listing what does not conform."""

    model_config = ConfigDict(extra="allow")
    context: str | dict[str, Any] | list[str | dict[str, Any]] = Field(
        alias="@context", examples=[["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]]
    )
    type: Literal["EPCISDocument"]
    schemaVersion: str = Field(examples=["2.0"])
    creationDate: str = Field(json_schema_extra={"format": "date-time"})
    sender: str | SkipJsonSchema[None] = Field(None, json_schema_extra=_no_default)
    receiver: str | SkipJsonSchema[None] = Field(
        None, description="the GLN the document is addressed to", json_schema_extra=_no_default
    )
    epcisHeader: dict[str, Any] | SkipJsonSchema[None] = Field(
        None,
        description="master data (epcisMasterData.vocabularyList): lot expiries, ...",
        json_schema_extra=_no_default,
    )
    epcisBody: EPCISBody


class CaptureWarningOut(BaseModel):
    """A tolerated flaw of a captured event: the document was captured all the same."""

    #: the event's position in the document, its eventID and event hash (None: not computed)
    index: int
    eventID: str | None = None
    eventHash: str | None = None
    #: JSON pointer of the value in the document, and in its event
    path: str
    field: str
    #: location | party | vocabulary | extension
    kind: str
    value: Any = None
    message: str


class CaptureJobOut(BaseModel):
    """An EPCIS capture job (REST binding's capture job document)."""

    captureID: str
    createdAt: str
    finishedAt: str | None = None
    running: bool
    success: bool
    captureErrorBehaviour: str
    errors: list[dict[str, Any]] = []
    #: events per status: applied, skipped, stored_only, failed
    counts: dict[str, int] = {}
    #: per event: index, event_id, event_hash, type, status, operations (each with status,
    #: tx_hashes, decoded contract error), message, warnings
    results: list[dict[str, Any]] = []
    #: the document's tolerated flaws (kept beside their events; none refused the document)
    warnings: list[CaptureWarningOut] = []


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Any] = {}


class RelayResult(BaseModel):
    """A relayed forward request, executed on chain as its signer."""

    tx_hash: str
    block_number: int
    sender: str = Field(description="the member that signed the request (the caller on chain)")
    target: str
    relayed_by: str = Field(description="this gateway's operator, which submitted it")
    events: list[str] = Field(description="names of the contract events it emitted")


_HEX = r"^0x([0-9a-fA-F]{2})*$"
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
Uint256 = Annotated[int, Field(ge=0, le=UINT256_MAX)]
Uint48 = Annotated[int, Field(ge=0, le=UINT48_MAX)]
Hex = Annotated[str, Field(pattern=_HEX)]


# The OpenAPI description of the wire format only: /v1/relay parses its body with
# ledger_client.relay.ForwardRequest.from_json, the one parser (fields tested equal).
class ForwardRequestIn(BaseModel):
    """An ERC-2771 ForwardRequest signed (EIP-712, domain RxLedger v1 of the network's
    RxForwarder) by a member: ``ledger_client.relay.sign_request``. Numbers may also be given
    as decimal strings."""

    model_config = ConfigDict(extra="forbid")
    sender: Address = Field(alias="from", description="the signing member")
    to: Address = Field(description="the RxLedger contract to call")
    value: Uint256 = Field(description="wei to send: RxLedger relays 0 only")
    gas: Uint256
    nonce: Uint256 = Field(description="the signer's forwarder nonce")
    deadline: Uint48 = Field(description="Unix time after which the forwarder refuses it")
    data: Hex = Field(description="the call's ABI-encoded data")
    signature: Hex = Field(description="the EIP-712 signature")


class NamedQueryIn(BaseModel):
    """An EPCIS named query: its name and its definition (query parameter -> value or list)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    query: dict[str, Any]


class EventTypeCollection(BaseModel):
    """The EPCIS event types this repository holds (EPCIS REST binding ``/eventTypes``)."""

    context: str = Field(alias="@context")
    type: Literal["Collection"] = "Collection"
    member: list[str]


class ReturnRequest(BaseModel):
    """Packs a customer sent back, to verify and receive into saleable stock."""

    codes: list[str] = Field(
        min_length=1,
        max_length=500,
        description="scans of the returned packs (GTIN, serial, lot, expiry)",
    )
    customer: str | None = Field(
        None,
        pattern=r"^(0x[0-9a-fA-F]{40}|[0-9]{13})$",
        description="the returning customer (member address or GLN); when given, each pack "
        "must be in transit from it",
    )
    receive: bool = Field(True, description="false: verify only, write nothing")


class ReturnItem(BaseModel):
    """One returned pack: the chain's answer and what this gateway did with it."""

    code: str
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    expiry: str | None = None
    status: str = Field(
        description="RECEIVABLE, ALREADY_RECEIVED, UNREADABLE, a verification status that "
        "refuses it (RECALLED, EXPIRED, ...) or a custody refusal (NOT_SHIPPED, "
        "NOT_SHIPPED_TO_YOU, NOT_FROM_CUSTOMER, NOT_A_TRADING_PARTNER, INSIDE_UNIT)"
    )
    saleable: bool = Field(description="the pack passed the saleable-return verification")
    outcome: Literal["received", "already_received", "quarantined", "none"]
    reason: str
    holder: str | None = Field(None, description="who the chain names as holding it (its sender)")
    holder_name: str | None = None


class ReturnResult(BaseModel):
    """A return's verification, and the receipt of what passed."""

    items: list[ReturnItem]
    received: int
    quarantined: int
    tx_hashes: list[str]
    block_number: int | None = Field(None, description="block of the last receiving transaction")
    event_hash: str | None = Field(None, description="EPCIS event hash anchored with the receipt")
    checked_at_block: int


class QuarantinedPack(BaseModel):
    """A returned pack held apart: the latest verification that refused it."""

    code: str
    gtin: str
    serial: str
    status: str
    reasons: list[str]
    holder: str | None
    first_at: float
    last_at: float
    submissions: int


HexId = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="a 32-byte ledger id")]
#: What a scanned or expected item is: a pack, or a logistic unit (a case holds packs only).
ItemKind = Literal["pack", "case", "pallet"]


class ContentsNode(BaseModel):
    """A pack, case or pallet as the chain's index has it, with what sits in it."""

    id: str = Field(description="ledger id (owner-scoped)")
    kind: ItemKind
    level: int = Field(description="0 for a pack, 1 for a case of packs, 2+ for a pallet")
    code: str | None = Field(None, description="its clear code, when this gateway knows it")
    status: str = Field(description="PackStatus or UnitStatus name")
    packs: int | None = Field(
        None, description="packs inside it, at every level (1 for a pack; null: not counted)"
    )
    children: list[ContentsNode] = []


class Contents(BaseModel):
    """What the chain says is inside a case or pallet (or where a pack sits), and its custody:
    that of the top unit carrying it."""

    code: str = Field(description="the code asked for, as given")
    item: ContentsNode
    inside: list[ContentsNode] = Field(
        [], description="the units it sits in, innermost first (without their other contents)"
    )
    custodian: str | None = None
    custodian_name: str | None = None
    in_transit: bool = False
    lost: bool = False
    pending_to: str | None = None
    pending_to_name: str | None = None
    as_of_block: int


class InboundShipment(BaseModel):
    """Items a sender has in transit to this gateway's operator, by shipment transaction."""

    sender: str
    sender_name: str | None = None
    shipments: dict[str, int] = Field(description="shipment transaction -> top-level items")
    packs: int = Field(description="loose packs shipped")
    units: int = Field(description="cases and pallets shipped")


class DockSessionRequest(BaseModel):
    """Open a receiving session for an expected inbound shipment: all that ``sender`` has in
    transit to the operator, or what one shipment transaction sent."""

    model_config = ConfigDict(extra="forbid")
    sender: str | None = Field(
        None, max_length=64, description="member name of the deployment, or address"
    )
    shipment: str | None = Field(
        None, pattern=r"^0x[0-9a-fA-F]{64}$", description="a shipment's transaction hash"
    )


class DockScanRequest(BaseModel):
    """One scan: DataMatrix text, a GS1 element string, a Digital Link or a plain SSCC."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=512)
    within: str | None = Field(
        None,
        max_length=512,
        description="the SSCC of the case or pallet open on the scanner (scanned before in this"
        " session): a pack is recorded as found in it; a case or pallet is not (it opens"
        " itself)",
    )


class DockReceiveRequest(BaseModel):
    """Receive exactly these items: the ids the page shows as matched and not yet received."""

    model_config = ConfigDict(extra="forbid")
    items: list[HexId] = Field(min_length=1, max_length=5000)


class AggregationDifference(BaseModel):
    """A case or pallet the receiver opened whose scanned packs differ from the chain's."""

    model_config = ConfigDict(extra="forbid")
    unit: HexId
    missing: list[HexId] = Field(description="on chain inside it, not scanned in it")
    extra: list[HexId] = Field(description="scanned in it, not inside it on chain")


class DockReport(BaseModel):
    """What closing reports: the items the page shows as missing, quarantined and
    mis-aggregated (ids). The gateway refuses it unless it is what the session shows."""

    model_config = ConfigDict(extra="forbid")
    missing: list[HexId] = Field(max_length=5000)
    quarantined: list[HexId] = Field(max_length=5000)
    aggregation: list[AggregationDifference] = Field(max_length=1000)


class DockNode(BaseModel):
    """An expected item, level by level, and how the dock saw it: ``scanned`` (itself),
    ``inferred`` (inside a scanned case or pallet that was not opened), ``partial`` (not
    scanned, but something inside it was) or ``missing``."""

    id: str
    kind: ItemKind
    level: int
    code: str | None = None
    status: str
    state: Literal["scanned", "inferred", "partial", "missing"]
    opened: bool = Field(False, description="packs were scanned as found in it")
    received: bool = Field(False, description="received on chain in this session")
    receivable: bool = Field(False, description="scanned, top level, in transit to you")
    children: list[DockNode] = []


ScanOutcome = Literal["matched", "product_without_data", "held", "other_shipment"]


class DockScanOut(BaseModel):
    """A scan and what it matched."""

    n: int = Field(description="its number in the session (the first scan of the item)")
    code: str = Field(description="as scanned")
    clear: str
    item_id: str
    kind: Literal["pack", "unit"]
    within: str | None = None
    outcome: ScanOutcome
    note: str
    repeats: int = Field(0, description="times it was scanned again (counted once)")
    last_holder: str | None = None
    last_holder_name: str | None = None


class DockActionOut(BaseModel):
    """A write the session made on chain."""

    kind: str = Field(description="receive, or the exception kind opened")
    counterparty: str
    counterparty_name: str | None = None
    items: list[str]
    tx_hashes: list[str]
    exception_id: int | None = None
    evidence: str | None = Field(None, description="the evidence document, hashed as is")
    evidence_hash: str | None = None
    at: str


class DockView(BaseModel):
    """A receiving session: expected vs scanned, level by level, and what to do about it."""

    id: str
    status: Literal["open", "closed"]
    sender: str
    sender_name: str | None = None
    shipment: str | None = None
    created_at: str
    closed_at: str | None = None
    as_of_block: int
    expected: list[DockNode]
    scans: list[DockScanOut]
    receivable: list[str] = Field(description="ids that Receive matched would receive")
    report: DockReport = Field(description="what closing the session would report")
    actions: list[DockActionOut]
    counts: dict[str, int]


class DockScanResult(BaseModel):
    """The answer to a scan: the scan, whether it repeats one, and the session now."""

    scan: DockScanOut
    duplicate: bool
    session: DockView


class DockActionResult(BaseModel):
    """The answer to Receive matched or Close: what was written, and the session now."""

    replayed: bool = Field(description="the same request was already done: nothing written")
    actions: list[DockActionOut]
    session: DockView


class ExceptionOut(BaseModel):
    """An exception between two trading partners (the ExceptionRegistry's record, as this
    gateway's index holds it), with its answer deadline and age in the counterparty's business
    days (its location's time zone in the operator's EPCIS store, else UTC)."""

    id: int
    kind: str = Field(description="DATA_ISSUE, PRODUCT_WITHOUT_DATA, DATA_WITHOUT_PRODUCT, ...")
    status: Literal["OPEN", "ANSWERED", "RESOLVED"]
    opener: str
    opener_name: str | None = None
    counterparty: str = Field(description="the member that must answer")
    counterparty_name: str | None = None
    opened_at: str
    answered_at: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = Field(None, description="OPENER, REGULATOR or COUNCIL")
    answer_due_at: str
    answer_overdue: bool = Field(description="still open past its answer deadline")
    age_business_days: int = Field(description="from its opening to its resolution, or now")
    time_zone: str
    items_hash: str
    evidence_hash: str | None = None
    answer_evidence_hash: str | None = None
    resolution_evidence_hash: str | None = None


class ExceptionList(BaseModel):
    """Exceptions, newest first, as at the chain's time ``as_of``."""

    as_of: str
    exceptions: list[ExceptionOut]
