"""Soak the gateway: bounded mixed traffic against `make run`'s network, memory sampled,
every acknowledged write checked on chain.

Builds what `make run` builds on a fresh anvil (the demo consortium, its products, one run
of the demo scenario) plus a lot of ``--packs`` packs in pharmacy A's custody, starts
pharmacy A's gateway (``python -m gateway``, ``--workers`` uvicorn workers, loopback only,
its console key), then for ``--seconds`` runs paced clients in threads: single and batch
(50 scans) verification, EPCIS capture of shipments to pharmacy B and of their receipt
when pharmacy B sends the packs back (every 4th shipment posted twice at once), dispense
and undo, alerts, and malformed requests that must get their 4xx. Every few seconds it
reads the resident memory of the gateway's processes from /proc.

Afterwards it reads the contract events of the soak's blocks and the packs' states:
every dispense, undo and captured event the gateway acknowledged must be on chain exactly
once, nothing it refused may be, each pack must end in the state its last acknowledged
write left, and the gateway's index must agree with the chain.

Prints a table and writes docs/results/soak.json. Exits 1 on any 5xx, transport error,
unexpected status, lost or doubled write, wrong final state, index disagreement,
replaced worker, or private memory (``RssAnon`` of all gateway processes) still growing
over the second half of the run faster than ``--max-slope`` MB a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _harness import ROOT, CpuMeter, GatewayProcess, arguments, free_port, log, process_tree
from _soak_checks import chain_counts, check_writes, index_mismatches
from _soak_memory import MemorySampler, memory_summary
from _soak_traffic import Stats, Traffic, paced, scan

from gateway.core.config import LOCAL_CONSOLE_KEY
from ledger_client.chain import connect, dev_account
from ledger_client.contracts import Deployment
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.demo import register_products, run_scenario
from ledger_client.devnet import DEMO_MEMBERS, deploy_devnet, gln
from ledger_client.gs1 import PackCode
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason

GTIN = "09506000134352"  # the demo's amoxicillin, of the manufacturer's prefix 9506000
LOT = "SOAK01"
EXPIRY = "280600"
CAPTURE_PACKS = 50
RESULTS = ROOT / "docs" / "results" / "soak.json"
#: Paced clients: (name, threads, requests a second per thread).
MIX = (
    ("verify", 2, 20.0),
    ("verify_batch", 1, 1.0),
    ("dispense_or_undo", 1, 2.0),
    ("capture_cycle", 1, 1.0),
    ("alerts", 1, 1.0),
    ("malformed", 1, 2.0),
)


@dataclass
class Network:
    """The soak's chain: the deployment, pharmacy A's lot and the scans to verify."""

    deployment: Deployment
    packs: list[PackCode]
    refused: PackCode
    scenario_codes: list[str]


def build_network(chain_url: str, path: Path, gateway_url: str, packs: int) -> Network:
    """Deploy and play `make run`'s network, then move a lot of ``packs`` packs to pharmacy A
    (manufacturer → wholesaler A → pharmacy A); the last one is destroyed there."""
    net = deploy_devnet(connect(chain_url))
    net.deployment.save(path)
    register_products(net, gateway_url)
    scenario = run_scenario(net, 1)
    m, wa, pa = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    m.register_lot(GTIN, LOT, EXPIRY)
    serials = [f"SOAK{i:06d}" for i in range(packs)]
    refs = [(GTIN, s) for s in serials]
    m.commission(GTIN, LOT, serials)
    m.ship(wa.address, refs)
    wa.receive(refs)
    wa.ship(pa.address, refs)
    pa.receive(refs)
    pa.decommission(refs[-1:], DecommissionReason.DESTROYED)
    codes = [c.code.replace("<GS>", "\x1d") for c in scenario.codes]
    lot_packs = [PackCode(GTIN, s, LOT, expiry_yymmdd=EXPIRY) for s in serials]
    return Network(net.deployment, lot_packs[:-1], lot_packs[-1], codes)


def endpoint_rows(stats: Stats, seconds: float) -> dict[str, dict[str, Any]]:
    """Requests, rate, latency percentiles and status classes per endpoint."""
    rows = {}
    for name, ep in sorted(stats.endpoints.items()):
        q = statistics.quantiles(ep.latencies_ms, n=100) if len(ep.latencies_ms) > 1 else [0.0] * 99
        rows[name] = {
            "requests": len(ep.latencies_ms) + ep.transport_errors,
            "rps": round(len(ep.latencies_ms) / seconds, 2),
            "p50_ms": round(q[49], 2),
            "p99_ms": round(q[98], 2),
            **{c: ep.classes.get(c, 0) for c in ("2xx", "4xx", "5xx")},
            "transport_errors": ep.transport_errors,
            "unexpected": ep.unexpected,
        }
    return rows


def print_report(result: dict[str, Any]) -> None:
    """The table, the memory line and the write checks."""
    print(
        f"{'endpoint':<32} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'2xx':>6} {'4xx':>6} {'5xx':>5} {'errors':>6}"
    )
    for name, r in result["endpoints"].items():
        print(
            f"{name:<32} {r['requests']:>8} {r['rps']:>7.2f} {r['p50_ms']:>8.1f}"
            f" {r['p99_ms']:>8.1f} {r['2xx']:>6} {r['4xx']:>6} {r['5xx']:>5}"
            f" {r['transport_errors']:>6}"
        )
    mem, w = result["memory"], result["writes"]
    for name, label in (("anon", "private (RssAnon)"), ("rss", "resident (VmRSS)")):
        m = mem[name]
        print(
            f"memory {label}, {mem['processes']} gateway processes: {m['first_mb']} MB in the"
            f" first {mem['window_seconds']} s, {m['last_mb']} MB in the last"
            f" ({m['growth_mb']:+} MB); second half {m['late_slope_mb_per_min']:+}"
            f" ± {m['late_slope_error']} MB/min,"
            f" peak {m['peak_mb']} MB"
        )
    print(
        f"writes: {w['dispenses']} packs dispensed, {w['undos']} undone, {w['captured_events']}"
        f" captured events ({w['duplicate_posts_skipped']} duplicate posts skipped):"
        f" {w['lost']} lost, {w['doubled']} doubled, {w['wrong_final_state']} in a wrong state,"
        f" {result['index_mismatches']} index mismatches"
    )
    print(
        f"{result['seconds']} s, {result['workers']} workers, gateway"
        f" {result['gateway_cpu_cores']} cores, other processes {result['other_cpu_cores']} cores"
    )
    for failure in result["failures"]:
        print(f"FAIL: {failure}")


def failures_of(result: dict[str, Any]) -> list[str]:
    """Why the soak fails (empty when it passes)."""
    rows, w, mem = result["endpoints"], result["writes"], result["memory"]
    found = [f"{r['5xx']} 5xx from {name}" for name, r in rows.items() if r["5xx"]]
    found += [
        f"{r['transport_errors']} transport errors on {name}"
        for name, r in rows.items()
        if r["transport_errors"]
    ]
    found += [
        f"{r['unexpected']} unexpected statuses from {name}"
        for name, r in rows.items()
        if r["unexpected"]
    ]
    found += [f"{w[k]} {k.replace('_', ' ')} writes" for k in ("lost", "doubled") if w[k]]
    if w["wrong_final_state"]:
        found.append(f"{w['wrong_final_state']} packs not in the state of their last write")
    if result["index_mismatches"]:
        found.append(f"{result['index_mismatches']} packs where the index disagrees with the chain")
    if len(mem["by_process"]) > mem["processes"]:
        found.append("a gateway process was replaced during the soak")
    slope, limit = mem["anon"]["late_slope_mb_per_min"], result["max_slope_mb_per_min"]
    if slope > limit:
        found.append(f"private memory still grows {slope} MB/min (limit {limit})")
    if result["problem_count"]:
        found.append(f"{result['problem_count']} problems, first: {result['problems'][0]}")
    return found


def run_traffic(traffic: Traffic, url: str, headers: dict[str, str], seconds: float) -> float:
    """Run the paced clients of ``MIX`` for ``seconds``, each thread with its own HTTP
    client; return the wall time until the last finished."""
    started = time.monotonic()
    deadline = started + seconds
    threads = []
    for kind, count, rate in MIX:
        for _ in range(count):
            client = httpx.Client(base_url=url, headers=headers, timeout=60)
            step = getattr(traffic, kind)

            def run(step: Any = step, client: httpx.Client = client, rate: float = rate) -> None:
                with client:
                    paced(rate, deadline, lambda: step(client), traffic.stats)

            threads.append(threading.Thread(target=run, name=kind))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def soak(args: argparse.Namespace) -> dict[str, Any]:
    """Build the network, start the gateway, run the traffic, check the chain; return the
    result (without its verdict)."""
    operator = dev_account("pharmacy_a")
    headers = {"Authorization": f"Bearer {LOCAL_CONSOLE_KEY}"}
    with (
        tempfile.TemporaryDirectory(prefix="rxledger-soak-") as tmp,
        Anvil(port=free_port()) as anvil,
    ):
        workdir = Path(tmp)
        env = {
            "RXLEDGER_OPERATOR_KEY": "0x" + bytes(operator.key).hex(),
            # the malformed requests send a wrong key every few seconds, all from 127.0.0.1:
            # past this budget the gateway would answer every request from there with 429
            "RXLEDGER_AUTH_FAILURES_PER_HOUR": "100000",
        }
        gateway = GatewayProcess(anvil.url, workdir / "deployment.json", workdir, args.workers, env)
        net = build_network(anvil.url, workdir / "deployment.json", gateway.url, args.packs)
        w3 = connect(anvil.url)
        partner = Ledger(w3, net.deployment, dev_account("pharmacy_b"))
        rng = random.Random(0)
        spare = len(net.packs) - CAPTURE_PACKS
        traffic = Traffic(
            stats=Stats(),
            verify_codes=[scan(p, rng) for p in net.packs] + net.scenario_codes,
            dispense_packs=net.packs[: spare // 2],
            capture_packs=net.packs[spare:],
            refused=net.refused,
            partner=partner,
            partner_gln=f"{gln(DEMO_MEMBERS['pharmacy_b'][1]):013d}",
            operator=operator.address,
        )
        with gateway:
            first_block = w3.eth.block_number + 1
            assert anvil.process is not None
            supervisor = gateway.pid
            meter = CpuMeter(process_tree(supervisor), [anvil.process.pid])
            sampler = MemorySampler(supervisor, args.sample_seconds)
            log(f"{args.seconds:.0f} s of mixed traffic")
            sampler.start()
            wall = run_traffic(traffic, gateway.url, headers, args.seconds)
            sampler.stop()
            cpu = meter.read()
            last_block = w3.eth.block_number
            log(f"checking blocks {first_block}..{last_block}")
            counts = chain_counts(w3, net.deployment, first_block, last_block, operator.address)
            ids = partner.pack_ids([(p.gtin, p.serial) for p in net.packs])
            statuses = [
                v.status
                for i in range(0, len(ids), 500)
                for v in partner.pack_states(ids[i : i + 500])
            ]
            states = dict(zip(ids, statuses, strict=True))
            with httpx.Client(base_url=gateway.url, headers=headers, timeout=60) as client:
                mismatches = index_mismatches(client, net.packs, statuses, last_block)
    return {
        "seconds": round(wall),
        "workers": args.workers,
        "packs": args.packs,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "gateway_cpu_cores": cpu["gateway_cpu_cores"],
        "other_cpu_cores": cpu["other_cpu_cores"],
        "endpoints": endpoint_rows(traffic.stats, wall),
        "memory": memory_summary(sampler.samples, min(60.0, args.seconds / 4), supervisor),
        "writes": check_writes(traffic.acks, counts, states),
        "index_mismatches": mismatches,
        "max_slope_mb_per_min": args.max_slope,
        "problems": traffic.stats.problems,
        "problem_count": traffic.stats.problem_count,
    }


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--seconds", type=float, default=600, help="traffic duration")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--packs", type=int, default=1000, help="packs of the soak lot")
    parser.add_argument("--sample-seconds", type=float, default=2.0, help="RSS sampling period")
    parser.add_argument(
        "--max-slope",
        type=float,
        default=0.5,
        help="growth of the gateway's private memory over the run's second half, in MB a"
        " minute, that fails the soak",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON result file")
    args = parser.parse_args()
    result = soak(args)
    result["failures"] = failures_of(result)
    result["ok"] = not result["failures"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print_report(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
