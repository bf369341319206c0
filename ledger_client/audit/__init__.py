"""Audit: replay the on-chain history, compare it with the contracts, trace custody, find
anomalies, raise alerts and write regulators' reports."""

from ledger_client.audit.history import custody_chain, lot_trace
from ledger_client.audit.logs import LogExport, LogFileError, export_logs, load_logs
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.replay import (
    Divergence,
    ReplayResult,
    audit,
    compare_with_chain,
    replay_logs,
)
from ledger_client.audit.state import RuleViolation
from ledger_client.logs import RawLog, fetch_logs

__all__ = [
    "Divergence",
    "LogExport",
    "LogFileError",
    "RawLog",
    "RegistryModel",
    "ReplayResult",
    "RuleViolation",
    "audit",
    "compare_with_chain",
    "custody_chain",
    "export_logs",
    "fetch_logs",
    "load_logs",
    "lot_trace",
    "replay_logs",
]
