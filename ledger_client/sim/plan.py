"""What a simulation plan holds: timed registry calls, off-chain scans, master data, the
injected incidents (ground truth, each obvious or subtle) and the legitimate flows that look
like incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.scans import VerificationRecord

DAY = 86_400
#: Actions are mined in slots of this many seconds, each block at its slot's start.
SLOT = 300
#: The incident kinds a plan injects, in report order.
KINDS = (
    "DECOMMISSIONED_REUSED",
    "DECOMMISSIONED_VERIFIED",
    "VERIFIED_TWO_PLACES",
    "SHIPMENT_NOT_RECEIVED",
    "ROLE_ORDER",
    "PRODUCT_MISMATCH",
    "EXPIRED_MOVING",
    "TRANSIT_OUTLIER",
    "UNUSUAL_ROUTE",
    "VOLUME_SPIKE",
    "NIGHT_ACTIVITY",
    "UNCOMMISSIONED_SCAN",
    "RECALLED_SHIPPED",
    "SCAN_WITHOUT_CUSTODY",
)
#: How far past its detector's line an incident lies.
LEVELS = ("obvious", "subtle")
#: The legitimate flows a plan records (they must raise no finding).
FLOWS = (
    "reverse_expired",
    "reverse_recalled",
    "recall",
    "secondary_delivery",
    "patient_transfer",
    "stock_balancing",
    "saleable_return",
    "quick_undo",
    "second_scan",
    "missed_truck",
    "ocean_lane",
    "go_live",
    "campaign",
    "shortage",
    "expiry_day00",
)


@dataclass(frozen=True, slots=True)
class Action:
    """One registry call: when, by whom, what; ``tag`` names it in the ground truth."""

    ts: int
    sender: str
    fn: str
    args: tuple[Any, ...]
    items: int = 1
    tag: str | None = None


@dataclass
class Incident:
    """One injected incident: its kind and level, the subjects a finding may name (pack, lot
    or unit ids ``0x…``, ``tag:<name>`` for a transaction hash known once mined,
    ``member@day`` with the member's local day counted from 1970-01-01, ``scan:GTIN:serial``),
    the other kinds a finding about it may fairly carry (``accept``), what was done, and why
    it is not scored (``unscored``; empty when it is)."""

    kind: str
    level: str
    subjects: list[str]
    evidence: dict[str, Any]
    accept: tuple[str, ...] = ()
    unscored: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        row = {
            "kind": self.kind,
            "level": self.level,
            "subjects": self.subjects,
            "accept": list(self.accept),
            "evidence": self.evidence,
        }
        return row | ({"unscored": self.unscored} if self.unscored else {})


@dataclass
class Flow:
    """One legitimate flow that a naive rule would take for an incident, with its subjects
    (as an :class:`Incident`'s)."""

    name: str
    subjects: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"flow": self.name, "subjects": self.subjects, "evidence": self.evidence}


@dataclass
class Plan:
    """Everything a simulation writes: actions, scans, master data, incidents and flows."""

    start: int
    end: int
    actions: list[Action] = field(default_factory=list)
    scans: list[VerificationRecord] = field(default_factory=list)
    catalogue: Catalogue = field(default_factory=Catalogue)
    truth: list[Incident] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
