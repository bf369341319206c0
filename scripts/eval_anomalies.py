"""Score the anomaly detectors on a simulation written by scripts/simulate.py.

python scripts/eval_anomalies.py --in .rxledger/sim [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger_client.sim.evaluate import evaluate, table  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
