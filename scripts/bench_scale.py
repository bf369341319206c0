"""How RxLedger's costs grow with the history, on a geth Clique network.

Starts ``--nodes`` geth Clique nodes, the first ``--signers`` of them sealing (block gas
limit ``--gas-limit``, one block every ``--period`` seconds; every node imports and executes
every block), deploys the demo network and grows a history of commissioned packs in
steps (100,000, 300,000, 1,000,000, ... up to ``--max-packs``, or the counts of ``--steps``):
the manufacturer and the repackager commission in parallel, each under its own company
prefix, through the dev bulk loader (signed locally, ``--in-flight-gas`` of transactions
unmined at a time). At each step:

- ingest: seconds, gas, the gas per second the network sustained;
- the gateway (``python -m gateway`` on node 1, SQLite index, stopped while packs are
  written): the seconds to index the step's new blocks, the index's bytes and rows, and
  ``GET /v1/verify`` under ``wrk`` for ``--seconds`` on the index path and on the chain path
  (``source=chain``: an eth_call to geth per request), p50 and p99;
- the auditor's full replay: fetch every log from node 1, replay it, compare with the
  contracts' state; the benchmark process's peak resident memory after it;
- node 1's chaindata on disk, and every node's resident memory.

Prints a table of the cost per pack at each step, or one JSON object with ``--json``;
writes docs/results/bench_scale.json (``--out``). The naive baseline of each step is the chain path.

    python scripts/bench_scale.py --max-packs 1000000 --json
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from _harness import ROOT, GatewayProcess, arguments, busy_ticks, log, resident
from bench_verify import login, lua_script, run_wrk

from ledger_client.audit.replay import compare_with_chain, replay_logs
from ledger_client.chain import connect, dev_account
from ledger_client.dev.bulk import BulkSender, gas_for
from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.devnet import demo_accounts, deploy_devnet
from ledger_client.ids import lot_hash, pack_word
from ledger_client.logs import fetch_logs

RESULTS = ROOT / "docs" / "results" / "bench_scale.json"
EXPIRY = "301231"
#: Each commissioner's product and lot (GTIN-14 under its own company prefix).
COMMISSIONERS = {"manufacturer": "09506000134352", "repackager": "00614142000011"}
LOT = "SCALE1"
ZERO = b"\x00" * 32


def steps(max_packs: int) -> list[int]:
    """100k, 300k, 1M, 3M, 10M, ... up to ``max_packs`` (which ends the list)."""
    out, base = [], 100_000
    while True:
        for k in (1, 3):
            if base * k >= max_packs:
                return [*out, max_packs]
            out.append(base * k)
        base *= 10


def du(path: Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def index_size(db: Path) -> dict[str, Any]:
    """The gateway's SQLite index: bytes on disk (with its WAL) and rows per table."""
    files = [db, db.with_name(db.name + "-wal")]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    return {"bytes": sum(f.stat().st_size for f in files if f.exists()), "rows": rows}


def commissioner(serial: int, per_tx: int) -> str:
    """Who commissions ``serial``: the commissioners take turns, ``per_tx`` serials each."""
    names = list(COMMISSIONERS)
    return names[(serial // per_tx) % len(names)]


def ingest(bulk: BulkSender, lots: dict[str, bytes], first: int, last: int, per_tx: int) -> None:
    """Queue and mine the commissioning of serials ``first``..``last - 1``, one transaction
    per run of ``per_tx`` serials (cut at the step's ends)."""
    start = first
    while start < last:
        end = min(last, (start // per_tx + 1) * per_tx)
        name = commissioner(start, per_tx)
        gtin, sender = COMMISSIONERS[name], dev_account(name).address
        words = [pack_word(gtin, f"S{i:09d}", LOT) for i in range(start, end)]
        bulk.call(sender, "commission", lots[name], ZERO, words, ZERO, items=len(words))
        start = end
    bulk.mine()


def codes(packs: int, per_tx: int, n: int) -> list[str]:
    """``n`` DataMatrix codes spread over the history's packs (URL-encoded)."""
    out = []
    for i in range(0, packs, max(1, packs // n)):
        gtin = COMMISSIONERS[commissioner(i, per_tx)]
        out.append(quote(f"]d201{gtin}17{EXPIRY}10{LOT}\x1d21S{i:09d}", safe=""))
    return out


def verify_latency(gateway: GatewayProcess, work: Path, sample: list[str], args: Any, pid: int):
    """wrk on the index path and on the chain path: their p50, p99, req/s and errors."""
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        token = login(client)
        check = client.get(
            f"/v1/verify?code={sample[-1]}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert check["status"] == "VERIFIED", check
    out = {}
    for path, suffix in (("index", ""), ("chain", "&source=chain")):
        script = work / f"{path}.lua"
        lua_script(script, sample, token, suffix)
        run_wrk(gateway.url + "/", script, 1, args.connections, gateway.pid, pid)  # warm-up
        out[path] = run_wrk(
            gateway.url + "/", script, args.seconds, args.connections, gateway.pid, pid
        )
        log(f"  verify {path}: {json.dumps(out[path])}")
    return out


def replay(w3: Any, deployment: Any) -> dict[str, Any]:
    """The auditor's full replay from node 1: fetch, replay, compare; seconds of each."""
    t0 = time.perf_counter()
    logs = fetch_logs(w3, deployment)
    t1 = time.perf_counter()
    result = replay_logs(logs)
    t2 = time.perf_counter()
    found, counts = compare_with_chain(result.model, w3, deployment)
    t3 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "events": len(logs),
        "fetch_seconds": round(t1 - t0, 2),
        "replay_seconds": round(t2 - t1, 2),
        "compare_seconds": round(t3 - t2, 2),
        "total_seconds": round(t3 - t0, 2),
        "divergences": len(found) + len(result.divergences),
        "compared_packs": counts["packs"],
        "peak_rss_bytes": peak,  # this process so far: the replay's model and logs at most
    }


def per_pack(step: dict[str, Any]) -> dict[str, float]:
    """The step's costs divided by the packs (ingest and indexing: by the step's new packs)."""
    n, new = step["packs"], step["new_packs"]
    return {
        "ingest_us": round(step["ingest_seconds"] / new * 1e6, 1),
        "gas": round(step["gas"] / new),
        "index_us": round(step["index_seconds"] / new * 1e6, 1),
        "index_bytes": round(step["index"]["bytes"] / n, 1),
        "chaindata_bytes": round(step["chaindata_bytes"] / n, 1),
        "replay_us": round(step["replay"]["total_seconds"] / n * 1e6, 2),
    }


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--max-packs", type=int, default=1_000_000)
    parser.add_argument(
        "--steps",
        type=lambda text: sorted({int(n) for n in text.split(",")}),
        default=None,
        help="the pack counts to measure at, comma-separated, instead of the ladder",
    )
    parser.add_argument(
        "--ready-timeout", type=int, default=1800, help="seconds the gateway may take to index"
    )
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument(
        "--signers", type=int, default=1, help="nodes that seal (4 stalled here, see the docs)"
    )
    parser.add_argument("--period", type=int, default=2, help="Clique block period, seconds")
    parser.add_argument("--gas-limit", type=int, default=1_000_000_000)
    parser.add_argument(
        "--in-flight-gas",
        type=int,
        default=400_000_000,
        help="gas of the unmined transactions (by the loader's limits; they use ~3/4):"
        " more than a block takes, so the pool is never empty when the next block starts",
    )
    parser.add_argument("--per-tx", type=int, default=900, help="packs per commission")
    parser.add_argument(
        "--cache", type=int, default=None, help="each node's geth --cache, MB (geth's default)"
    )
    parser.add_argument("--seconds", type=int, default=5, help="wrk seconds per path and step")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--codes", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=RESULTS, help="the JSON file to write")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # SIGTERM stops the nodes and the gateway on the way out, and keeps the steps done
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    geth_binary()
    in_flight = max(2, args.in_flight_gas // gas_for("commission", args.per_tx))
    results: list[dict[str, Any]] = []
    started, busy0 = time.perf_counter(), busy_ticks()
    with (
        tempfile.TemporaryDirectory(prefix="rxledger-scale-") as tmp,
        CliqueNetwork(
            args.nodes,
            args.period,
            demo_accounts(),
            gas_limit=args.gas_limit,
            signers=args.signers,
            cache_mb=args.cache,
        ) as network,
    ):
        work = Path(tmp)
        w3 = connect(network.nodes[0].url, timeout=600)
        net = deploy_devnet(w3)
        lots = {}
        for name, gtin in COMMISSIONERS.items():
            net[name].register_product(gtin, f"Scale tablets ({name})", "10 mg", "tablet")
            net[name].register_lot(gtin, LOT, EXPIRY)
            lots[name] = lot_hash(gtin, LOT)
        deployment = work / "deployment.json"
        net.deployment.save(deployment)
        accounts = {dev_account(n).address: dev_account(n) for n in COMMISSIONERS}
        bulk = BulkSender(w3, net.deployment.registry, accounts, in_flight)
        geth_pid = network.nodes[0].process.pid  # type: ignore[union-attr]
        done = 0
        for target in args.steps or steps(args.max_packs):
            log(f"step {target:,}: commissioning {target - done:,} packs")
            gas0, block0, t0 = bulk.gas_used, w3.eth.block_number, time.perf_counter()
            busy = busy_ticks()
            ingest(bulk, lots, done, target, args.per_tx)
            seconds = time.perf_counter() - t0
            blocks = w3.eth.block_number - block0
            step: dict[str, Any] = {
                "packs": target,
                "new_packs": target - done,
                "ingest_seconds": round(seconds, 1),
                "gas": bulk.gas_used - gas0,
                "gas_per_second": round((bulk.gas_used - gas0) / seconds),
                "blocks": blocks,
                "machine_busy_cores_ingest": round(
                    (busy_ticks() - busy) / os.sysconf("SC_CLK_TCK") / seconds, 2
                ),
            }
            step["heads"] = list(network.heads().values())  # the followers keep up?
            log(f"  ingest: {json.dumps(step)}")
            done = target
            t1 = time.perf_counter()
            gateway_process = GatewayProcess(
                network.nodes[0].url, deployment, work, ready_timeout=args.ready_timeout
            )
            with gateway_process as gateway:
                step["index_seconds"] = round(time.perf_counter() - t1, 1)
                step["index"] = index_size(work / "gateway.db")  # before wrk logs verifications
                sample = codes(done, args.per_tx, args.codes)
                step["verify"] = verify_latency(gateway, work, sample, args, geth_pid)
            step["replay"] = replay(w3, net.deployment)
            log(f"  replay: {json.dumps(step['replay'])}")
            step["chaindata_bytes"] = du(network.nodes[0].datadir / "geth" / "chaindata")
            step["geth_rss_bytes"] = [
                resident(n.process.pid).get("VmRSS", 0) for n in network.nodes if n.process
            ]
            step["per_pack"] = per_pack(step)
            results.append(step)
            write(args, results, started, busy0)
    report = write(args, results, started, busy0)
    if args.json:
        print(json.dumps(report))
    else:
        table(results)
    return 0


def write(args: Any, results: list[dict[str, Any]], started: float, busy0: int) -> dict[str, Any]:
    """Write the results so far (a long run keeps what it measured) and return them."""
    wall = time.perf_counter() - started
    gas_s = min(r["gas_per_second"] for r in results)
    gas_pack = results[-1]["per_pack"]["gas"]
    report = {
        "nodes": args.nodes,
        "signers": args.signers,
        "geth_cache_mb": args.cache,
        "period_seconds": args.period,
        "gas_limit": args.gas_limit,
        "in_flight_gas": args.in_flight_gas,
        "packs_per_transaction": args.per_tx,
        "cpus": os.cpu_count(),
        "machine_busy_cores": round((busy_ticks() - busy0) / os.sysconf("SC_CLK_TCK") / wall, 2),
        "wall_seconds": round(wall),
        "steps": results,
        "extrapolated_10m_ingest_hours": round(10_000_000 * gas_pack / gas_s / 3600, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'packs':>10} {'ingest s':>9} {'Mgas/s':>7} {'index s':>8} {'idx p50/p99 ms':>15}"
        f" {'chain p50/p99 ms':>17} {'index MB':>9} {'rows':>10} {'replay s':>9}"
        f" {'chaindata MB':>13}"
    )
    for r in results:
        v = r["verify"]
        print(
            f"{r['packs']:>10,} {r['ingest_seconds']:>9} {r['gas_per_second'] / 1e6:>7.1f}"
            f" {r['index_seconds']:>8} {v['index']['p50_ms']:>7.2f}/{v['index']['p99_ms']:<7.2f}"
            f" {v['chain']['p50_ms']:>8.2f}/{v['chain']['p99_ms']:<8.2f}"
            f" {r['index']['bytes'] / 1e6:>9.1f} {sum(r['index']['rows'].values()):>10,}"
            f" {r['replay']['total_seconds']:>9} {r['chaindata_bytes'] / 1e6:>13.1f}"
        )
    print("per pack:")
    print(
        f"{'packs':>10} {'ingest µs':>10} {'gas':>7} {'index µs':>9} {'index B':>8}"
        f" {'chain B':>8} {'replay µs':>10}"
    )
    for r in results:
        p = r["per_pack"]
        print(
            f"{r['packs']:>10,} {p['ingest_us']:>10} {p['gas']:>7} {p['index_us']:>9}"
            f" {p['index_bytes']:>8} {p['chaindata_bytes']:>8} {p['replay_us']:>10}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
