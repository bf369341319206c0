"""What the anomaly detectors report: a :class:`Finding` with its threshold and evidence, and
the thresholds they use (:class:`AnomalyConfig`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DAY = 86_400


@dataclass(frozen=True)
class AnomalyConfig:
    """Thresholds of the rules and the learned detectors."""

    not_received_days: float = 14.0
    two_places_window: int = 2 * DAY
    transit_score: float = 4.0
    transit_min_spread: float = 0.25
    min_lane_samples: int = 8
    rare_lane_share: float = 0.01
    rare_lane_count: int = 2
    rare_network_count: int = 4
    volume_score: float = 6.0
    volume_ratio: float = 4.0
    min_days: int = 7
    quiet_hour_share: float = 0.002
    min_member_events: int = 200


@dataclass(frozen=True)
class Finding:
    """One anomaly: what was seen and why it is unusual (members by name, times local), the
    threshold it crossed, the evidence (transactions and scans, see
    :class:`~ledger_client.audit.describe.Describer`), the model's inputs; severity
    LOW..CRITICAL."""

    kind: str
    severity: str
    subject: str
    seen: str
    why: str
    threshold: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return asdict(self)
