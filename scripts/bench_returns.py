"""Benchmark a saleable-return round trip at a wholesaler's gateway against VRS's 1 s.

DSCSA's verification router service (VRS) answers a saleable-return verification in under
one second. This runs, in one go: anvil, the demo network, packs commissioned and passed
manufacturer -> wholesaler A -> pharmacy A, every one shipped back to wholesaler A; then
wholesaler A's gateway (``python -m gateway``, 1 uvicorn worker, SQLite index) and, one
request at a time, one returned pack per request:

- ``verify``: ``POST /v1/returns`` with ``receive: false`` (verification alone);
- ``return``: ``POST /v1/returns`` (verified and received in the same call, the receipt
  mined);
- ``baseline``: the naive two-call flow, ``POST /v1/lvm/verify`` then ``POST /v1/capture`` of
  an EPCIS receiving event, polled until its job has finished.

First with anvil mining each transaction at once, then with a block every ``--block-time``
seconds (``evm_setIntervalMining``). Prints a table (p50, p99, max in ms per mode) and writes
the JSON to docs/results/bench_returns.json (``--out`` elsewhere). No gateway other than its
own is involved; it measures latency, not throughput.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _harness import ROOT, GatewayProcess, arguments, free_port, log
from web3.types import RPCEndpoint

from gateway.core.config import LOCAL_CONSOLE_KEY
from ledger_client.chain import connect, dev_account
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet

GTIN, LOT, EXPIRY = "09506000134352", "RET1", "301231"
RESULTS = ROOT / "docs" / "results" / "bench_returns.json"
HEADERS = {"Authorization": f"Bearer {LOCAL_CONSOLE_KEY}"}


def seed(url: str, packs: int, workdir: Path) -> tuple[Path, list[str]]:
    """Deploy the demo network and return ``packs`` packs from pharmacy A to wholesaler A;
    return the deployment file and the serials."""
    net = deploy_devnet(connect(url), batch_size=1000)
    m, w, p = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    rng = random.Random(1)
    serials = [f"{rng.getrandbits(80):020x}" for _ in range(packs)]  # random, as they should be
    refs = [(GTIN, s) for s in serials]
    m.register_lot(GTIN, LOT, EXPIRY)
    m.commission(GTIN, LOT, serials)
    for sender, receiver in ((m, w), (w, p)):
        sender.ship(receiver.address, packs=refs)
        receiver.receive(packs=refs)
    p.ship(w.address, packs=refs)
    path = workdir / "deployment.json"
    net.deployment.save(path)
    return path, serials


def scan(serial: str) -> str:
    return f"(01){GTIN}(17){EXPIRY}(10){LOT}(21){serial}"


def receiving_document(serial: str) -> dict[str, Any]:
    """An EPCIS 2.0 document receiving one pack (the baseline's second call)."""
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-01-01T00:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "epcList": [f"https://id.gs1.org/01/{GTIN}/21/{serial}"],
                    "action": "OBSERVE",
                    "bizStep": "receiving",
                    "disposition": "in_progress",
                }
            ]
        },
    }


def verify_only(client: httpx.Client, serial: str) -> None:
    r = client.post("/v1/returns", json={"codes": [scan(serial)], "receive": False})
    item = r.raise_for_status().json()["items"][0]
    assert item["status"] == "RECEIVABLE", item


def one_flow(client: httpx.Client, serial: str) -> None:
    r = client.post("/v1/returns", json={"codes": [scan(serial)]})
    item = r.raise_for_status().json()["items"][0]
    assert item["outcome"] == "received", item


def two_calls(client: httpx.Client, serial: str) -> None:
    body = {"gtin": GTIN, "serialNumber": serial, "lotNumber": LOT, "expirationDate": EXPIRY}
    answer = client.post("/v1/lvm/verify", json=body).raise_for_status().json()
    assert answer["status"] == "IN_TRANSIT", answer
    posted = client.post(
        "/v1/capture",
        content=json.dumps(receiving_document(serial)),
        headers={"content-type": "application/ld+json"},
    ).raise_for_status()
    location = posted.headers["Location"]
    while True:
        job = client.get(location).raise_for_status().json()
        if not job["running"]:
            assert job["success"] is True, job
            return
        time.sleep(0.02)


def timed(
    call: Callable[[httpx.Client, str], None], client: httpx.Client, serials: list[str]
) -> dict[str, Any]:
    """Latency of ``call`` on each serial, one after the other: p50, p99, max, mean (ms)."""
    took = []
    for serial in serials:
        started = time.perf_counter()
        call(client, serial)
        took.append((time.perf_counter() - started) * 1000)
    q = statistics.quantiles(took, n=100, method="inclusive") if len(took) > 1 else took * 99
    return {
        "requests": len(took),
        "p50_ms": round(q[49], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(max(took), 1),
        "mean_ms": round(statistics.fmean(took), 1),
        "under_1s": sum(t < 1000 for t in took),
    }


def run(args: Any) -> dict[str, Any]:
    load = os.getloadavg()
    per_mode = args.requests + args.block_requests
    with (
        tempfile.TemporaryDirectory(prefix="rxledger-returns-") as tmp,
        Anvil(port=free_port()) as node,
    ):
        workdir = Path(tmp)
        started = time.perf_counter()
        deployment, serials = seed(node.url, 2 * per_mode, workdir)
        took = time.perf_counter() - started
        log(f"{len(serials)} packs returned to wholesaler_a in {took:.1f} s")
        env = {
            "RXLEDGER_OPERATOR_KEY": "0x" + bytes(dev_account("wholesaler_a").key).hex(),
            "RXLEDGER_CONSOLE_KEY": LOCAL_CONSOLE_KEY,
        }
        gateway = GatewayProcess(node.url, deployment, workdir, workers=1, env=env)
        w3 = connect(node.url)
        runs: dict[str, dict[str, Any]] = {}
        with gateway, httpx.Client(base_url=gateway.url, headers=HEADERS, timeout=60) as client:
            flow, naive = serials[:per_mode], serials[per_mode:]
            for mining, n in (
                ("instant", args.requests),
                (f"block_time_{args.block_time:g}s", args.block_requests),
            ):
                if mining != "instant":
                    w3.manager.request_blocking(
                        RPCEndpoint("evm_setIntervalMining"), [args.block_time]
                    )
                mine, flow = flow[:n], flow[n:]
                base, naive = naive[:n], naive[n:]
                runs[mining] = {
                    "verify": timed(verify_only, client, mine),
                    "return": timed(one_flow, client, mine),
                    "baseline": timed(two_calls, client, base),
                }
                log(f"{mining}: done")
    return {
        "what": "POST /v1/returns of one returned pack: verified on chain (verify), verified "
        "and received (return); baseline: POST /v1/lvm/verify then POST /v1/capture polled",
        "vrs_target_ms": 1000,
        "block_time_s": args.block_time,
        "runs": runs,
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "load_average_1min": {"start": load[0], "end": os.getloadavg()[0]},
        },
    }


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--requests", type=int, default=300, help="per mode, instant mining")
    parser.add_argument(
        "--block-requests", type=int, default=60, help="per mode, with a block time"
    )
    parser.add_argument("--block-time", type=int, default=1, help="seconds")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = run(args)
    print(
        f"{'mining':<18}{'mode':<10}{'n':>5}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'<1 s':>7}"
    )
    for mining, modes in result["runs"].items():
        for mode, r in modes.items():
            print(
                f"{mining:<18}{mode:<10}{r['requests']:>5}{r['p50_ms']:>10.1f}"
                f"{r['p99_ms']:>10.1f}{r['max_ms']:>10.1f}{r['under_1s']:>7}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
