"""``rxledger network init``: every key encrypted beside its private password file, the genesis
sealed by the partners' signers, a members file ``rxledger deploy`` takes, gateway settings
that load the operator key from its keystore; nothing secret printed or logged."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from dotenv import dotenv_values
from typer.testing import CliRunner

from gateway.core.config import Settings
from ledger_client.cli import app
from ledger_client.cli.council import _member_specs
from ledger_client.contracts import Role
from ledger_client.dev.netfolder import NetworkFolder
from ledger_client.keystore import load_keystore
from ledger_client.lot_keys import read_lot_keys

CONFIG = Path(__file__).resolve().parents[3] / "docs" / "network" / "consortium.toml"


@dataclass
class Initialised:
    folder: NetworkFolder
    output: str
    logs: str


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Initialised:
    out = tmp_path_factory.mktemp("net") / "network"
    handler = logging.Handler()
    records: list[str] = []
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        result = CliRunner().invoke(app, ["network", "init", str(CONFIG), "--out", str(out),
                                          "--light-kdf"])  # fmt: skip
    finally:
        logging.getLogger().removeHandler(handler)
    assert result.exit_code == 0, result.output
    return Initialised(NetworkFolder.load(out), result.output, "\n".join(records))


def secret_files(folder: NetworkFolder) -> list[Path]:
    files = [*folder.keystore("deployer")]
    for p in folder.partners:
        node = folder.node_dir(p.name)
        files += [*folder.keystore(p.name), node / "keystore" / "signer.json", node / "password"]
        files += [node / "nodekey", folder.gateway_env(p.name)]
    return files


def test_every_key_opens_with_the_password_file_beside_it_and_both_are_private(
    initialised: Initialised,
) -> None:
    folder = initialised.folder
    assert [p.name for p in folder.partners] == [
        "manufacturer",
        "wholesaler",
        "pharmacy",
        "regulator",
    ]
    assert load_keystore(*folder.keystore("deployer")).address == folder.deployer
    for p in folder.partners:
        node = folder.node_dir(p.name)
        assert load_keystore(*folder.keystore(p.name)).address == p.address
        assert load_keystore(node / "keystore" / "signer.json", node / "password").address == (
            p.signer
        )
    assert {oct(path.stat().st_mode & 0o777) for path in secret_files(folder)} == {"0o600"}


def test_the_genesis_is_sealed_by_the_partners_signers_and_funds_every_member(
    initialised: Initialised,
) -> None:
    folder = initialised.folder
    genesis = json.loads(folder.genesis.read_text())
    extra = genesis["extraData"][2:]
    signers = [extra[64 + 40 * i : 104 + 40 * i] for i in range(len(folder.partners))]
    assert len(extra) == 64 + 40 * len(folder.partners) + 130
    assert signers == [p.signer[2:].lower() for p in folder.partners]
    assert genesis["config"]["chainId"] == 4243
    assert genesis["config"]["clique"]["period"] == 2
    assert int(genesis["gasLimit"], 16) == 300_000_000
    assert set(genesis["alloc"]) == {folder.deployer, *(p.address for p in folder.partners)}


def test_nodes_peer_statically_with_every_other_partner(initialised: Initialised) -> None:
    folder = initialised.folder
    for p in folder.partners:
        config = (folder.node_dir(p.name) / "config.toml").read_text()
        assert [o.name for o in folder.partners if o.enode in config] == [
            o.name for o in folder.partners if o is not p
        ]


def test_the_members_file_is_what_rxledger_deploy_takes(initialised: Initialised) -> None:
    folder = initialised.folder
    specs = _member_specs(folder.members_file)
    assert [(s.name, s.address, s.gln) for s in specs] == [
        (p.name, p.address, int(p.gln)) for p in folder.partners
    ]
    assert specs[1].roles == Role.WHOLESALER | Role.COUNCIL and specs[0].prefixes == (
        "0614141",
        "9506000",
    )


@pytest.fixture
def no_rxledger_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``RXLEDGER_`` variable of this shell reaches the settings read from env files."""
    for name in [n for n in os.environ if n.startswith("RXLEDGER_")]:
        monkeypatch.delenv(name)


@pytest.mark.usefixtures("no_rxledger_env")
def test_each_gateway_runs_on_its_own_node_with_its_own_store_and_the_operator_keystore(
    initialised: Initialised,
) -> None:
    folder = initialised.folder
    stores = set()
    for p in folder.partners:
        settings = Settings(_env_file=folder.gateway_env(p.name))  # type: ignore[call-arg]
        assert settings.environment == "staging"
        assert settings.chain_url == p.chain_url
        assert settings.operator is not None and settings.operator.address == p.address
        stores.add(settings.database_url)
        key = bytes(settings.operator.key).hex()
        assert key not in repr(settings) and key not in settings.model_dump_json()
    wholesaler = Settings(_env_file=folder.gateway_env("wholesaler"))  # type: ignore[call-arg]
    assert wholesaler.database_url == (
        f"postgresql+psycopg://wholesaler@127.0.0.1:{folder.postgres_port}/wholesaler"
    )
    assert len(stores) == 4


@pytest.mark.usefixtures("no_rxledger_env")
def test_producers_get_a_lot_key_which_only_regulators_also_hold(initialised: Initialised) -> None:
    folder = initialised.folder
    by_name = {p.name: p for p in folder.partners}
    held = {
        p.name: read_lot_keys(folder.lot_keys(p.name)) if folder.lot_keys(p.name).exists() else {}
        for p in folder.partners
    }
    maker = by_name["manufacturer"].address
    assert set(held["manufacturer"]) == set(held["regulator"]) == {maker}
    assert held["manufacturer"][maker] == held["regulator"][maker]
    assert held["wholesaler"] == held["pharmacy"] == {}
    assert folder.lot_keys("manufacturer").stat().st_mode & 0o777 == 0o600
    for name, keys in held.items():
        settings = Settings(_env_file=folder.gateway_env(name))  # type: ignore[call-arg]
        assert settings.lot_keys_file == (folder.lot_keys(name) if keys else None)


def test_nothing_secret_is_printed_or_logged(initialised: Initialised) -> None:
    folder = initialised.folder
    secrets: list[str] = []
    for path in secret_files(folder):
        if path.name == "password" or path.name == "nodekey":
            secrets.append(path.read_text())
        elif path.name == "gateway.env":
            values = dotenv_values(path)
            secrets += [str(values["RXLEDGER_CONSOLE_KEY"]), str(values["RXLEDGER_TOKEN_SECRET"])]
    for owner in ["deployer", *(p.name for p in folder.partners)]:
        secrets.append(bytes(load_keystore(*folder.keystore(owner)).key).hex())
    secrets += [k.hex() for k in read_lot_keys(folder.lot_keys("manufacturer")).values()]
    assert folder.partners[0].address in initialised.output
    leaked = [s for s in secrets if s in initialised.output or s in initialised.logs]
    assert leaked == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('gln = "4012347000007"', 'gln = "4012347000008"'),
            "partners.2.gln: GLN 4012347000008 has a wrong check digit: expected 7",
        ),
        (('roles = ["DISPENSER"]', 'roles = ["CHEMIST"]'), "unknown role 'CHEMIST'"),
        (('gln = "4012347000007"', 'gln = "0614141000012"'), "GLN 0614141000012 is given to"),
        (("threshold = 2", "threshold = 4"), "cannot reach the threshold of 4"),
        (('database = "sqlite"', 'database = "mysql"'), "partners.0.database: Input should be"),
    ],
)
def test_a_bad_configuration_is_refused_naming_the_field_and_writes_nothing(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    config = tmp_path / "network.toml"
    config.write_text(CONFIG.read_text().replace(*change, 1))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["network", "init", str(config), "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output and str(config) in result.output
    assert not out.exists()


def test_a_folder_that_holds_files_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "keep").write_text("x")
    result = CliRunner().invoke(app, ["network", "init", str(CONFIG), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "exists and is not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]
