"""Benchmark GET /v1/verify: 100,000 commissioned packs on anvil, the gateway under wrk.

Runs, in one go: anvil (block gas limit 300M), the demo network, 100,000 packs commissioned
in batches of 2,000, the gateway (``python -m gateway``, 2 uvicorn workers, SQLite index),
then Debian's ``wrk`` for a bounded time against

- ``index``: the gateway's read path (the confirmed SQL index; see docs/gateway.md), and
- ``baseline``: ``source=chain``, a fresh web3 ``verify`` eth_call to the node per request.

Prints a table, or one JSON object with ``--json`` (``rps``, ``p50_ms``, ``p99_ms``,
``errors`` of the first index run, every run under ``runs``, and ``baseline``); the JSON is
also written to docs/results/bench_verify.json. Each run also reports the gateway's CPU time
per request and ``other_cpu_cores``: CPU the machine spent outside this benchmark (gateway,
wrk, anvil) during the run, so a run disturbed by another job on the same cores shows it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from _harness import ROOT, CpuMeter, GatewayProcess, arguments, free_port, log, process_tree
from eth_account.messages import encode_defunct

from ledger_client.chain import connect, dev_account
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet

GTIN = "09506000134352"
LOT = "BENCH1"
EXPIRY = "301231"


RESULTS = ROOT / "docs" / "results" / "bench_verify.json"


def seed(url: str, packs: int, workdir: Path) -> tuple[Path, list[str]]:
    """Deploy the demo network, commission ``packs`` packs; return the deployment file and
    the serials."""
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
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise SystemExit(f"unexpected wrk latency: {text}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    url: str, script: Path, seconds: int, connections: int, server: int, anvil: int
) -> dict[str, float]:
    """Run wrk; return rps, p50_ms, p99_ms, errors, requests, the gateway's CPU time per
    request and the CPU (in cores) that other processes used meanwhile."""
    meter = CpuMeter(process_tree(server), [anvil])
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = meter.read()

    def find(pattern: str) -> str:
        match = re.search(pattern, out, re.MULTILINE)
        if match is None:
            raise SystemExit(f"unexpected wrk output:\n{out}")
        return match.group(1)

    requests = int(find(r"(\d+) requests in"))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return {
        "rps": float(find(r"Requests/sec:\s+([\d.]+)")),
        # the latency distribution's own lines (a "99%" can end a Stdev column too)
        "p50_ms": _ms(find(r"^\s+50%\s+(\S+)")),
        "p99_ms": _ms(find(r"^\s+99%\s+(\S+)")),
        "errors": errors,
        "requests": requests,
        "gateway_cpu_us_per_request": round(cpu["gateway_cpu_seconds"] / max(1, requests) * 1e6),
        "other_cpu_cores": cpu["other_cpu_cores"],
    }


def login(client: httpx.Client) -> str:
    """Sign in as pharmacy_a (the challenge message signed with EIP-191) and return its
    bearer token."""
    account = dev_account("pharmacy_a")
    message = client.post("/v1/auth/challenge", json={"address": account.address}).json()["message"]
    signature = account.sign_message(encode_defunct(text=message)).signature
    token = client.post(
        "/v1/auth/token", json={"message": message, "signature": "0x" + bytes(signature).hex()}
    ).json()
    if "access_token" not in token:
        raise SystemExit(f"login failed: {token}")
    return str(token["access_token"])


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--packs", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--baseline-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--codes", type=int, default=5000, help="distinct packs the load rotates over"
    )
    parser.add_argument("--runs", type=int, default=3, help="index runs on the same server")
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
        gateway = GatewayProcess(anvil.url, deployment, workdir, args.workers)
        with gateway, httpx.Client(base_url=gateway.url, timeout=10) as client:
            token = login(client)
            step = max(1, len(serials) // args.codes)
            codes = [
                quote(f"]d201{GTIN}17{EXPIRY}10{LOT}\x1d21{s}", safe="") for s in serials[::step]
            ]
            sample = client.get(
                f"/v1/verify?code={codes[0]}", headers={"Authorization": f"Bearer {token}"}
            ).json()
            assert sample["status"] == "VERIFIED", sample
            lua_script(workdir / "index.lua", codes, token, "")
            lua_script(workdir / "chain.lua", codes, token, "&source=chain")
            url = gateway.url + "/"
            assert anvil.process is not None
            pids = (gateway.pid, anvil.process.pid)
            run_wrk(url, workdir / "index.lua", 2, args.connections, *pids)  # warm-up
            runs = []
            for n in range(args.runs):
                log(f"index run {n + 1}: wrk {args.seconds} s, {args.connections} connections")
                runs.append(
                    run_wrk(url, workdir / "index.lua", args.seconds, args.connections, *pids)
                )
                log(json.dumps(runs[-1]))
            log(f"baseline (fresh eth_call per request): wrk {args.baseline_seconds} s")
            baseline = run_wrk(
                url, workdir / "chain.lua", args.baseline_seconds, args.connections, *pids
            )

    index = runs[0]
    result = {
        **index,
        "runs": runs,
        "packs": args.packs,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "baseline": baseline,
        "speedup": round(index["rps"] / baseline["rps"], 1) if baseline["rps"] else None,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'mode':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'other cpu':>9}")
    rows = [(f"index run {i + 1}", r) for i, r in enumerate(runs)] + [("baseline", baseline)]
    for name, r in rows:
        print(
            f"{name:<34} {r['rps']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
            f" {r['errors']:>7.0f} {r['other_cpu_cores']:>9.2f}"
        )
    print(f"{args.packs} packs, {args.workers} workers, {args.connections} connections, wrk -t1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
