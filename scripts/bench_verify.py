"""Benchmark GET /v1/verify: 100,000 commissioned packs on anvil, the gateway under wrk.

Runs, in one go: anvil (block gas limit 300M), the demo network, 100,000 packs commissioned
in batches of 2,000, the gateway (``python -m gateway``, 2 uvicorn workers, SQLite index),
then Debian's ``wrk`` for a bounded time against

- ``index``: the gateway's read path (the confirmed SQL index; see docs/gateway.md), and
- ``baseline``: ``source=chain``, a fresh web3 ``verify`` eth_call to the node per request.

Prints a table, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from eth_account.messages import encode_defunct

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger_client.chain import connect, dev_account  # noqa: E402
from ledger_client.devchain import Anvil  # noqa: E402
from ledger_client.devnet import deploy_devnet  # noqa: E402

GTIN = "09506000134352"
LOT = "BENCH1"
EXPIRY = "301231"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def seed(url: str, packs: int, workdir: Path) -> tuple[Path, list[str]]:
    """Deploy the demo network, commission ``packs`` packs; return the deployment file and serials."""
    w3 = connect(url)
    net = deploy_devnet(w3, batch_size=2000)
    m = net["manufacturer"]
    m.register_product(GTIN, "Benchmark tablets 10 mg", "10 mg", "tablet")
    m.register_lot(GTIN, LOT, EXPIRY)
    serials = [f"B{i:07d}" for i in range(packs)]
    started = time.perf_counter()
    m.commission(GTIN, LOT, serials)
    log(f"commissioned {packs} packs in {time.perf_counter() - started:.1f} s")
    path = workdir / "deployment.json"
    net.deployment.save(path)
    return path, serials


def lua_script(path: Path, codes: list[str], token: str, suffix: str) -> None:
    entries = ",\n".join(f'"{c}"' for c in codes)
    path.write_text(
        f"""
local codes = {{
{entries}
}}
local n = #codes
local i = 0
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  i = i + 1
  return wrk.format("GET", "/v1/verify?code=" .. codes[(i * 7919) % n + 1] .. "{suffix}")
end
response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\\n")
  end
end
"""
    )


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    """Run wrk and return rps, p50_ms, p99_ms, errors, requests."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "requests": requests}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packs", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--baseline-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--codes", type=int, default=5000, help="distinct packs the load rotates over"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk not found: apt-get install -y wrk")

    with (
        tempfile.TemporaryDirectory(prefix="rxledger-bench-") as tmp,
        Anvil(port=free_port()) as anvil,
    ):
        workdir = Path(tmp)
        deployment, serials = seed(anvil.url, args.packs, workdir)
        port = free_port()
        env = {
            **os.environ,
            "RXLEDGER_ENVIRONMENT": "local",
            "RXLEDGER_CHAIN_URL": anvil.url,
            "RXLEDGER_DEPLOYMENT_FILE": str(deployment),
            "RXLEDGER_DATABASE_URL": f"sqlite:///{workdir / 'gateway.db'}",
            "RXLEDGER_CONFIRMATION_DEPTH": "0",
            "RXLEDGER_INDEX_CHUNK_BLOCKS": "5000",
            "RXLEDGER_RATE_LIMIT_PER_SECOND": "1000000",
            "RXLEDGER_RATE_LIMIT_BURST": "1000000",
            "RXLEDGER_WORKERS": str(args.workers),
            "RXLEDGER_PORT": str(port),
            "RXLEDGER_LOG_JSON": "true",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "gateway.log", "w"),  # noqa: SIM115
        )
        try:
            base = f"http://127.0.0.1:{port}"
            head = connect(anvil.url).eth.block_number
            started = time.perf_counter()
            with httpx.Client(base_url=base, timeout=10) as client:
                while True:
                    if server.poll() is not None:
                        raise SystemExit((workdir / "gateway.log").read_text()[-3000:])
                    try:
                        ready = client.get("/readyz").json()
                        if ready["checks"].get("indexed_block", -1) >= head:
                            break
                    except (httpx.HTTPError, ValueError, KeyError):
                        pass
                    time.sleep(0.2)
                log(
                    f"gateway up and indexed to block {head} in {time.perf_counter() - started:.1f} s"
                )
                account = dev_account("pharmacy_a")
                challenge = client.post(
                    "/v1/auth/challenge", json={"address": account.address}
                ).json()
                signature = account.sign_message(
                    encode_defunct(text=challenge["message"])
                ).signature
                token = client.post(
                    "/v1/auth/token",
                    json={
                        "address": account.address,
                        "nonce": challenge["nonce"],
                        "signature": "0x" + bytes(signature).hex(),
                    },
                ).json()
                if "access_token" not in token:
                    raise SystemExit(f"login failed: {token}")
                token = token["access_token"]
                step = max(1, len(serials) // args.codes)
                codes = [
                    quote(f"]d201{GTIN}17{EXPIRY}10{LOT}\x1d21{s}", safe="")
                    for s in serials[::step]
                ]
                sample = client.get(
                    f"/v1/verify?code={codes[0]}", headers={"Authorization": f"Bearer {token}"}
                ).json()
                assert sample["status"] == "VERIFIED", sample
            lua_script(workdir / "index.lua", codes, token, "")
            lua_script(workdir / "chain.lua", codes, token, "&source=chain")
            url = base + "/"
            run_wrk(url, workdir / "index.lua", 2, args.connections)  # warm-up
            log(f"index path: wrk {args.seconds} s, {args.connections} connections")
            index = run_wrk(url, workdir / "index.lua", args.seconds, args.connections)
            log(f"baseline (fresh eth_call per request): wrk {args.baseline_seconds} s")
            baseline = run_wrk(url, workdir / "chain.lua", args.baseline_seconds, args.connections)
        finally:
            server.terminate()
            server.wait(timeout=30)

    result = {
        **index,
        "packs": args.packs,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "baseline": baseline,
        "speedup": round(index["rps"] / baseline["rps"], 1) if baseline["rps"] else None,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{'mode':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        print(
            f"{'index (SQL read model)':<34} {index['rps']:>8.0f} {index['p50_ms']:>8.2f} {index['p99_ms']:>8.2f} {index['errors']:>7.0f}"
        )
        print(
            f"{'baseline (eth_call per request)':<34} {baseline['rps']:>8.0f} {baseline['p50_ms']:>8.2f} {baseline['p99_ms']:>8.2f} {baseline['errors']:>7.0f}"
        )
        print(
            f"{args.packs} packs, {args.workers} workers, {args.connections} connections, wrk -t1"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
