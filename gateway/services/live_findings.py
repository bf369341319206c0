"""Live anomaly findings: the auditor's detectors run in the gateway as the chain is indexed.

The gateway keeps the auditor's :class:`~ledger_client.audit.model.RegistryModel` in memory,
fed with the events the index stores (``chain_events``, in their order) and the scans it
records (``verifications``), and runs :func:`ledger_client.audit.anomalies.detect` over it as
at the block the index stands at: the same function, on the same events, that
``rxledger audit anomalies`` runs over a full replay, so the live findings are the batch
audit's.

Each finding has a stable identity (:func:`finding_key`: its kind, its subject and the
transactions of its evidence). A new one becomes an ``anomaly`` alert, restricted to the
members it names (and regulators and auditors); one that is no longer found is withdrawn as
the reorg code withdraws alerts: listed with when and why, sent again to the webhooks and
streams that had it. That happens when a reorganisation undid the blocks that raised it, and
when later events explain it (a delayed shipment received).

Everything runs in the indexer's thread, after each step has committed
(:data:`gateway.indexer.BlockHook`): the model is fed from committed rows only, the detectors
run outside any transaction (the index's write lock is not held meanwhile), and the alerts are
written in one short transaction. When the index no longer holds the model's last event (a
rollback; a restart) the model is rebuilt from the stored events, and findings already alerted
are not raised again. Detection costs a pass over the whole history, so it runs at most every
``interval`` seconds; what changed meanwhile is covered by the next run (an idle step runs it
too).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import Connection, Engine, func, select
from web3 import Web3

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.projection import event_of
from gateway.schemas import AlertKind, Severity
from gateway.services.alerts import raise_alert, withdraw_alert
from gateway.services.chain import Chain
from gateway.services.scans import scan_rows
from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import AnomalyConfig, Finding
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.scans import VerificationRecord
from ledger_client.errors import InvalidInputError

log = get_logger("rxledger.findings")

#: Stored events read back per query when the model is rebuilt from the index.
READ_BATCH = 5000
#: A finding's severity as an alert's.
SEVERITY: dict[str, Severity] = {
    "LOW": "info",
    "MEDIUM": "warning",
    "HIGH": "critical",
    "CRITICAL": "critical",
}
KEY_PREFIX = "finding:"
#: Seconds before detection is tried again after it failed (an error is logged each time).
RETRY_SECONDS = 30.0


def load_thresholds(path: Path | None) -> AnomalyConfig:
    """The detectors' thresholds: :class:`AnomalyConfig`'s defaults, with the fields a JSON
    object in ``path`` gives; raise :class:`InvalidInputError` naming an unknown field."""
    if path is None:
        return AnomalyConfig()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"anomaly thresholds {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInputError(f"anomaly thresholds {path}: a JSON object of thresholds")
    known = {f.name for f in fields(AnomalyConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInputError(
            f"anomaly thresholds {path}: unknown {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return AnomalyConfig(**raw)


def load_catalogue(path: Path | None, chain: Chain) -> Catalogue:
    """The master data the findings' words come from, as ``rxledger audit anomalies
    --catalogue`` reads it: the file's (if any), members named as the deployment names them."""
    catalogue = Catalogue.load(path) if path is not None else Catalogue()
    catalogue.add_members(chain.deployment)
    return catalogue


def evidence_transactions(finding: Finding) -> list[str]:
    """The transactions of ``finding``'s evidence, sorted."""
    return sorted({str(e["tx"]) for e in finding.evidence if e.get("type") == "transaction"})


def finding_key(finding: Finding) -> str:
    """The finding's identity as an alert key: its kind, and a digest of its subject (the
    items, shipment or member) and its evidence transactions."""
    what = "|".join([finding.subject, *evidence_transactions(finding)])
    return f"{KEY_PREFIX}{finding.kind}:{hashlib.sha256(what.encode()).hexdigest()[:32]}"


def _addresses(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _addresses(v)


def finding_members(finding: Finding, model: RegistryModel) -> set[str]:
    """The members a finding concerns: those its evidence and inputs name (actors,
    recipients, scanning members, owners, lanes), the member of a ``member@day`` subject, and
    the lot owner and holder of a pack or lot subject."""
    members = model.members
    named = {a for e in finding.evidence for v in e.values() for a in _addresses(v)}
    named |= {a for v in finding.inputs.values() for a in _addresses(v)}
    subject = finding.subject
    named.add(subject.partition("@")[0])
    if subject.startswith("0x") and len(subject) == 66:
        record = bytes.fromhex(subject[2:])
        pack, lot = model.packs.get(record), model.lots.get(record)
        if pack is not None:
            named |= {pack.lot.owner, model.custodian_of(pack)}
        elif lot is not None:
            named.add(lot.owner)
    return {a for a in named if a in members}


def _message(f: Finding) -> str:
    threshold = f" (threshold: {f.threshold})" if f.threshold else ""
    return f"{f.kind}: {f.seen}; {f.why}{threshold}"


class FindingMetrics:
    """Prometheus metrics of the live detectors, on the gateway's registry."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        kw: dict[str, Any] = {"registry": registry}
        self.seconds = Histogram(
            "rxledger_anomaly_detection_seconds",
            "Time of one run of the anomaly detectors over the whole indexed history",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            **kw,
        )
        self.findings = Gauge(
            "rxledger_anomaly_findings", "Findings of the last detection run", ["kind"], **kw
        )
        self.alerts = Counter(
            "rxledger_anomaly_alerts",
            "Finding alerts raised and withdrawn",
            ["change"],
            **kw,
        )
        self.events = Gauge(
            "rxledger_anomaly_model_events", "Events in the detectors' model of the history", **kw
        )
        self.failures = Counter(
            "rxledger_anomaly_detection_failures", "Detection runs that raised an error", **kw
        )


@dataclass
class LiveFindings:
    """Keeps the audit model of the index and its findings' alerts up to date; its
    :meth:`at_block` is the indexer's block hook."""

    engine: Engine
    chain: Chain
    catalogue: Catalogue
    config: AnomalyConfig
    interval: float
    metrics: FindingMetrics

    def __post_init__(self) -> None:
        self.model: RegistryModel | None = None
        self.findings: list[Finding] = []
        self.as_of_block = -1
        self._last_row = 0
        self._scans: list[VerificationRecord] = []
        self._last_scan = 0
        self._changed = True
        self._rebuilt_at: int | None = None
        self._last_run = -math.inf
        self._retry_at = -math.inf

    # ------------------------------------------------------------ the hook

    def at_block(self, block: int) -> None:
        """Bring the model up to the index (at ``block``) and, when due, detect and reconcile
        the alerts. An error is logged and counted; indexing goes on, and the model is rebuilt
        for the next try, :data:`RETRY_SECONDS` later."""
        if time.monotonic() < self._retry_at:
            return
        try:
            with self.engine.connect() as conn:
                self._sync(conn, block)
            due = time.monotonic() - self._last_run >= self.interval
            due = due or self._rebuilt_at is not None  # a rollback is answered at once
            if not (self._changed and due) or block < self.chain.deployment.block:
                return
            found = self._detect(block)
            with self.engine.begin() as conn:
                self._reconcile(conn, found, block)
        except Exception as exc:  # noqa: BLE001 - indexing goes on; the model is rebuilt
            log.error("anomaly detection failed", block=block, error=repr(exc))
            self.metrics.failures.inc()
            self.model, self._retry_at = None, time.monotonic() + RETRY_SECONDS

    def _detect(self, block: int) -> list[Finding]:
        assert self.model is not None
        now = int(self.chain.w3.eth.get_block(block)["timestamp"])
        t0 = time.perf_counter()
        found = detect(self.model, self.catalogue, self._scans, now=now, config=self.config)
        seconds = time.perf_counter() - t0
        self._last_run, self._changed = time.monotonic(), False
        self.metrics.seconds.observe(seconds)
        self.metrics.findings.clear()
        for kind, n in _counts(found).items():
            self.metrics.findings.labels(kind).set(n)
        self.findings, self.as_of_block = found, block
        log.info("anomaly detection", block=block, findings=len(found), seconds=round(seconds, 3))
        return found

    # ------------------------------------------------------------ the model

    def _sync(self, conn: Connection, block: int) -> None:
        """Apply the stored events and scans the model lacks; rebuild it when the index no
        longer holds its last event (a rollback, or a step that failed after it was fed)."""
        if self.model is not None and not self._consistent(conn):
            self.model, self._rebuilt_at = None, block
        if self.model is None:
            self.model = RegistryModel(Web3.to_checksum_address(self.chain.deployment.consortium))
            self._last_row, self._changed = 0, True
        while rows := list(
            conn.execute(
                select(m.ChainEvent)
                .where(m.ChainEvent.id > self._last_row)
                .order_by(m.ChainEvent.id)
                .limit(READ_BATCH)
            )
        ):
            for row in rows:
                self.model.apply(event_of(row))  # type: ignore[arg-type]
            self._last_row, self._changed = rows[-1].id, True
        self.metrics.events.set(len(self.model.events))
        scans = scan_rows(conn, self._last_scan)
        if scans:
            self._scans += [record for _, record in scans]
            self._last_scan, self._changed = scans[-1][0], True
        if block != self.as_of_block:
            self._changed = True  # time passed: what is overdue depends on it

    def _consistent(self, conn: Connection) -> bool:
        """Whether the index still holds exactly the events the model was fed."""
        assert self.model is not None
        count = conn.execute(
            select(func.count()).select_from(m.ChainEvent).where(m.ChainEvent.id <= self._last_row)
        ).scalar_one()
        if count != len(self.model.events):
            return False
        if not self.model.events:
            return True
        last = self.model.events[-1]
        row = conn.execute(
            select(m.ChainEvent.tx_hash, m.ChainEvent.log_index).where(
                m.ChainEvent.id == self._last_row
            )
        ).first()
        return row is not None and (bytes(row[0]), row[1]) == (last.tx_hash, last.log_index)

    # ------------------------------------------------------------ alerts

    def _reconcile(self, conn: Connection, found: list[Finding], block: int) -> None:
        """Raise an alert for each new finding; withdraw those of findings gone."""
        assert self.model is not None
        live = {
            key: (alert_id, subject)
            for alert_id, key, subject in conn.execute(
                select(m.Alert.id, m.Alert.key, m.Alert.subject).where(
                    m.Alert.kind == AlertKind.ANOMALY.value, m.Alert.withdrawn_at.is_(None)
                )
            )
        }
        current = {finding_key(f): f for f in found}
        raised: dict[tuple[str, str], int] = {}
        for key, f in current.items():
            if key in live:
                continue
            members = finding_members(f, self.model)
            data = {
                "finding": f.as_dict(),
                "members": sorted(members),
                "transactions": evidence_transactions(f),
                "as_of_block": block,
            }
            severity = SEVERITY.get(f.severity, "warning")
            message = _message(f)
            raise_alert(
                conn, key, AlertKind.ANOMALY, severity, message, f.subject, None, data, members
            )
            new_id = conn.execute(select(m.Alert.id).where(m.Alert.key == key)).scalar_one()
            raised[(f.kind, f.subject)] = new_id
            self.metrics.alerts.labels("raised").inc()
        reorg, self._rebuilt_at = self._rebuilt_at, None
        for key, (alert_id, subject) in live.items():
            if key in current:
                continue
            kind = key.removeprefix(KEY_PREFIX).partition(":")[0]
            successor = raised.get((kind, subject))
            withdraw_alert(conn, alert_id, key, _why_gone(block, reorg, successor))
            self.metrics.alerts.labels("withdrawn").inc()


def _why_gone(block: int, reorg: int | None, successor: int | None) -> str:
    if reorg is not None:
        return (
            "the blocks whose events raised this finding left the chain "
            f"(a reorganisation back to block {reorg}); the detectors no longer find it"
        )
    if successor is not None:
        return f"the finding's evidence changed as at block {block}: alert {successor} replaces it"
    return f"the detectors no longer find it as at block {block}: later events explain it"


def _counts(found: list[Finding]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in found:
        out[f.kind] = out.get(f.kind, 0) + 1
    return out
