"""Score the anomaly detectors on a simulation written by scripts/simulate.py.

python scripts/eval_anomalies.py --in .rxledger/sim [--json]
"""

from __future__ import annotations

import json
from pathlib import Path

from _harness import ROOT, arguments

from ledger_client.sim.evaluate import evaluate, table


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--in", dest="directory", type=Path, default=ROOT / ".rxledger" / "sim")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.directory / "truth.jsonl").is_file():
        ap.error(f"no simulation in {args.directory} (run scripts/simulate.py first)")
    report = evaluate(args.directory)
    if args.json:
        print(json.dumps(report))
        return
    print(table(report))
    sim = report["simulation"]
    print(
        f"\n{report['packs']} packs, {report['events']} events over {sim['days']:.1f} days; "
        f"replay {report['replay_seconds']} s, detect {report['detect_seconds']} s; "
        f"divergences {report['divergences']}"
    )


if __name__ == "__main__":
    main()
