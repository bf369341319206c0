"""``make run`` (scripts/demo.py): when its gateway dies the demo says how, stops anvil with
a message and exits non-zero; Ctrl-C stops both and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Demo:
    """A running demo: its process, its gateway's process id and its output file."""

    process: subprocess.Popen[bytes]
    gateway_pid: int
    anvil_url: str
    output: Path

    def finish(self) -> str:
        self.process.wait(timeout=120)
        return self.output.read_text()


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """The demo serving its gateway, with the smallest scenario, from a fresh directory."""
    anvil_port, gateway_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RXLEDGER_")}
    env["PYTHONPATH"] = str(ROOT)
    output = tmp_path / "demo.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "demo.py"), "--packs", "600", "600",
             "--port", str(anvil_port), "--gateway-port", str(gateway_port)],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, output.read_text()[-3000:]
            assert time.monotonic() < deadline, output.read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{gateway_port}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        (gateway,) = [pid for pid in children(process.pid) if b"gateway" in cmdline(pid)]
        yield Demo(process, gateway, f"http://127.0.0.1:{anvil_port}", output)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def anvil_answers(url: str) -> bool:
    try:
        httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    except httpx.HTTPError:
        return False
    return True


def test_demo_reports_a_crashed_gateway_stops_anvil_and_fails(demo: Demo) -> None:
    assert anvil_answers(demo.anvil_url)
    os.kill(demo.gateway_pid, signal.SIGSEGV)
    out = demo.finish()
    assert demo.process.returncode == 1, out[-3000:]
    assert "the gateway exited: killed by signal 11 (Segmentation fault)" in out
    assert "stopping anvil (it saves the chain state in .rxledger/anvil-state.json)" in out
    assert out.rstrip().endswith("anvil stopped: exit code 0")
    assert not anvil_answers(demo.anvil_url)


def test_interrupted_demo_stops_its_gateway_and_anvil_and_succeeds(demo: Demo) -> None:
    demo.process.send_signal(signal.SIGINT)
    out = demo.finish()
    assert demo.process.returncode == 0, out[-3000:]
    assert "the gateway exited" not in out
    assert out.rstrip().endswith("anvil stopped: exit code 0")
    with pytest.raises(ProcessLookupError):
        os.kill(demo.gateway_pid, 0)
    assert not anvil_answers(demo.anvil_url)
