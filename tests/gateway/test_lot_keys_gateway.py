"""A gateway given its operator's lot key (``RXLEDGER_LOT_KEYS_FILE``): the manufacturer's
gateway answers its keyed lot's history by number; a pharmacy's gateway, without the key,
finds no such lot by number, and still verifies the printed pack with its lot. A key file
others can read is refused outside local use. Real chain (eth-tester), real server, SQLite."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_helpers import CONSOLE, Gateway, World, dm, operator_key, running_gateway
from pydantic import ValidationError

from gateway.core.config import Settings
from gateway.services.chain import serialise_provider
from ledger_client.chain import connect
from ledger_client.devnet import deploy_devnet
from ledger_client.ledger import Ledger
from ledger_client.lot_keys import write_lot_keys

GTIN = "09506000134352"
KEY = bytes.fromhex("5a" * 32)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Path]:
    """The manufacturer's lot K7, keyed, of three packs; its lot key file."""
    w3 = serialise_provider(connect("eth-tester"))
    net = deploy_devnet(w3)
    m = net["manufacturer"]
    maker = Ledger(w3, net.deployment, m.account, lot_key=KEY)
    maker.register_lot(GTIN, "K7", "301231")
    maker.commission(GTIN, "K7", ["KA1", "KA2", "KA3"])
    root = tmp_path_factory.mktemp("chain")
    net.deployment.save(root / "deployment.json")
    keys = root / "lot.keys"
    write_lot_keys(keys, {m.address: KEY})
    return World(w3, net, root / "deployment.json"), keys


@pytest.fixture(scope="module")
def makers(
    world: tuple[World, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    w, keys = world
    db = tmp_path_factory.mktemp("db") / "maker.db"
    key = operator_key("manufacturer")
    with running_gateway(w, db, operator_key=key, lot_keys_file=keys) as gw:
        yield gw


@pytest.fixture(scope="module")
def pharmacys(
    world: tuple[World, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(world[0], tmp_path_factory.mktemp("db") / "pharmacy.db") as gw:
        yield gw


def test_the_owner_s_gateway_answers_its_keyed_lot_by_number(makers: Gateway) -> None:
    body = makers.client.get(f"/v1/history/lot/{GTIN}/K7", headers=CONSOLE).json()
    assert (body["status"], body["pack_count"]) == ("ACTIVE", 3)


def test_a_gateway_without_the_key_finds_no_such_lot_and_still_verifies(pharmacys: Gateway) -> None:
    body = pharmacys.client.get(f"/v1/history/lot/{GTIN}/K7", headers=CONSOLE).json()
    assert (body["status"], body["pack_count"]) == (None, 0)
    codes = [dm("KA1", "K7"), dm("KA1", "K8")]
    r = pharmacys.client.post("/v1/verify", json={"codes": codes}, headers=CONSOLE)
    assert [v["status"] for v in r.json()["results"]] == ["VERIFIED", "LOT_MISMATCH"], r.text


def test_a_lot_key_file_others_can_read_is_refused_outside_local_use(
    world: tuple[World, Path], tmp_path: Path
) -> None:
    keys = tmp_path / "lot.keys"
    keys.write_text(world[1].read_text())
    keys.chmod(0o644)
    with pytest.raises(ValidationError, match="RXLEDGER_LOT_KEYS_FILE .* is readable by others"):
        Settings(
            environment="staging",
            lot_keys_file=keys,
            token_secret=secrets.token_urlsafe(32),
            console_key=secrets.token_urlsafe(32),
        )
