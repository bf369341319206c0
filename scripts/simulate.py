"""Simulate multi-member traffic with injected anomalies on anvil; write history and truth.

python scripts/simulate.py --seed 1 --packs 100000 --anomaly-rate 0.01 --out .rxledger/sim
"""

from __future__ import annotations

import json
from pathlib import Path

from _harness import ROOT, history_arguments

from ledger_client.sim.run import simulate


def main() -> None:
    ap = history_arguments(__doc__, port=8555)
    ap.add_argument("--anomaly-rate", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=ROOT / ".rxledger" / "sim")
    args = ap.parse_args()
    if args.packs < 100 or not 0 < args.anomaly_rate < 0.5:
        ap.error("--packs must be at least 100 and --anomaly-rate in (0, 0.5)")
    meta = simulate(args.out, args.seed, args.packs, args.anomaly_rate, args.port)
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
