"""The README's short tour runs as written, command by command, on a fresh demo network: the
scenario and gateway of `make run` (scripts/demo.py) on its own anvil node, the README's Python
block and then every command of its ``sh`` blocks, from a folder laid out like the checkout."""

from __future__ import annotations

import os
import re
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
SHARED = ROOT.parent / "shared"
MAKE_RUN_NODE = "http://127.0.0.1:8545"
EXPECTED_EXIT = re.compile(r"#.*\bexits (\d+)")


def tour() -> str:
    """The README's "A short tour" section."""
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## A short tour")
    return text[start : text.index("\n## ", start + 1)]


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", tour(), re.MULTILINE | re.DOTALL)


def shell_commands() -> list[tuple[str, int]]:
    """Each command of the tour's sh blocks with the exit code its comment states (0 if none)."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", tour(), re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                expected = EXPECTED_EXIT.search(line)
                commands.append((line, int(expected.group(1)) if expected else 0))
    return commands


@dataclass
class Demo:
    """A running demo network and the folder and environment the tour runs in."""

    node_url: str
    work: Path
    env: dict[str, str]

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=300
        )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("tour")
    work, bin_dir = root / "checkout", root / "bin"
    work.mkdir()
    bin_dir.mkdir()
    (work / "docs").symlink_to(ROOT / "docs")
    (root / "shared").symlink_to(SHARED)  # ../shared, as beside the checkout
    rxledger = bin_dir / "rxledger"  # the console script, for this tree
    rxledger.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "from ledger_client.cli import main\nmain()\n"
    )
    rxledger.chmod(0o755)
    node, gateway = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RXLEDGER_")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        PYTHONPATH=str(ROOT),
        RXLEDGER_RPC_URL=f"http://127.0.0.1:{node}",
    )
    log = (root / "demo.log").open("w")
    args = [sys.executable, str(ROOT / "scripts" / "demo.py"), "--port", str(node)]
    process = subprocess.Popen(
        [*args, "--gateway-port", str(gateway)], cwd=work, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 300
        while True:  # the gateway starts once the scenario has played
            try:
                if httpx.get(f"http://127.0.0.1:{gateway}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo did not start:\n{(root / 'demo.log').read_text()}")
            time.sleep(0.5)
        yield Demo(f"http://127.0.0.1:{node}", work, env)
    finally:
        process.terminate()  # as Ctrl-C: the gateway stops, anvil saves its state
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_the_tour_has_one_python_block_and_commands_with_their_exit_codes() -> None:
    (block,) = python_blocks()
    assert MAKE_RUN_NODE in block
    commands = shell_commands()
    assert len(commands) >= 25
    assert all(command.startswith("rxledger ") for command, _ in commands)
    assert [c for c, code in commands if code == 3] and all(
        "verify" in c for c, code in commands if code == 3
    )


def test_the_readme_tour_runs_as_written_on_the_demo_network(demo: Demo) -> None:
    (block,) = python_blocks()
    script = demo.work / "tour.py"
    script.write_text(block.replace(MAKE_RUN_NODE, demo.node_url))
    done = demo.run([sys.executable, str(script)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["VERIFIED"]
    for command, expected in shell_commands():
        done = demo.run(["bash", "-c", command])
        assert done.returncode == expected, (
            f"{command}\nexited {done.returncode}, not {expected}:\n{done.stdout}\n{done.stderr}"
        )
    assert (demo.work / "notice.html").is_file() and (demo.work / "history.json").is_file()
