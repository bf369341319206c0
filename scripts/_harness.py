"""What the scripts share: their argument parsers; and for those that load a live gateway, a
free loopback port, readings of ``/proc`` (CPU ticks, RSS, a process's children) and
``python -m gateway`` as a subprocess that is ready once its index has reached the chain's
head."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger_client.chain import connect  # noqa: E402
from ledger_client.dev.anvil import ChildProcess  # noqa: E402
from ledger_client.dev.ports import free_port  # noqa: E402


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose help starts with ``doc`` (the script's docstring) as written."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def history_arguments(doc: str | None, port: int) -> argparse.ArgumentParser:
    """:func:`arguments` of a script that builds a history on its own anvil node: how many
    ``--packs``, the random ``--seed``, the node's ``--port``."""
    parser = arguments(doc)
    parser.add_argument("--packs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=port)
    return parser


def log(message: str) -> None:
    """Progress on stderr, tagged with the script's name."""
    print(f"[{Path(sys.argv[0]).stem}] {message}", file=sys.stderr, flush=True)


def cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def process_tree(pid: int) -> list[int]:
    """``pid`` and its direct children (uvicorn's workers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return [pid, *children]


def busy_ticks() -> int:
    """Non-idle CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # minus idle and iowait


class CpuMeter:
    """CPU used by the gateway's processes during a run, and by processes outside the run:
    the machine's busy time minus the gateway, ``ours`` (e.g. anvil) and this process with
    its waited-for children (e.g. wrk), so a run disturbed by another job shows it."""

    def __init__(self, gateway: list[int], ours: list[int]) -> None:
        self.gateway, self.ours = gateway, ours
        self._start = self._read()

    def _read(self) -> tuple[float, int, int, float, int]:
        me = os.times()
        return (
            time.perf_counter(),
            sum(cpu_ticks(p) for p in self.gateway),
            sum(cpu_ticks(p) for p in self.ours),
            me.user + me.system + me.children_user + me.children_system,
            busy_ticks(),
        )

    def read(self) -> dict[str, float]:
        """``gateway_cpu_seconds``, ``gateway_cpu_cores`` and ``other_cpu_cores`` so far."""
        end = self._read()
        wall, gateway, ours, me, busy = (b - a for a, b in zip(self._start, end, strict=True))
        tick = os.sysconf("SC_CLK_TCK")
        other = max(0.0, busy / tick - (gateway + ours) / tick - me) / wall
        return {
            "gateway_cpu_seconds": gateway / tick,
            "gateway_cpu_cores": round(gateway / tick / wall, 2),
            "other_cpu_cores": round(other, 2),
        }


def resident(pid: int) -> dict[str, int]:
    """Resident memory of one process in bytes: ``VmRSS`` and its parts ``RssAnon`` (heap,
    stacks) and ``RssFile`` (mapped files, e.g. SQLite's memory-mapped database, which the
    kernel can drop and every process mapping it counts); empty if the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return {k: int(fields[k].split()[0]) * 1024 for k in ("VmRSS", "RssAnon", "RssFile")}


class GatewayProcess(ChildProcess):
    """``python -m gateway`` on a free loopback port with a SQLite index in ``workdir``.

    Confirmation depth 0 and no practical rate limit (every request of a benchmark comes
    from one caller); ``env`` adds or overrides ``RXLEDGER_*`` settings. Use as a context
    manager: entering waits until the index has reached the chain's head.
    """

    def __init__(
        self,
        chain_url: str,
        deployment: Path,
        workdir: Path,
        workers: int = 2,
        env: dict[str, str] | None = None,
        ready_timeout: float = 1800.0,
    ) -> None:
        self.chain_url = chain_url
        self.ready_timeout = ready_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "gateway.log"
        self.env = {
            "RXLEDGER_ENVIRONMENT": "local",
            "RXLEDGER_CHAIN_URL": chain_url,
            "RXLEDGER_DEPLOYMENT_FILE": str(deployment),
            "RXLEDGER_DATABASE_URL": f"sqlite:///{workdir / 'gateway.db'}",
            "RXLEDGER_CONFIRMATION_DEPTH": "0",
            "RXLEDGER_INDEX_CHUNK_BLOCKS": "5000",
            "RXLEDGER_RATE_LIMIT_PER_SECOND": "1000000",
            "RXLEDGER_RATE_LIMIT_BURST": "1000000",
            "RXLEDGER_WORKERS": str(workers),
            "RXLEDGER_HOST": "127.0.0.1",
            "RXLEDGER_PORT": str(self.port),
            "RXLEDGER_PUBLIC_URL": self.url,
            "RXLEDGER_LOG_JSON": "true",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The supervising process's id."""
        assert self.process is not None, "the gateway is not started"
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the gateway's log."""
        return self.log_path.read_text()[-chars:] if self.log_path.exists() else ""

    def start(self) -> GatewayProcess:
        """Start the server; return once ``/readyz`` shows the index at the current head
        (``ready_timeout`` seconds at most)."""
        timeout = self.ready_timeout
        head = connect(self.chain_url).eth.block_number
        with self.log_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway"],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        started = time.perf_counter()
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while time.perf_counter() - started < timeout:
                if self.process.poll() is not None:
                    raise SystemExit(f"the gateway exited:\n{self.log_tail()}")
                try:
                    ready = client.get("/readyz").json()
                    if ready["checks"].get("indexed_block", -1) >= head:
                        took = time.perf_counter() - started
                        log(f"gateway up and indexed to block {head} in {took:.1f} s")
                        return self
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the gateway did not index to block {head} within {timeout:.0f} s")
