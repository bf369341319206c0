"""The ``rxledger`` command run in-process against a node, as the CLI tests use it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil


def rx(node: Anvil, deployment: Path, *args: str) -> tuple[int, str]:
    """``rxledger ARGS --rpc NODE --deployment FILE`` with no key in the environment: its exit
    code and output."""
    argv = [*args, "--rpc", node.url, "--deployment", str(deployment)]
    result = CliRunner().invoke(app, argv, env={"RXLEDGER_KEY": ""})
    return result.exit_code, result.output
