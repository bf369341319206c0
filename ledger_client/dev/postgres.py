"""A throwaway PostgreSQL cluster (Debian's server, ``make postgres``) on a free loopback port.

``initdb`` writes a new cluster into a temporary folder, the server listens on 127.0.0.1
only, with ``trust`` authentication for local connections, and the folder goes when it
stops. PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres``
user Debian's package creates.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import psycopg
from psycopg import sql

from ledger_client.dev.anvil import ChildProcess
from ledger_client.dev.ports import free_port
from ledger_client.errors import ConfigurationError

#: Where Debian's postgresql-NN packages put their server binaries.
DEBIAN_BINDIRS = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"


def postgres_bindir() -> Path:
    """The folder of the newest installed server's ``initdb`` and ``postgres``; raise a
    :class:`ConfigurationError` naming ``make postgres`` when there is none."""
    found = sorted(
        (p for p in DEBIAN_BINDIRS.glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    raise ConfigurationError(
        "PostgreSQL's server (initdb, postgres) is not installed: run `make postgres`"
    )


def _run_as() -> dict[str, Any]:
    """``subprocess`` arguments that drop root to the ``postgres`` user (nothing otherwise)."""
    return {"user": SERVER_USER, "group": SERVER_USER} if os.geteuid() == 0 else {}


class PostgresCluster(ChildProcess):
    """A new cluster in a temporary folder, served on ``127.0.0.1:port`` until stopped."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.root: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres", user: str = SERVER_USER) -> str:
        """The SQLAlchemy URL of ``database`` as ``user`` (psycopg 3 driver)."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> Self:
        """initdb a cluster, start the server and wait until it accepts connections."""
        bindir = postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="rxledger-pg-"))
        data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVER_USER, SERVER_USER)
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", SERVER_USER, "--auth=trust",
             "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, **_run_as(),
        )  # fmt: skip
        with (self.root / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(self.port),
                 "-h", "127.0.0.1", "-k", str(self.root)],
                stdout=log, stderr=subprocess.STDOUT, **_run_as(),
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigurationError(f"postgres exited:\n{self.log_tail()}")
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                time.sleep(0.2)
        self.stop()
        raise ConfigurationError(f"postgres did not accept connections within {timeout} s")

    def create_database(self, name: str) -> str:
        """Create role and database ``name`` (the role owns it); return its URL."""
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(name)
                )
            )
        return self.url(name, name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected), then remove the cluster."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log."""
        log = self.root / "server.log" if self.root else None
        return log.read_text(errors="replace")[-chars:] if log and log.exists() else ""

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname={database}"
