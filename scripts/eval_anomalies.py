"""Score the anomaly detectors on a simulated world: precision per kind, recall on obvious
and on subtle incidents. Builds the world first (scripts/simulate.py) unless it is there.

python scripts/eval_anomalies.py --preset dense --seed 1 [--in DIR] [--rebuild] [--json]
    [--out docs/results/anomalies-dense-1.json]
"""

from __future__ import annotations

import json
from pathlib import Path

from _harness import arguments
from simulate import add_world_arguments, default_out, world_config

from ledger_client.sim.evaluate import evaluate, table
from ledger_client.sim.run import simulate


def main() -> None:
    ap = arguments(__doc__)
    add_world_arguments(ap)
    ap.add_argument("--in", dest="directory", type=Path, default=None)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the JSON report")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    args = ap.parse_args()
    directory = args.directory or default_out(args)
    if args.rebuild or not (directory / "truth.jsonl").is_file():
        simulate(directory, world_config(args), args.seed, args.port, args.preset, args.start)
    report = evaluate(directory)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.json:
        print(json.dumps(report))
        return
    print(table(report))
    sim = report["simulation"]
    print(
        f"\n{sim['preset']} seed {sim['seed']}: {report['packs']} packs, {report['events']} events "
        f"over {sim['days']:.1f} days, {sim['members']} members; built in "
        f"{sim['total_seconds']} s; replay {report['replay_seconds']} s, detect "
        f"{report['detect_seconds']} s; divergences {report['divergences']}"
    )


if __name__ == "__main__":
    main()
