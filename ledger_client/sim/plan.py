"""What a simulation plan holds: timed registry calls, off-chain scans, master data and one
ground-truth record per injected anomaly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.scans import VerificationRecord

DAY = 86_400
#: Actions are mined in slots of this many seconds, each block at its slot's start.
SLOT = 600
#: The anomaly kinds a plan injects, in report order.
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
class Truth:
    """One injected anomaly: its kind, the subjects a finding must name, and what was done.

    Subjects are pack, lot or unit ids (``0x…``), ``member@day`` strings, or ``tag:<name>``
    placeholders for transaction hashes known only once mined.
    """

    kind: str
    subjects: list[str]
    evidence: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"kind": self.kind, "subjects": self.subjects, "evidence": self.evidence}


@dataclass
class Plan:
    """Everything a simulation writes: actions, scans, master data and ground truth."""

    start: int
    end: int
    members: dict[str, str]
    actions: list[Action] = field(default_factory=list)
    scans: list[VerificationRecord] = field(default_factory=list)
    catalogue: Catalogue = field(default_factory=Catalogue)
    truth: list[Truth] = field(default_factory=list)
    requested: dict[str, int] = field(default_factory=dict)
