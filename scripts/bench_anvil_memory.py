"""Anvil's memory while a large history is commissioned, with and without ``--prune-history``.

For each mode it starts anvil (a number N: ``--prune-history N``, the state of the last N
blocks, ``DEV_STATE_HISTORY`` by default; ``archive``: every block's state, anvil's own
default), deploys the demo network and commissions packs in blocks of 2,000, as
``bench_verify.py``'s member client does, but through the dev bulk loader (two
transactions of 1,000 packs a block), reading anvil's resident memory after every
``--step`` packs up to ``--packs``. A mode stops early, and says so, once anvil passes
``--rss-limit`` GiB, so the archive mode cannot take the machine down. Prints a table, or
one JSON object with ``--json``; writes docs/results/bench_anvil_memory.json.

    python scripts/bench_anvil_memory.py --packs 1000000 --step 100000
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from _harness import ROOT, arguments, busy_ticks, free_port, log, resident

from ledger_client.chain import connect, dev_account
from ledger_client.dev.anvil import DEV_STATE_HISTORY, Anvil
from ledger_client.dev.bulk import BulkSender
from ledger_client.devnet import deploy_devnet
from ledger_client.ids import lot_hash, pack_word

GTIN, LOT, EXPIRY = "09506000134352", "MEM1", "301231"
RESULTS = ROOT / "docs" / "results" / "bench_anvil_memory.json"
ZERO = b"\x00" * 32
PER_TX, PER_BLOCK = 1000, 2000


def prune_of(mode: str) -> int | None:
    """``--prune-history`` of ``mode``: None for ``archive``."""
    return None if mode == "archive" else int(mode)


def run(mode: str, packs: int, step: int, limit: int) -> dict[str, Any]:
    """Commission up to ``packs`` on a fresh anvil in ``mode``; anvil's RSS after each step."""
    points: list[dict[str, Any]] = []
    with Anvil(port=free_port(), prune_history=prune_of(mode), auto_impersonate=True) as node:
        assert node.process is not None
        net = deploy_devnet(connect(node.url, timeout=300))
        maker = net["manufacturer"]
        maker.register_product(GTIN, "Memory tablets", "10 mg", "tablet")
        maker.register_lot(GTIN, LOT, EXPIRY)
        bulk = BulkSender(
            maker.w3, net.deployment.registry, {maker.address: dev_account("manufacturer")}
        )
        lot = lot_hash(GTIN, LOT)
        started, done = time.perf_counter(), 0
        while done < packs:
            end = min(packs, done + step)
            for block in range(done, end, PER_BLOCK):
                for first in range(block, min(end, block + PER_BLOCK), PER_TX):
                    last = min(end, first + PER_TX)
                    words = [pack_word(GTIN, f"M{i:08d}", LOT) for i in range(first, last)]
                    bulk.call(maker.address, "commission", lot, ZERO, words, ZERO, items=len(words))
                bulk.mine()
            done = end
            rss = resident(node.process.pid).get("VmRSS", 0)
            points.append(
                {
                    "packs": done,
                    "blocks": maker.w3.eth.block_number,
                    "rss_bytes": rss,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            log(f"{mode}: {done} packs, anvil RSS {rss / 2**20:.0f} MiB")
            if rss > limit:
                log(f"{mode}: stopped, anvil passed {limit / 2**30:.1f} GiB")
                break
    return {
        "mode": mode,
        "prune_history": prune_of(mode),
        "points": points,
        "stopped_at_rss_limit": points[-1]["packs"] < packs,
    }


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--packs", type=int, default=1_000_000)
    parser.add_argument("--step", type=int, default=100_000)
    parser.add_argument(
        "--modes",
        default=f"{DEV_STATE_HISTORY},archive",
        help="comma-separated: a number of states to keep, or archive",
    )
    parser.add_argument("--rss-limit", type=float, default=6.0, help="GiB; stop a mode above it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tick, wall = busy_ticks(), time.perf_counter()
    runs: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    for mode in args.modes.split(","):
        runs.append(run(mode, args.packs, args.step, int(args.rss_limit * 2**30)))
        busy = (busy_ticks() - tick) / os.sysconf("SC_CLK_TCK") / (time.perf_counter() - wall)
        result = {
            "packs": args.packs,
            "step": args.step,
            "rss_limit_gib": args.rss_limit,
            "runs": runs,
            "machine_busy_cores": round(busy, 2),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")  # after each mode
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'states':<8} {'packs':>9} {'blocks':>7} {'anvil RSS MiB':>14} {'seconds':>8}")
    for r in runs:
        for p in r["points"]:
            print(
                f"{r['mode']:<8} {p['packs']:>9,} {p['blocks']:>7} {p['rss_bytes'] / 2**20:>14,.0f}"
                f" {p['seconds']:>8}"
            )
        if r["stopped_at_rss_limit"]:
            print(f"{r['mode']:<8} stopped above {args.rss_limit} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
