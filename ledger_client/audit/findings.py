"""What the anomaly detectors report: a :class:`Finding` with its threshold and evidence, and
the thresholds they use (:class:`AnomalyConfig`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class AnomalyConfig:
    """Thresholds of the rules and the learned detectors, each in the unit its name says.

    Scans (``VERIFIED_TWO_PLACES``, ``SCAN_WITHOUT_CUSTODY``, ``DECOMMISSIONED_VERIFIED``):

    - ``custody_slack_seconds``: a scan counts as at the pack's holder (or the member it is
      travelling to) when that member held it, or had it coming, within this many seconds
      of the scan (a dock scans a delivery just before recording the receipt).
    - ``rescan_seconds``: a second scan at the dispensing member within this many seconds
      after it dispensed the pack is the pharmacist's check, not a clone.
    - ``two_places_window``: seconds; scans at two places this close are called "within"
      the window in the finding's words (any gap counts when custody does not explain it).

    Shipments:

    - ``lane_usual_quantile``: a lane's usual delivery day is this quantile of its
      deliveries' business days (the recipient's, in its time zone and calendar, after the
      day sent); ``missed_truck_days``: a delivery is late when it came more than this many
      business days after the usual day (or than the lane's own spread, its usual day less
      its ``1 - lane_usual_quantile`` quantile, or ``lane_relative_slack`` of its usual day,
      where wider: weeks at sea), and a shipment is
      not received when it has been in
      transit longer than that (once its lane has ``not_received_min_samples``
      deliveries; ``not_received_days``, calendar, where it has fewer). A delivery on the
      recipient's first day on the ledger (opening stock waiting for a go-live) is not
      counted.
    - ``min_lane_samples``: received shipments a lane needs before it has a usual time.
    - ``max_days_off``: working hours leave out a recipient's days off, the days of a gap
      of at most this many days in its activity (weekends, holidays).

    Routes: ``rare_lane_count``, ``rare_lane_share``, ``min_owner_shipments``: a lane is new
    for a product owner when it carried at most this many and under this share of the
    shipments of its goods (of at least ``min_owner_shipments``); ``rare_network_count``
    (shipments of the whole network) makes it rare in the network too. A sender the owner's
    goods never reached straight from the owner or a logistics provider is no authorised
    distributor of them: each of its shipments of them is a finding.

    Dispensers: a transfer to another dispenser serves a specific patient when it carries at
    most ``patient_transfer_max_packs`` packs; ``dispenser_transfer_share``,
    ``dispenser_transfer_min_packs``: a pharmacy's transfers to other dispensers over
    ``dispenser_transfer_days`` may reach this share of the packs it dispensed in that time
    (the 5 % of the PDMA's de-minimis rule), and this many packs at least, before they read
    as wholesale distribution.

    Volume, counted per operation (shipments, decommissions; not commissions: makers produce
    in campaigns) on a member's working days, a day after closed days carrying their demand
    too (at most ``volume_max_covered_days``): a day is a spike when its log demand lies more
    than ``volume_robust_z`` robust deviations (the scaled median absolute deviation of the
    log daily demand over the 2 × ``volume_baseline_days`` working days nearest to it,
    either side or, for the latest days, before it; at least ``min_days``: the member's
    level of the days around it, as its demand drifts; at least ``volume_min_spread``)
    above the median, its count is over
    ``volume_ratio`` times the expected count, and at least ``volume_min_excess`` more, and
    neither neighbouring working day is over ``volume_ratio`` times its expected count (a
    surge that lasts); under ``volume_clear_ratio`` times the expected count, its next
    ``volume_lull_days`` working days together must fall under ``volume_lull_share`` of their
    expected count (the stock it took); not when the working day before it fell short by
    ``volume_catch_up_share`` of its excess or more (demand that waited), nor when its
    ``volume_lull_days`` working days before it were over their expected count together by
    ``volume_rise_share`` of its excess or more (demand rising into it); not when
    ``volume_network_members`` or more members of a role spike the same day (a campaign).

    Hours: a transaction is flagged outside the member's opening hours in its own time zone
    (its master data: hours per weekday, holidays), widened by ``hours_grace_minutes``. Where
    the master data gives none, ``business_hours`` (opening hour, closing hour) stand in, and
    only a transaction in an hour holding under ``quiet_hour_share`` of the member's own
    transactions (of at least ``min_member_events``) is flagged.
    """

    custody_slack_seconds: int = HOUR
    rescan_seconds: int = 600
    two_places_window: int = 2 * DAY
    not_received_days: float = 14.0
    not_received_min_samples: int = 3
    lane_usual_quantile: float = 0.7
    missed_truck_days: int = 1
    lane_relative_slack: float = 0.15
    min_lane_samples: int = 8
    max_days_off: int = 4
    rare_lane_share: float = 0.01
    rare_lane_count: int = 2
    min_owner_shipments: int = 50
    rare_network_count: int = 4
    patient_transfer_max_packs: int = 3
    dispenser_transfer_share: float = 0.05
    dispenser_transfer_min_packs: int = 5
    dispenser_transfer_days: int = 30
    volume_ratio: float = 2.2
    volume_clear_ratio: float = 4.0
    volume_lull_days: int = 3
    volume_lull_share: float = 1.0
    volume_catch_up_share: float = 0.5
    volume_rise_share: float = 1.0
    volume_min_excess: int = 10
    volume_baseline_days: int = 4
    volume_robust_z: float = 1.5
    volume_min_spread: float = 0.15
    volume_network_members: int = 3
    volume_max_covered_days: int = 4
    min_days: int = 7
    business_hours: tuple[int, int] = (6, 22)
    hours_grace_minutes: int = 30
    quiet_hour_share: float = 0.01
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
