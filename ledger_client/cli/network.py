"""``rxledger network init``: the keys and configuration of a consortium network's partners."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ledger_client.cli.command import RxTyper
from ledger_client.dev.netconfig import load_config
from ledger_client.dev.netfolder import init_network
from ledger_client.errors import InvalidInputError
from ledger_client.inputs import read_text
from ledger_client.keystore import LIGHT_SCRYPT_N, STANDARD_SCRYPT_N

__all__ = ["network_app"]

network_app = RxTyper(help="A consortium network: every partner its own node, gateway and keys.")
PASSWORD_ENV = "RXLEDGER_KEYSTORE_PASSWORD"


def _password(password_file: Path | None) -> str | None:
    """The keystores' password: the file's first line, else the environment's, else None."""
    password: str | None
    if password_file is not None:
        password = read_text(password_file, "--password-file").split("\n", 1)[0].rstrip("\r")
    else:
        password = os.environ.get(PASSWORD_ENV, "") or None
    if password is not None and len(password) < 12:
        raise InvalidInputError("the keystore password must have at least 12 characters")
    return password


@network_app.command("init")
def network_init(
    config: Annotated[Path, typer.Argument(help="the network's partners and chain (TOML or JSON)")],
    out: Annotated[
        Path, typer.Option("--out", help="the network folder to write (new or empty)")
    ] = Path(".rxledger/network"),
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help=f"one password for every keystore (or {PASSWORD_ENV}); default: a new one each",
        ),
    ] = None,
    light_kdf: Annotated[
        bool, typer.Option("--light-kdf", help="cheap scrypt (N=4096): throwaway networks only")
    ] = False,
) -> None:
    """Write every partner's keystores, the genesis, node and gateway configuration.

    Keys are new, encrypted (eth-account keystores) and beside their password files, all
    mode 0600; nothing secret is printed. `make network` runs the folder.
    """
    network = load_config(config)
    password = _password(password_file)
    scrypt_n = LIGHT_SCRYPT_N if light_kdf else STANDARD_SCRYPT_N
    folder = init_network(network, out, password, scrypt_n)
    typer.echo(
        f"network folder {folder.root} (chain {folder.chain_id}, deployer {folder.deployer})"
    )
    for p in folder.partners:
        typer.echo(
            f"  {p.name:<14} member {p.address}  signer {p.signer}  node {p.chain_url}  "
            f"gateway {p.gateway_url} ({p.database})"
        )
    typer.echo(f"keystores and password files (mode 0600) under {folder.root}")
