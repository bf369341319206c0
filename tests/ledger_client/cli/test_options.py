"""The common options: each command takes its own set, declared by one parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from eth_account import Account
from typer.main import get_command
from typer.testing import CliRunner

from ledger_client.cli import app
from ledger_client.cli.command import RxTyper
from ledger_client.cli.options import Common
from ledger_client.cli.session import Session, StoreOpts
from ledger_client.errors import ConfigurationError
from ledger_client.keystore import LIGHT_SCRYPT_N, write_keystore, write_secret

COMMON = {"--rpc", "--deployment", "--as", "--key-file", "--lot-keys", "--store"}
CHAIN = {"--rpc", "--deployment"}
STORE = CHAIN | {"--store"}
MEMBER = CHAIN | {"--as", "--key-file", "--lot-keys"}
WRITER = COMMON
#: The common options of every command, as the README and docs name them.
EXPECTED = {
    "commission": WRITER, "pack": WRITER, "unpack": WRITER, "ship": WRITER,
    "receive": WRITER, "decommission": WRITER, "undo": WRITER, "flag": WRITER, "verify": CHAIN,
    "deploy": CHAIN | {"--key-file"}, "lot register": WRITER, "lot status": WRITER,
    "lot keygen": {"--as", "--key-file"},
    "council propose": MEMBER, "council approve": MEMBER,
    "council cancel": MEMBER, "council list": CHAIN, "epcis validate": set(),
    "epcis import": WRITER, "epcis export": STORE | {"--lot-keys"}, "epcis ti-ts": STORE,
    "audit replay": CHAIN, "audit export": CHAIN, "audit custody": CHAIN,
    "audit lot-trace": CHAIN, "audit expiry": CHAIN, "audit anomalies": CHAIN,
    "audit shortage": CHAIN, "audit scans": MEMBER, "audit exceptions": STORE,
    "audit exception-report": STORE,
    "audit investigations": STORE, "report 3911": WRITER, "report history": STORE,
    "report fmd-alert": STORE, "network init": set(),
    "grant add": MEMBER, "grant revoke": MEMBER, "grant list": CHAIN | {"--lot-keys"},
    "gateway-url set": MEMBER, "gateway-url show": CHAIN, "trace": MEMBER, "contents": MEMBER,
    "cancel": WRITER, "refuse": WRITER, "lost": WRITER, "found": WRITER, "return": WRITER,
    "exception open": MEMBER, "exception answer": MEMBER, "exception resolve": MEMBER,
    "exception show": CHAIN,
}  # fmt: skip


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found |= _commands(command, f"{prefix}{name} ")
        else:
            found[prefix + name] = command
    return found


def test_each_command_takes_its_common_options() -> None:
    commands = _commands(get_command(app))
    taken = {
        name: {o for p in c.params for o in p.opts if o in COMMON} for name, c in commands.items()
    }
    assert taken == EXPECTED


def test_a_session_parameter_becomes_its_options_in_its_place(tmp_path: Path) -> None:
    demo, seen = RxTyper(), []

    @demo.command()
    def show(code: str, session: StoreOpts, loud: bool = False) -> None:
        seen.append((code, session, loud))

    @demo.command()
    def other() -> None:  # a second command makes ``demo`` a group, as the CLI's apps are
        """Does nothing."""

    command = get_command(demo).commands["show"]  # type: ignore[attr-defined]
    assert [p.name for p in command.params] == ["code", "rpc", "deployment", "store", "loud"]
    env = {"RXLEDGER_RPC_URL": "http://node:1"}
    args = ["show", "X", "--store", str(tmp_path / "s.sqlite"), "--loud"]
    result = CliRunner().invoke(demo, args, env=env)
    assert result.exit_code == 0, result.output
    expected = Session(rpc="http://node:1", store=tmp_path / "s.sqlite")
    assert seen == [("X", expected, True)]


def test_a_common_parameter_naming_an_unknown_option_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown or taken"):

        @RxTyper().command()
        def bad(session: Annotated[Session, Common("port")]) -> None:  # type: ignore[arg-type]
            """Never registered."""


def test_an_encrypted_key_file_opens_with_the_password_beside_it_or_the_one_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = Account.create()
    keystore = write_keystore(tmp_path / "keystore.json", member, "beside", LIGHT_SCRYPT_N)
    write_secret(tmp_path / "password", "beside")
    assert Session(key_file=keystore).account.address == member.address

    named = write_secret(tmp_path / "other", "wrong")
    monkeypatch.setenv("RXLEDGER_PASSWORD_FILE", str(named))
    with pytest.raises(ConfigurationError, match="does not open the keystore"):
        _ = Session(key_file=keystore).account
