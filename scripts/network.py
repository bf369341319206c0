"""`make network`: a four-partner consortium network on this machine. Runs the network
folder ``rxledger network init`` wrote (default .rxledger/network): each partner's geth Clique
signer, PostgreSQL for the partners whose gateway uses it, the contracts (deployed on the
first run), each partner's gateway on its own node; then plays a shipment through three of
them and serves until Ctrl-C.

    python scripts/network.py [FOLDER] [--no-serve]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_client.dev.consortium import Consortium  # noqa: E402
from ledger_client.dev.netfolder import NetworkFolder  # noqa: E402
from ledger_client.dev.netscenario import play_shipment  # noqa: E402


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path(".rxledger/network"))
    parser.add_argument("--no-serve", action="store_true", help="stop after the scenario")
    args = parser.parse_args()
    folder = NetworkFolder.load(args.folder)
    consortium = Consortium(folder, say=lambda s: print(f"- {s}", flush=True))
    try:
        with consortium:
            shipment = play_shipment(consortium)
            print(f"\nshipment of lot {shipment.lot} in case {shipment.case}:")
            for partner, what, result in shipment.steps:
                print(f"  {partner:<14} {what}: {result}")
            print("\npartners:")
            for p in folder.partners:
                store = "PostgreSQL" if p.database == "postgresql" else "SQLite"
                print(f"  {p.name:<14} node {p.chain_url}  gateway {p.gateway_url}  ({store})")
            print(f"console keys and settings: {folder.root}/<partner>/gateway/gateway.env")
            if not args.no_serve:
                print("serving; Ctrl-C stops", flush=True)
                while True:
                    time.sleep(3600)
    except KeyboardInterrupt:
        pass
    print("network stopped", flush=True)


if __name__ == "__main__":
    main()
