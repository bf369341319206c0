"""`make run`: the demo network. Starts anvil (state kept in .rxledger/), deploys the demo
consortium on first run, plays the demo scenario (new lots each run), then serves the
gateway for the pharmacy page until Ctrl-C.

    python scripts/demo.py [--no-serve] [--port 8545] [--gateway-port 8000] [--packs 1600 800]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.core.config import LOCAL_CONSOLE_KEY  # noqa: E402
from ledger_client.chain import connect, dev_account  # noqa: E402
from ledger_client.contracts import Deployment  # noqa: E402
from ledger_client.dev.anvil import Anvil  # noqa: E402
from ledger_client.dev.demo import (  # noqa: E402
    ScenarioLog,
    register_products,
    run_scenario,
    scenario_size_error,
)
from ledger_client.devnet import DevNetwork, deploy_devnet, ledgers_for  # noqa: E402
from ledger_client.errors import ConfigurationError  # noqa: E402

STATE_DIR = Path(".rxledger")
DEPLOYMENT = STATE_DIR / "deployment.json"
RUNS = STATE_DIR / "demo-runs.json"


def network(chain_url: str) -> tuple[DevNetwork, bool]:
    """Attach to the saved deployment when it is live on this chain, else deploy anew (and
    forget the gateway's index of the old chain)."""
    w3 = connect(chain_url)
    if DEPLOYMENT.is_file():
        try:
            saved: Deployment | None = Deployment.load(DEPLOYMENT)
        except ConfigurationError as exc:  # a file of an older RxLedger's contracts
            print(f"{exc}: deploying anew")
            saved = None
        if saved is not None and saved.is_live(w3):
            return DevNetwork(saved, ledgers_for(w3, saved)), False
    (STATE_DIR / "gateway.db").unlink(missing_ok=True)
    net = deploy_devnet(w3)
    net.deployment.save(DEPLOYMENT)
    RUNS.unlink(missing_ok=True)
    return net, True


def next_run() -> int:
    """Return the number of this run on the current deployment, and remember it."""
    run = json.loads(RUNS.read_text())["runs"] + 1 if RUNS.is_file() else 1
    RUNS.write_text(json.dumps({"runs": run}))
    return run


def show(net: DevNetwork, log: ScenarioLog, run: int, fresh: bool) -> None:
    """Print what the scenario did."""
    print(
        f"\nRxLedger demo network, run {run} ({'new deployment' if fresh else 'continued chain'})"
    )
    print(f"  registry {net.deployment.registry}  consortium {net.deployment.consortium}")
    print(f"\n{'step':<48}{'tx':>4}{'gas':>14}")
    for step, txs, gas in log.steps:
        print(f"{step:<48}{txs:>4}{gas:>14,}")
    print("\nscans during the scenario, with the status each got then:")
    for gtin, serial, status in log.verifications:
        print(f"  (01){gtin}(21){serial:<14} {status}")
    for note in log.notes:
        print(f"  note: {note}")
    print("\ncodes to try on the pharmacy page or with `rxledger verify`, with their status now:")
    for c in log.codes:
        print(f"  {c.status:<15} {c.code}  ({c.why})")


def serve_gateway(chain_url: str, port: int) -> int | None:
    """Run the gateway as pharmacy A's service. Return its exit status if it ends on its own,
    None when the demo is interrupted (the gateway is then stopped first)."""
    env = {
        **os.environ,
        "RXLEDGER_ENVIRONMENT": "local",
        "RXLEDGER_CHAIN_URL": chain_url,
        "RXLEDGER_DEPLOYMENT_FILE": str(DEPLOYMENT.resolve()),
        "RXLEDGER_DATABASE_URL": f"sqlite:///{(STATE_DIR / 'gateway.db').resolve()}",
        "RXLEDGER_OPERATOR_KEY": dev_account("pharmacy_a").key.hex(),
        "RXLEDGER_CONFIRMATION_DEPTH": "0",
        "RXLEDGER_PORT": str(port),
        "RXLEDGER_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    print(
        f"\ngateway of pharmacy A: http://127.0.0.1:{port}/ (pharmacy page; staff key "
        f"{LOCAL_CONSOLE_KEY!r}), http://127.0.0.1:{port}/docs (API); Ctrl-C stops",
        flush=True,
    )
    gateway = subprocess.Popen([sys.executable, "-m", "gateway"], env=env)
    try:
        return gateway.wait()
    except KeyboardInterrupt:
        gateway.terminate()
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()
        return None


def exit_status(returncode: int | None) -> str:
    """How a process ended, from its Popen return code."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        return f"killed by signal {-returncode} ({signal.strsignal(-returncode) or 'unknown'})"
    return f"exit code {returncode}"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # stop anvil cleanly: it saves its state
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--gateway-port", type=int, default=8000)
    parser.add_argument(
        "--packs", type=int, nargs=2, default=(1600, 800), help="packs of lot A and B"
    )
    parser.add_argument("--no-serve", action="store_true", help="stop after the scenario")
    args = parser.parse_args()
    problem = scenario_size_error(tuple(args.packs))
    if problem:
        parser.error(problem)
    gateway_status: int | None = None
    with Anvil(port=args.port, state_file=STATE_DIR / "anvil-state.json") as node:
        net, fresh = network(node.url)
        register_products(net, f"http://127.0.0.1:{args.gateway_port}")
        run = next_run()
        log = run_scenario(net, run, tuple(args.packs), say=lambda s: print(f"- {s}", flush=True))
        show(net, log, run, fresh)
        if not args.no_serve:
            gateway_status = serve_gateway(node.url, args.gateway_port)
            if gateway_status is not None:
                print(f"\nthe gateway exited: {exit_status(gateway_status)}", file=sys.stderr)
        print(f"stopping anvil (it saves the chain state in {node.state_file})", flush=True)
    print(f"anvil stopped: {exit_status(node.returncode)}", flush=True)
    if gateway_status is not None:
        sys.exit(1)


if __name__ == "__main__":
    main()
