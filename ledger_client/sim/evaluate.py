"""Score anomaly findings against a simulation's ground truth.

Matching: a finding matches an injected anomaly when it has the same ``kind`` and its
``subject`` is one of the anomaly's subjects (pack, lot or unit id, transaction hash, or
``member@day``; compared case-insensitively). Per kind, with T the set of true subjects and F
the set of subjects the detectors named: TP = |F ∩ T|, FP = |F − T|, FN = |T − F|; precision
TP/(TP+FP) (1.0 when nothing was found), recall TP/(TP+FN) (1.0 when nothing was injected).
An injection with two subjects (an expired lot's shipment and its receipt) counts twice.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import Finding
from ledger_client.audit.logs import load_logs
from ledger_client.audit.replay import replay_logs
from ledger_client.audit.scans import read_scans
from ledger_client.sim.plan import KINDS


@dataclass(frozen=True)
class KindScore:
    """Precision and recall of one kind."""

    kind: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing was found."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN); 1.0 when nothing was injected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "kind": self.kind,
            "injected": self.tp + self.fn,
            "found": self.tp + self.fp,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


def read_truth(path: Path) -> dict[str, set[str]]:
    """Read ``truth.jsonl`` into kind → subjects (lower case)."""
    out: dict[str, set[str]] = defaultdict(set)
    with path.open() as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                out[row["kind"]].update(s.lower() for s in row["subjects"])
    return out


def score(findings: list[Finding], truth: dict[str, set[str]]) -> list[KindScore]:
    """Per-kind TP/FP/FN of ``findings`` against ``truth`` (same kind + same subject)."""
    found: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        found[f.kind].add(f.subject.lower())
    kinds = list(KINDS) + sorted(set(found) - set(KINDS))
    return [
        KindScore(
            k,
            len(found[k] & truth.get(k, set())),
            len(found[k] - truth.get(k, set())),
            len(truth.get(k, set()) - found[k]),
        )
        for k in kinds
    ]


def evaluate(directory: Path) -> dict[str, Any]:
    """Replay the simulation's log export, run every detector, score against the truth."""
    meta = json.loads((directory / "meta.json").read_text())
    t0 = time.perf_counter()
    export = load_logs(directory / "logs.jsonl")
    result = replay_logs(export.logs)
    t1 = time.perf_counter()
    catalogue = Catalogue.load(directory / "catalogue.json")
    scans = read_scans(directory / "verifications.jsonl")
    findings = detect(result.model, catalogue, scans, now=meta["now"])
    t2 = time.perf_counter()
    truth = read_truth(directory / "truth.jsonl")
    scores = score(findings, truth)
    misses: dict[str, list[str]] = {}
    false: dict[str, list[str]] = {}
    by_kind: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        by_kind[f.kind].add(f.subject.lower())
    for s in scores:
        if s.fn:
            misses[s.kind] = sorted(truth[s.kind] - by_kind[s.kind])[:5]
        if s.fp:
            false[s.kind] = sorted(by_kind[s.kind] - truth.get(s.kind, set()))[:5]
    return {
        "simulation": meta,
        "events": result.events,
        "packs": len(result.model.packs),
        "divergences": len(result.divergences),
        "replay_seconds": round(t1 - t0, 2),
        "detect_seconds": round(t2 - t1, 2),
        "findings": len(findings),
        "kinds": [s.as_dict() for s in scores],
        "examples": {"missed": misses, "false": false},
        "min_precision": min(s.precision for s in scores),
        "min_recall": min(s.recall for s in scores),
    }


def table(report: dict[str, Any]) -> str:
    """The per-kind scores as a fixed-width table."""
    rows = [("kind", "injected", "found", "TP", "FP", "FN", "precision", "recall")]
    for k in report["kinds"]:
        rows.append(
            (
                k["kind"],
                str(k["injected"]),
                str(k["found"]),
                str(k["tp"]),
                str(k["fp"]),
                str(k["fn"]),
                f"{k['precision']:.3f}",
                f"{k['recall']:.3f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )
