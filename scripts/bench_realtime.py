"""Benchmark the gateway's live anomaly findings: what running the detectors as the chain is
indexed costs, against the indexer without them (the baseline).

For each history size it builds the history of ``bench_replay`` on its own anvil node, then
indexes it three times on SQLite (confirmation depth 0, one block per step): without
detection (the baseline), detecting after every indexed batch (``interval 0``), and at most
every ``--interval`` seconds. Then it writes ``--live-blocks`` more blocks, each a maker
commissioning a few packs, and times each block's indexing step with and without detection
after every batch: what a live gateway pays per batch at that history size. Every run of
``detect`` is timed. The findings of both live indexes must be equal.

    python scripts/bench_realtime.py [--packs 10000 50000 100000] [--interval 10] [--json]
"""

from __future__ import annotations

import json
import logging
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import ROOT, arguments, log
from bench_replay import PRODUCTS, build_history
from sqlalchemy import func, select
from web3 import Web3

import gateway.services.live_findings as live_findings
from gateway.core.logging import configure_logging
from gateway.db import models as m
from gateway.db.session import make_engine, migrate
from gateway.indexer import Indexer
from gateway.services.alerts import on_indexed, withdraw_orphaned
from gateway.services.chain import Chain
from gateway.services.live_findings import FindingMetrics, LiveFindings, load_catalogue
from ledger_client.audit.findings import AnomalyConfig
from ledger_client.chain import connect, dev_account
from ledger_client.contracts import Deployment
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.ports import free_port
from ledger_client.ledger import Ledger

RESULTS = ROOT / "docs" / "results" / "bench_realtime.json"
#: Every run of ``detect``: seconds, in order.
RUNS: list[float] = []


def _timed_detect() -> None:
    """Time every call of the detectors the live findings make."""
    inner = live_findings.detect

    def timed(*args: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args, **kw)
        finally:
            RUNS.append(time.perf_counter() - t)

    live_findings.detect = timed  # type: ignore[assignment]


def _indexer(chain: Chain, path: Path, interval: float | None) -> tuple[Indexer, LiveFindings]:
    """An index at ``path``, with live findings every ``interval`` s (None: without)."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    findings = LiveFindings(
        engine,
        chain,
        load_catalogue(None, chain),
        AnomalyConfig(),
        interval or 0,
        FindingMetrics(None),
    )
    index = Indexer(
        chain,
        engine,
        0,
        chunk_blocks=1,
        start_block=chain.deployment.block,
        hooks=[on_indexed],
        rollback_hooks=[withdraw_orphaned],
        block_hooks=[findings.at_block] if interval is not None else [],
    )
    return index, findings


def _catch_up(index: Indexer) -> tuple[float, int]:
    """Seconds to index the whole chain, and the detection runs it made."""
    before = len(RUNS)
    t = time.perf_counter()
    index.catch_up()
    return time.perf_counter() - t, len(RUNS) - before


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    return w3.provider.make_request(method, list(params))["result"]  # type: ignore[arg-type]


def measure(packs: int, seed: int, interval: float, live_blocks: int, tmp: Path) -> dict[str, Any]:
    """Build a history of ``packs`` packs and index it with and without live detection."""
    with Anvil(port=free_port(), auto_impersonate=True) as node:
        log(f"{packs} packs: building the history")
        deployment: Deployment = build_history(node.url, packs, seed)
        w3 = connect(node.url, timeout=600)
        _rpc(w3, "evm_setAutomine", True)  # the history was written with it off
        chain = Chain(w3, deployment)
        built = {
            "baseline": _indexer(chain, tmp / f"base-{packs}.db", None),
            "every_batch": _indexer(chain, tmp / f"every-{packs}.db", 0),
            "throttled": _indexer(chain, tmp / f"throttled-{packs}.db", interval),
        }
        indexes = {name: index for name, (index, _) in built.items()}
        every, throttled = built["every_batch"][1], built["throttled"][1]
        catch_up = {}
        for name, index in indexes.items():
            log(f"{packs} packs: indexing, {name}")
            catch_up[name] = _catch_up(index)
        with indexes["baseline"].engine.connect() as conn:
            events = int(conn.execute(select(func.count()).select_from(m.ChainEvent)).scalar_one())
        log(f"{packs} packs: {live_blocks} live blocks")
        maker = Ledger(w3, deployment, dev_account("manufacturer"))
        maker.register_lot(PRODUCTS[0], "LIVE", "301231")
        for name in ("baseline", "every_batch"):
            indexes[name].catch_up()
        steps: dict[str, list[float]] = {"baseline": [], "every_batch": []}
        detect_live: list[float] = []
        for _ in range(live_blocks):
            maker.commission(PRODUCTS[0], "LIVE", [secrets.token_urlsafe(15) for _j in range(10)])
            for name, seconds in steps.items():
                before = len(RUNS)
                t = time.perf_counter()
                indexes[name].step()
                seconds.append(time.perf_counter() - t)
                detect_live += RUNS[before:]
        throttled.interval = 0  # its last run, as at the head
        indexes["throttled"].catch_up()
        indexes["throttled"].step()
        every_keys = sorted(live_findings.finding_key(f) for f in every.findings)
        assert every_keys == sorted(live_findings.finding_key(f) for f in throttled.findings)
        return {
            "packs": packs,
            "events": events,
            "blocks": w3.eth.block_number - deployment.block + 1,
            "findings": len(every.findings),
            "catch_up_seconds": {k: round(v[0], 2) for k, v in catch_up.items()},
            "catch_up_detection_runs": {k: v[1] for k, v in catch_up.items()},
            "catch_up_events_per_second": {
                k: round(events / max(v[0], 1e-9)) for k, v in catch_up.items()
            },
            "live_step_seconds_median": {
                k: round(statistics.median(v), 3) for k, v in steps.items()
            },
            "live_detect_seconds_median": round(statistics.median(detect_live), 3),
            "live_detect_seconds_max": round(max(detect_live), 3),
            "interval_seconds": interval,
        }


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--packs", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--live-blocks", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    configure_logging(json=False, level=logging.WARNING)  # on stderr
    _timed_detect()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            measure(p, args.seed, args.interval, args.live_blocks, Path(tmp)) for p in args.packs
        ]
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    if args.json:
        print(json.dumps(rows))
        return
    print(
        "packs | events | findings | catch-up s: baseline / every batch / throttled "
        "| detection runs | live step s: baseline / every batch | detect s (median, max)"
    )
    for r in rows:
        c, n, s = r["catch_up_seconds"], r["catch_up_detection_runs"], r["live_step_seconds_median"]
        print(
            f"{r['packs']} | {r['events']} | {r['findings']} | {c['baseline']} / "
            f"{c['every_batch']} / {c['throttled']} | {n['every_batch']} / {n['throttled']} | "
            f"{s['baseline']} / {s['every_batch']} | {r['live_detect_seconds_median']}, "
            f"{r['live_detect_seconds_max']}"
        )


if __name__ == "__main__":
    main()
