"""Options and error reporting shared by the ``rxledger`` commands and their sub-apps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ledger_client.errors import ConfigurationError, InvalidCodeError

DEFAULT_RPC = "http://127.0.0.1:8545"
DEFAULT_DEPLOYMENT = Path(".rxledger/deployment.json")
DEFAULT_STORE = Path(".rxledger/epcis.sqlite")

RpcOpt = Annotated[
    str, typer.Option("--rpc", envvar="RXLEDGER_RPC_URL", help="JSON-RPC URL of a node")
]
DeploymentOpt = Annotated[
    Path, typer.Option("--deployment", envvar="RXLEDGER_DEPLOYMENT", help="deployment file")
]
AsOpt = Annotated[
    str | None, typer.Option("--as", help="demo member name (dev keys, demo network only)")
]
KeyOpt = Annotated[
    Path | None,
    typer.Option("--key-file", help="file holding the member's private key (hex; or RXLEDGER_KEY)"),
]
StoreOpt = Annotated[
    Path,
    typer.Option("--store", envvar="RXLEDGER_EPCIS_STORE", help="the owner's EPCIS store (SQLite)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]

console = Console(stderr=True)


def fail(exc: Exception) -> typer.Exit:
    """Print ``exc`` on stderr (unwrapped, so ``file:line`` stays greppable) and return the exit:
    2 for bad input or configuration, 1 for a refusal by the chain."""
    console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
    return typer.Exit(code=2 if isinstance(exc, InvalidCodeError | ConfigurationError) else 1)
