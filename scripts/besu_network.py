"""Generate the Besu (QBFT) configuration of a production RxLedger network from a spec file.

python scripts/besu_network.py network.json --out besu/
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_client.dev.besu import NetworkSpec, write_network  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="JSON: chain_id, validators, accounts")
    parser.add_argument("--out", type=Path, default=Path("besu"))
    args = parser.parse_args()
    spec = NetworkSpec.from_json(json.loads(args.spec.read_text()))
    for path in write_network(spec, args.out):
        print(path)


if __name__ == "__main__":
    main()
