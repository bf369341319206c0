"""How far a pharmacy's ordinary days swing, beside the volume spikes injected into simulated
worlds: for each ratio of a day's dispenses to its usual day (the baseline of the
``VOLUME_SPIKE`` detector), how many ordinary days reach it and how many injected spikes do.
The best precision any threshold on that ratio can have, with the subtle recall it keeps, says
whether a miss is the detector's or lies in the day counts themselves.

python scripts/volume_swing.py .rxledger/sim-dense-1 .rxledger/sim-sparse-2 [--out FILE]

Each folder is a world that ``scripts/simulate.py`` (or ``eval_anomalies.py``) wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _harness import arguments

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import AnomalyConfig
from ledger_client.audit.learned import daily_volumes
from ledger_client.audit.logs import load_logs
from ledger_client.audit.replay import replay_logs
from ledger_client.sim.evaluate import incident_keys, read_jsonl

RATIOS = (2.0, 2.2, 2.5, 3.0, 4.0)


def swing(directory: Path, cfg: AnomalyConfig) -> dict[str, Any]:
    """Dispense days of ``directory``'s world that pass the detector's excess floor: the
    injected spikes' ratios by level, and how many ordinary days (no spike within a day)
    reach each of :data:`RATIOS`."""
    model = replay_logs(load_logs(directory / "logs.jsonl").logs).model
    say = Catalogue.load(directory / "catalogue.json").describer(model)
    truth = [t for t in read_jsonl(directory / "truth.jsonl") if t["kind"] == "VOLUME_SPIKE"]
    level = {s.lower(): t["level"] for t in truth for s in t["subjects"]}
    near = set().union(*(incident_keys(t["subjects"]) for t in truth))
    injected: dict[str, list[float]] = {"obvious": [], "subtle": []}
    ordinary: list[float] = []
    days = 0
    for v in daily_volumes(model, cfg, say):
        if v.op != "decommissions" or v.expected <= 0:
            continue
        key = f"{v.member}@{v.day}".lower()
        ratio = v.count / v.expected
        if key in level:
            injected[level[key]].append(round(ratio, 2))
        elif key not in near:
            days += 1
            if v.count > v.expected + cfg.volume_min_excess:
                ordinary.append(ratio)
    rows = []
    for r in RATIOS:
        over = {lv: sum(x >= r for x in xs) for lv, xs in injected.items()}
        natural = sum(x >= r for x in ordinary)
        hit = over["obvious"] + over["subtle"]
        rows.append(
            {
                "ratio": r,
                "ordinary_days_over": natural,
                "obvious_over": over["obvious"],
                "subtle_over": over["subtle"],
                "best_precision": round(hit / (hit + natural), 3) if hit + natural else 1.0,
                "subtle_recall": round(over["subtle"] / len(injected["subtle"]), 3)
                if injected["subtle"]
                else 1.0,
            }
        )
    return {
        "world": directory.name,
        "ordinary_days": days,
        "injected": {lv: sorted(xs) for lv, xs in injected.items()},
        "thresholds": rows,
    }


def table(worlds: list[dict[str, Any]]) -> str:
    """The report as a fixed-width table, one line per world and ratio."""
    lines = [
        f"{'world':<16}{'ratio':>6}{'ordinary':>10}{'obvious':>9}{'subtle':>8}"
        f"{'precision':>11}{'subtle recall':>15}"
    ]
    for w in worlds:
        inj = w["injected"]
        for row in w["thresholds"]:
            lines.append(
                f"{w['world']:<16}{row['ratio']:>6}{row['ordinary_days_over']:>10}"
                f"{row['obvious_over']:>5}/{len(inj['obvious']):<3}"
                f"{row['subtle_over']:>4}/{len(inj['subtle']):<3}"
                f"{row['best_precision']:>11.3f}{row['subtle_recall']:>15.3f}"
            )
    return "\n".join(lines)


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("worlds", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    args = ap.parse_args()
    cfg = AnomalyConfig()
    worlds = [swing(d, cfg) for d in args.worlds]
    print(table(worlds))
    for w in worlds:
        print(
            f"{w['world']}: {w['ordinary_days']} ordinary dispense days, injected {w['injected']}"
        )
    if args.out:
        args.out.write_text(json.dumps(worlds, indent=2) + "\n")


if __name__ == "__main__":
    main()
