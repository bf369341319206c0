"""Benchmark what undoing a fork costs the gateway's index, against re-indexing from scratch.

For each history size it builds the history of ``bench_replay`` on its own anvil node (a
manufacturer's packs through wholesalers to pharmacies), indexes it with the gateway's
indexer (SQLite, confirmation depth 0), then writes a block on a fork that is undone: a lot
quarantined in each of two blocks, indexed, then reverted and replaced by other blocks. It times
the rollback (:func:`gateway.reorg.roll_back`: the orphaned events deleted, every stored
event re-projected), the catch-up after it, and the naive baseline: a fresh index of the
final chain from the deployment block (what a gateway without rollback would have to do).
The rolled-back index must equal the fresh one.

    python scripts/bench_reorg.py [--packs 13200 100000] [--json]
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import ROOT, arguments, log
from bench_replay import PRODUCTS, build_history
from sqlalchemy import Engine, func, select
from web3 import Web3

from gateway.core.logging import configure_logging
from gateway.db import models as m
from gateway.db.session import make_engine, migrate
from gateway.indexer import Indexer
from gateway.reorg import STATE_TABLES
from gateway.services.alerts import on_indexed, withdraw_orphaned
from gateway.services.chain import Chain
from ledger_client.chain import connect, dev_account
from ledger_client.contracts import Deployment
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.ports import free_port
from ledger_client.ledger import Ledger
from ledger_client.types import LotStatus

RESULTS = ROOT / "docs" / "results" / "bench_reorg.json"
#: Blocks the winning side seals past the fork point.
WINNING_BLOCKS = 3


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    return w3.provider.make_request(method, list(params))["result"]  # type: ignore[arg-type]


def _index(w3: Web3, deployment: Deployment, path: Path) -> Indexer:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return Indexer(
        Chain(w3, deployment),
        engine,
        0,
        start_block=deployment.block,
        hooks=[on_indexed],
        rollback_hooks=[withdraw_orphaned],
    )


def _state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        state = {
            t.__tablename__: sorted(tuple(r) for r in conn.execute(select(t.__table__)))
            for t in STATE_TABLES
        }
        state["events"] = sorted(
            (bytes(r[0]), r[1])
            for r in conn.execute(select(m.ChainEvent.tx_hash, m.ChainEvent.log_index))
        )
    return state


def _count(engine: Engine, table: type[m.Base]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _timed(index: Indexer) -> float:
    t = time.perf_counter()
    index.catch_up()
    return time.perf_counter() - t


def measure(packs: int, seed: int, tmp: Path) -> dict[str, Any]:
    """Build a history of ``packs`` packs, undo a fork on it; the timings."""
    with Anvil(port=free_port(), auto_impersonate=True) as node:
        log(f"{packs} packs: building the history")
        deployment = build_history(node.url, packs, seed)
        w3 = connect(node.url, timeout=600)
        _rpc(w3, "evm_setAutomine", True)  # the history was written with it off
        follower = _index(w3, deployment, tmp / f"follower-{packs}.db")
        log(f"{packs} packs: indexing it")
        first_index = _timed(follower)
        fork, fork_block = _rpc(w3, "evm_snapshot"), w3.eth.block_number
        maker = Ledger(w3, deployment, dev_account("manufacturer"))
        for k in range(2):  # the orphaned blocks: two lots quarantined
            maker.set_lot_status(PRODUCTS[k], f"LOT{k:04d}", LotStatus.QUARANTINED)
        follower.catch_up()
        orphaned = w3.eth.block_number - fork_block
        assert _rpc(w3, "evm_revert", fork)
        _rpc(w3, "anvil_mine", hex(WINNING_BLOCKS))
        log(f"{packs} packs: rolling back")
        t = time.perf_counter()
        assert follower.step() > 0, "the indexer did not see the reorg"
        rollback = time.perf_counter() - t
        catch_up = _timed(follower)
        log(f"{packs} packs: the baseline, a fresh index of the final chain")
        reference = _index(w3, deployment, tmp / f"fresh-{packs}.db")
        fresh = _timed(reference)
        assert _state(follower.engine) == _state(reference.engine), "the indexes differ"
        return {
            "packs": packs,
            "events": _count(reference.engine, m.ChainEvent),
            "event_items": _count(reference.engine, m.EventItem),
            "orphaned_blocks": orphaned,
            "first_index_seconds": round(first_index, 2),
            "rollback_seconds": round(rollback, 2),
            "catch_up_after_rollback_seconds": round(catch_up, 3),
            "baseline_fresh_index_seconds": round(fresh, 2),
            "speedup": round(fresh / (rollback + catch_up), 1),
        }


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--packs", type=int, nargs="+", default=[13_200, 100_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    configure_logging(json=False, level=logging.WARNING)  # on stderr
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(p, args.seed, Path(tmp)) for p in args.packs]
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    if args.json:
        print(json.dumps(rows))
        return
    head = (
        "packs",
        "events",
        "event items",
        "rollback s",
        "catch-up s",
        "baseline: fresh index s",
        "speed-up",
    )
    print(" | ".join(head))
    for r in rows:
        print(
            f"{r['packs']} | {r['events']} | {r['event_items']} | {r['rollback_seconds']} | "
            f"{r['catch_up_after_rollback_seconds']} | {r['baseline_fresh_index_seconds']} | "
            f"{r['speedup']}x"
        )


if __name__ == "__main__":
    main()
