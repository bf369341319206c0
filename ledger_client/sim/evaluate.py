"""Score anomaly findings against a simulation's ground truth, per kind, split into obvious
and subtle incidents.

Matching. Every incident names its subjects: pack, lot or unit ids, transaction hashes,
``member@day`` (the member's local date, days from 1970-01-01) and ``scan:GTIN:serial``. A
finding's keys are its subject and, for each scan in its evidence, ``scan:GTIN:serial``
(compared case-insensitively); a ``member@day`` subject matches an incident's ``member@day``
of the same member within one day. A finding is

- **true** when it matches an incident of its own kind;
- **explained** when it matches an incident whose ``accept`` lists the finding's kind (a
  clone scanned at a pharmacy that does not hold the pack is both ``VERIFIED_TWO_PLACES``
  and ``SCAN_WITHOUT_CUSTODY``), or an incident of its kind that is not scored
  (``unscored`` gives why: the end of the world cut it short, a later transaction of it
  never mined; a volume spike adding fewer packs than the smallest spike scored): neither
  true nor false;
- **false** otherwise (and attributed, where its keys meet one, to the legitimate flow that
  raised it: ``flows.jsonl``).

Per kind: precision = true / (true + false) (1.0 when nothing was found); recall on obvious
(subtle) incidents = obvious (subtle) incidents matched by at least one true finding / all
obvious (subtle) incidents of the kind (1.0 when there are none); ``unscored`` incidents are
not counted, and are listed per kind apart.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import Finding
from ledger_client.audit.logs import load_logs
from ledger_client.audit.replay import replay_logs
from ledger_client.audit.scans import read_scans
from ledger_client.sim.plan import KINDS, LEVELS

#: The targets of issue 14.
TARGETS = {"precision": 0.95, "recall_obvious": 0.95, "recall_subtle": 0.8}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file (none if it is missing)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _member_day(key: str) -> tuple[str, int] | None:
    member, at, day = key.partition("@")
    return (member, int(day)) if at and day.lstrip("-").isdigit() else None


def incident_keys(subjects: list[str]) -> set[str]:
    """An incident's (or a flow's) keys: its subjects, a ``member@day`` also a day either side."""
    keys: set[str] = set()
    for s in subjects:
        s = s.lower()
        keys.add(s)
        md = _member_day(s)
        if md:
            keys.update(f"{md[0]}@{md[1] + k}" for k in (-1, 1))
    return keys


def finding_keys(f: Finding) -> set[str]:
    """A finding's keys: its subject, and ``scan:GTIN:serial`` for each scan in its evidence."""
    keys = {f.subject.lower()}
    for e in f.evidence:
        if e.get("type") == "scan" and e.get("gtin") and e.get("serial"):
            keys.add(f"scan:{e['gtin']}:{e['serial']}".lower())
    return keys


@dataclass
class KindScore:
    """Findings and incidents of one kind."""

    kind: str
    findings: int = 0
    true: int = 0
    explained: int = 0
    false: int = 0
    incidents: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float:
        """true / (true + false); 1.0 when nothing was found."""
        return self.true / (self.true + self.false) if self.true + self.false else 1.0

    def recall(self, level: str) -> float:
        """Incidents of ``level`` found / injected; 1.0 when none were injected."""
        n = self.incidents[level]
        return self.found[level] / n if n else 1.0

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "kind": self.kind,
            "findings": self.findings,
            "true": self.true,
            "explained": self.explained,
            "false": self.false,
            "precision": round(self.precision, 4),
            **{f"incidents_{lv}": self.incidents[lv] for lv in LEVELS},
            **{f"found_{lv}": self.found[lv] for lv in LEVELS},
            **{f"recall_{lv}": round(self.recall(lv), 4) for lv in LEVELS},
        }


@dataclass
class Scored:
    """Scores, and the findings and incidents behind them: the false findings, the scored
    incidents missed and the incidents not scored."""

    kinds: list[KindScore]
    false: list[tuple[Finding, list[str]]]
    missed: list[dict[str, Any]]
    unscored: list[dict[str, Any]]


def score(
    findings: list[Finding],
    truth: list[dict[str, Any]],
    flows: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> Scored:
    """Match ``findings`` to the incidents of ``truth`` (rows of ``truth.jsonl``) by the rule
    of the module docstring; false findings carry the flows their keys meet."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(truth):
        for k in incident_keys(t["subjects"]):
            by_key[k].append(i)
    flow_of: dict[str, set[str]] = defaultdict(set)
    for fl in flows:
        for k in incident_keys(fl["subjects"]):
            flow_of[k].add(fl["flow"])
    kinds = list(KINDS) + sorted({f.kind for f in findings} - set(KINDS))
    scores = {k: KindScore(k) for k in kinds}
    hit: set[int] = set()
    false: list[tuple[Finding, list[str]]] = []
    for f in findings:
        s = scores[f.kind]
        s.findings += 1
        keys = finding_keys(f)
        matched = {i for k in keys for i in by_key.get(k, ())}
        own = {i for i in matched if truth[i]["kind"] == f.kind}
        whole = {i for i in own if not truth[i].get("unscored")}
        if whole:
            s.true += 1
            hit.update(whole)
        elif own or any(f.kind in truth[i].get("accept", ()) for i in matched):
            s.explained += 1
        else:
            s.false += 1
            false.append((f, sorted({n for k in keys for n in flow_of.get(k, ())})))
    missed, unscored = [], []
    for i, t in enumerate(truth):
        if t.get("unscored"):
            unscored.append(t)
            continue
        s = scores.setdefault(t["kind"], KindScore(t["kind"]))
        s.incidents[t["level"]] += 1
        if i in hit:
            s.found[t["level"]] += 1
        else:
            missed.append(t)
    return Scored(list(scores.values()), false, missed, unscored)


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
    return report(
        meta,
        findings,
        read_jsonl(directory / "truth.jsonl"),
        read_jsonl(directory / "flows.jsonl"),
        {
            "events": result.events,
            "packs": len(result.model.packs),
            "divergences": len(result.divergences),
            "replay_seconds": round(t1 - t0, 2),
            "detect_seconds": round(t2 - t1, 2),
        },
    )


def report(
    meta: dict[str, Any],
    findings: list[Finding],
    truth: list[dict[str, Any]],
    flows: list[dict[str, Any]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The JSON report of one world: per-kind scores, totals, false findings by flow, examples."""
    s = score(findings, truth, flows)
    by_flow: dict[str, Counter[str]] = defaultdict(Counter)
    for f, names in s.false:
        for n in names or ["(no flow)"]:
            by_flow[f.kind][n] += 1
    false_examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f, names in s.false:
        if len(false_examples[f.kind]) < 3:
            false_examples[f.kind].append({"subject": f.subject, "seen": f.seen, "flows": names})
    missed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in s.missed:
        if len(missed[t["kind"]]) < 3:
            missed[t["kind"]].append(
                {"level": t["level"], "subjects": t["subjects"], "evidence": t["evidence"]}
            )
    total = KindScore("ALL")
    for k in s.kinds:
        total.findings += k.findings
        total.true += k.true
        total.explained += k.explained
        total.false += k.false
        total.incidents.update(k.incidents)
        total.found.update(k.found)
    return {
        "simulation": meta,
        **extra,
        "findings": len(findings),
        "kinds": [k.as_dict() for k in s.kinds],
        "total": total.as_dict(),
        "targets": TARGETS,
        "false_by_flow": {k: dict(v) for k, v in by_flow.items()},
        "examples": {"false": dict(false_examples), "missed": dict(missed)},
        "unscored": [
            {k: t[k] for k in ("kind", "level", "subjects", "unscored", "evidence")}
            for t in s.unscored
        ],
    }


def table(rep: dict[str, Any]) -> str:
    """The per-kind scores as a fixed-width table."""
    head = (
        "kind",
        "findings",
        "true",
        "expl",
        "false",
        "precision",
        "obvious",
        "recall",
        "subtle",
        "recall",
    )
    rows = [head]
    for k in [*rep["kinds"], rep["total"]]:
        rows.append(
            (
                k["kind"],
                str(k["findings"]),
                str(k["true"]),
                str(k["explained"]),
                str(k["false"]),
                f"{k['precision']:.3f}",
                f"{k['found_obvious']}/{k['incidents_obvious']}",
                f"{k['recall_obvious']:.3f}",
                f"{k['found_subtle']}/{k['incidents_subtle']}",
                f"{k['recall_subtle']:.3f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    apart = Counter(t["kind"] for t in rep.get("unscored", ()))
    if apart:
        lines.append("not scored: " + ", ".join(f"{k} {n}" for k, n in sorted(apart.items())))
    return "\n".join(lines)
