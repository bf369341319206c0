"""Benchmark commissioning packs on chains that seal a block every few seconds.

One manufacturer commissions ``--packs`` packs (20,000) in batches of ``--batch`` (500) through
its own node with the pipelined client (``Ledger``'s batch writes, ``--window`` transactions in
flight) and, as the baseline in the same run, ``--baseline-packs`` (5,000) with the sequential
client of before (one transaction in flight: send, wait for its receipt, send the next; the
same client with a window of 1), on

- ``anvil``: anvil mining a block every ``--block-time`` seconds (2);
- ``clique``: four geth Clique signers (``make geth``) sealing every ``--block-time`` seconds,
  the manufacturer writing through the first;
- ``instant``: anvil mining each transaction at once (no block time, so no capacity), for
  reference;

each with blocks of ``--gas-limit`` gas (100 M here; the dev chains' default is 300 M). The
chain's capacity is gas limit / gas per pack (measured) / block period; the target is the
pipelined client at ≥ 80 % of it, end to end (from the call to the last receipt). Also given:
the sustained rate once the chunks flow (the packs of every block after the first one used,
over the time from that first block to the last), ``estimate_ms`` (one ``eth_estimateGas``
of a full chunk) and ``other_cpu_cores`` (CPU of other processes than this one and the
chain's nodes during the run: a disturbed run shows it).

    python scripts/bench_ingest.py [--chains anvil,clique,instant] [--packs 20000] [--json]

Prints a table, or one JSON object with ``--json``, whose top-level ``packs_per_second``,
``capacity_packs_per_second``, ``share_of_capacity`` and ``baseline_packs_per_second`` are
the Clique network's (else anvil's); every chain's figures are under ``chains``. Also written
to ``--out`` (docs/results/bench_ingest.json).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from _harness import ROOT, CpuMeter, arguments, log
from web3 import Web3
from web3.types import RPCEndpoint

from ledger_client.chain import connect, dev_account
from ledger_client.contracts import Deployment
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.dev.ports import free_port
from ledger_client.devnet import demo_accounts, deploy_devnet
from ledger_client.ids import lot_hash, pack_word
from ledger_client.ledger import Ledger
from ledger_client.pipeline import DEFAULT_WINDOW
from ledger_client.types import ZERO_HASH

GTIN = "09506000134352"
EXPIRY = "301231"
RESULTS = ROOT / "docs" / "results" / "bench_ingest.json"


def ingest(
    w3: Web3,
    deployment: Deployment,
    lot: str,
    packs: int,
    batch: int,
    window: int,
    nodes: list[int],
) -> dict[str, Any]:
    """Commission ``packs`` packs of a new lot ``lot``; return rate, gas and blocks used, and
    the CPU other processes than this one and the chain's ``nodes`` used meanwhile."""
    maker = Ledger(w3, deployment, dev_account("manufacturer"), batch, window=window)
    maker.register_lot(GTIN, lot, EXPIRY)
    serials = [f"{lot}-{i:07d}" for i in range(packs)]
    cpu = CpuMeter([], nodes)
    started = time.perf_counter()
    receipts = maker.commission(GTIN, lot, serials)
    seconds = time.perf_counter() - started
    other_cpu = cpu.read()["other_cpu_cores"]
    written = sum(len(e.args["packIds"]) for r in receipts for e in r.events)
    if written != packs:
        raise SystemExit(f"{lot}: {written} packs commissioned of {packs}")
    blocks = sorted({r.block_number for r in receipts})
    headers = {b: w3.eth.get_block(b) for b in blocks}
    fill = [h["gasUsed"] / h["gasLimit"] for h in headers.values()]
    gas = sum(r.gas_used for r in receipts)
    # Once flowing: the packs of every block after the first over the time between them.
    span = headers[blocks[-1]]["timestamp"] - headers[blocks[0]]["timestamp"]
    after_first = sum(
        len(e.args["packIds"]) for r in receipts if r.block_number > blocks[0] for e in r.events
    )
    result = {
        "packs": packs,
        "window": window,
        "seconds": round(seconds, 2),
        "packs_per_second": round(packs / seconds, 1),
        "transactions": len(receipts),
        "gas_per_pack": round(gas / packs),
        "sustained_packs_per_second": round(after_first / span, 1) if span else None,
        "blocks": len(blocks),
        "block_fill": round(statistics.mean(fill), 3),
        "other_cpu_cores": other_cpu,
    }
    log(f"{lot}: {json.dumps(result)}")
    return result


def estimate_ms(w3: Web3, deployment: Deployment, lot: str, batch: int) -> float:
    """Median time of an ``eth_estimateGas`` of a chunk of ``batch`` new packs in ``lot``."""
    maker = Ledger(w3, deployment, dev_account("manufacturer"))
    fn = maker.registry.functions.commission(
        lot_hash(GTIN, lot),
        ZERO_HASH,
        [pack_word(GTIN, f"E{i}", lot) for i in range(batch)],
        ZERO_HASH,
    )
    times = []
    for _ in range(5):
        started = time.perf_counter()
        fn.estimate_gas({"from": maker.address})
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def measure(
    w3: Web3,
    deployment: Deployment,
    args: Any,
    period: float | None,
    name: str,
    nodes: list[int],
) -> dict[str, Any]:
    """Both clients on one chain; with capacity and share when blocks come every ``period``."""
    pipelined = ingest(w3, deployment, f"{name}P", args.packs, args.batch, args.window, nodes)
    sequential = ingest(w3, deployment, f"{name}S", args.baseline_packs, args.batch, 1, nodes)
    result: dict[str, Any] = {
        "packs_per_second": pipelined["packs_per_second"],
        "baseline_packs_per_second": sequential["packs_per_second"],
        "speedup": round(pipelined["packs_per_second"] / sequential["packs_per_second"], 2),
        "estimate_ms": estimate_ms(w3, deployment, f"{name}P", args.batch),
        "block_gas_limit": int(w3.eth.get_block("latest")["gasLimit"]),
        "pipelined": pipelined,
        "sequential": sequential,
    }
    if period is not None:
        capacity = result["block_gas_limit"] / pipelined["gas_per_pack"] / period
        result["block_period_seconds"] = period
        result["capacity_packs_per_second"] = round(capacity, 1)
        result["share_of_capacity"] = round(pipelined["packs_per_second"] / capacity, 3)
        sustained = pipelined["sustained_packs_per_second"]
        result["sustained_share_of_capacity"] = (
            round(sustained / capacity, 3) if sustained else None
        )
    return result


def on_anvil(args: Any, block_time: int | None) -> dict[str, Any]:
    """The demo network deployed on a fresh anvil mining at once; then a block every
    ``block_time`` seconds (if given) for the measurements."""
    with Anvil(port=free_port(), gas_limit=args.gas_limit) as node:
        w3 = connect(node.url)
        net = deploy_devnet(w3)
        if block_time is not None:
            w3.manager.request_blocking(RPCEndpoint("evm_setIntervalMining"), [block_time])
        name = "ANVIL" if block_time else "INST"
        assert node.process is not None
        return measure(w3, net.deployment, args, block_time, name, [node.process.pid])


def on_clique(args: Any) -> dict[str, Any]:
    """Four geth Clique signers; the demo network deployed and written through the first."""
    geth_binary()
    period = args.block_time
    with CliqueNetwork(
        size=4, period=period, funded=demo_accounts(), gas_limit=args.gas_limit
    ) as network:
        started = time.perf_counter()
        net = deploy_devnet(network.w3(0))
        log(f"clique: demo network deployed in {time.perf_counter() - started:.0f} s")
        pids = [n.process.pid for n in network.nodes if n.process is not None]
        return measure(network.w3(0), net.deployment, args, period, "CLQ", pids)


def print_table(result: dict[str, Any]) -> None:
    """One row per chain and client."""
    print(
        f"{'chain':<9}{'client':<12}{'packs':>8}{'packs/s':>10}{'capacity':>10}{'share':>8}"
        f"{'sustained':>11}{'gas/pack':>10}{'blocks':>8}{'fill':>7}{'other cpu':>11}"
    )
    for chain, r in result["chains"].items():
        capacity = r.get("capacity_packs_per_second")
        for client in ("pipelined", "sequential"):
            c = r[client]
            share = f"{c['packs_per_second'] / capacity:.0%}" if capacity else "-"
            sustained = f"{c['sustained_packs_per_second'] or 0:,.0f}" if capacity else "-"
            print(
                f"{chain:<9}{client:<12}{c['packs']:>8,}{c['packs_per_second']:>10,.0f}"
                f"{f'{capacity:,.0f}' if capacity else '-':>10}{share:>8}{sustained:>11}"
                f"{c['gas_per_pack']:>10,}"
                f"{c['blocks']:>8}{c['block_fill']:>7.0%}{c['other_cpu_cores']:>11}"
            )
    print(
        f"batches of {result['batch']}, window {result['window']}, block time "
        f"{result['block_time']} s, block gas limit {result['gas_limit']:,}; estimate of a "
        + ", ".join(f"{k} {v['estimate_ms']} ms" for k, v in result["chains"].items())
    )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--chains", default="anvil,clique,instant")
    parser.add_argument("--packs", type=int, default=20_000)
    parser.add_argument("--baseline-packs", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument("--block-time", type=int, default=2)
    parser.add_argument("--gas-limit", type=int, default=100_000_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON is written")
    args = parser.parse_args()
    chains: dict[str, dict[str, Any]] = {}
    for chain in args.chains.split(","):
        if chain == "anvil":
            chains[chain] = on_anvil(args, args.block_time)
        elif chain == "instant":
            chains[chain] = on_anvil(args, None)
        elif chain == "clique":
            chains[chain] = on_clique(args)
        else:
            raise SystemExit(f"unknown chain {chain!r}: anvil, clique or instant")
    headline = chains.get("clique") or chains.get("anvil") or {}
    result = {
        key: headline.get(key)
        for key in (
            "packs_per_second",
            "capacity_packs_per_second",
            "share_of_capacity",
            "baseline_packs_per_second",
        )
    } | {
        "packs": args.packs,
        "baseline_packs": args.baseline_packs,
        "batch": args.batch,
        "window": args.window,
        "block_time": args.block_time,
        "gas_limit": args.gas_limit,
        "chains": chains,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
