"""What one run of the anomaly detectors costs a live gateway, on simulated worlds with their
scans: ``--runs`` runs, the world's history one log longer before each, on a model replayed
afresh each time (what a run paid while nothing was kept between runs; the baseline) and on
one model fed the new log, as the gateway's ``LiveFindings`` keeps it (the codes of its scans
looked up once). Both must find the same, run by run.

python scripts/bench_detect.py .rxledger/sim-dense-5 .rxledger/sim-sparse-6 [--runs 5]
    [--out docs/results/bench_detect.json]

Each folder is a world that ``scripts/simulate.py`` (or ``eval_anomalies.py``) wrote.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from _harness import ROOT, arguments

from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.logs import load_logs
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.replay import replay_logs
from ledger_client.audit.scans import read_scans

RESULTS = ROOT / "docs" / "results" / "bench_detect.json"


def _timed(model: RegistryModel, catalogue: Catalogue, scans: list[Any]) -> tuple[float, int]:
    t = time.perf_counter()
    found = detect(model, catalogue, scans)
    return time.perf_counter() - t, len(found)


def measure(directory: Path, runs: int) -> dict[str, Any]:
    """The baseline and the kept model's run times on ``directory``'s world: ``runs`` runs,
    one more log of the world's history before each, as a live gateway indexes it."""
    logs = load_logs(directory / "logs.jsonl").logs
    catalogue = Catalogue.load(directory / "catalogue.json")
    scans = read_scans(directory / "verifications.jsonl")
    ends = range(len(logs) - runs + 1, len(logs) + 1)
    fresh = [_timed(replay_logs(logs[:n]).model, catalogue, scans) for n in ends]
    kept_model = replay_logs(logs[: ends[0] - 1]).model
    _timed(kept_model, catalogue, scans)  # the run before
    kept = []
    for n in ends:
        replay_logs(logs[n - 1 : n], kept_model)
        kept.append(_timed(kept_model, catalogue, scans))
    if [n for _, n in fresh] != [n for _, n in kept]:
        raise SystemExit(f"{directory}: the kept model found other findings")
    return {
        "world": directory.name,
        "events": len(kept_model.events),
        "scans": len(scans),
        "findings": kept[-1][1],
        "fresh_median_s": round(statistics.median(t for t, _ in fresh), 4),
        "kept_median_s": round(statistics.median(t for t, _ in kept), 4),
        "runs": runs,
    }


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("worlds", type=Path, nargs="+")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    rows = [measure(d, args.runs) for d in args.worlds]
    print(f"{'world':<16}{'events':>8}{'scans':>7}{'findings':>10}{'fresh s':>9}{'kept s':>8}")
    for r in rows:
        print(
            f"{r['world']:<16}{r['events']:>8}{r['scans']:>7}{r['findings']:>10}"
            f"{r['fresh_median_s']:>9.3f}{r['kept_median_s']:>8.3f}"
        )
    args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
