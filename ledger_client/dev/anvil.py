"""Start and stop a local anvil node (from the npm package) for the demo and benchmarks."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from web3 import Web3

from ledger_client._paths import ROOT
from ledger_client.errors import ConfigurationError

#: A high block gas limit, as permissioned networks use, so batches of thousands fit.
DEV_GAS_LIMIT = 300_000_000
#: States of recent blocks a dev anvil keeps in memory (``--prune-history``); older blocks
#: keep their transactions, receipts and logs but no state. anvil keeps each block's state
#: as a whole copy, so its memory is about (this + 1) x the state: unpruned it grew to 24 GB
#: commissioning 1,000,000 packs. Nothing here reads state older than the gateway's
#: confirmation depth (default 2; its directory reads fall back to the latest block), and
#: the auditor and the exports read logs and state at the head.
DEV_STATE_HISTORY = 8


def anvil_binary() -> str:
    """Return the anvil executable: the npm package's, else one on PATH."""
    local = ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found is None:
        raise ConfigurationError("anvil not found: run `npm ci` (or `make setup`) first")
    return found


class Service:
    """What ``start()`` starts and ``stop()`` stops; a context manager that starts it on
    entry and stops it on exit."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ChildProcess(Service):
    """A child process that ``start()`` launches and ``stop()`` ends.

    Shared by :class:`Anvil`, the Clique network's geth nodes and the scripts' gateway process.
    """

    process: subprocess.Popen[bytes] | None

    def stop(self) -> None:
        """Stop the process (SIGTERM, so anvil writes its state), waiting for it to exit;
        SIGKILL if it has not exited after 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(eq=False)
class Anvil(ChildProcess):
    """An anvil node on ``127.0.0.1:port``, its state kept in ``state_file`` when given.

    Use as a context manager; the state is written when the node stops and every few seconds.
    ``load_state`` starts from a saved state without writing it back; ``auto_impersonate``
    accepts unsigned transactions from any account (bulk writes); ``block_time`` mines a block
    every so many seconds instead of one per transaction. ``prune_history`` keeps the state of
    only that many recent blocks (None: every block's, an archive node). ``timestamp`` sets the
    genesis block's time (Unix seconds); later blocks keep that offset from the wall clock.
    """

    port: int = 8545
    state_file: Path | None = None
    gas_limit: int = DEV_GAS_LIMIT
    load_state: Path | None = field(default=None, kw_only=True)
    auto_impersonate: bool = field(default=False, kw_only=True)
    block_time: float | None = field(default=None, kw_only=True)
    prune_history: int | None = field(default=DEV_STATE_HISTORY, kw_only=True)
    timestamp: int | None = field(default=None, kw_only=True)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """The node's JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Anvil:
        """Start the node and wait until it answers."""
        args = [
            anvil_binary(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--gas-limit",
            str(self.gas_limit),
            "--hardfork",
            "prague",
            "--silent",
        ]
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--state", str(self.state_file), "--state-interval", "5"]
        if self.load_state is not None:
            args += ["--load-state", str(self.load_state)]
        if self.auto_impersonate:
            args.append("--auto-impersonate")
        if self.block_time is not None:
            args += ["--block-time", str(self.block_time)]
        if self.prune_history is not None:
            args += ["--prune-history", str(self.prune_history)]
        if self.timestamp is not None:
            args += ["--timestamp", str(self.timestamp)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        w3 = Web3(Web3.HTTPProvider(self.url))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise ConfigurationError(f"anvil exited with {self.process.returncode}: {err}")
            if w3.is_connected():
                return self
            time.sleep(0.1)
        self.stop()
        raise ConfigurationError(f"anvil did not answer on {self.url} within {timeout} s")

    @property
    def returncode(self) -> int | None:
        """The node's exit status once it has exited (negative: killed by that signal)."""
        return None if self.process is None else self.process.poll()
