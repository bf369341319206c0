"""Simulate multi-member traffic with injected anomalies on anvil; write history and truth.

python scripts/simulate.py --seed 1 --packs 100000 --anomaly-rate 0.01 --out .rxledger/sim
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger_client.sim.run import simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--packs", type=int, default=100_000)
    ap.add_argument("--anomaly-rate", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=ROOT / ".rxledger" / "sim")
    ap.add_argument("--port", type=int, default=8555)
    args = ap.parse_args()
    if args.packs < 100 or not 0 < args.anomaly_rate < 0.5:
        ap.error("--packs must be at least 100 and --anomaly-rate in (0, 0.5)")
    meta = simulate(args.out, args.seed, args.packs, args.anomaly_rate, args.port)
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
