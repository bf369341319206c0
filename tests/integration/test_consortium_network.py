"""`make network`'s consortium: four partners, each its own geth signer, gateway and store (the
wholesaler's on PostgreSQL); a case captured at the manufacturer's gateway, received through
the wholesaler's and verified at the pharmacy's, each on another node."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_client.contracts import Deployment
from ledger_client.dev.clique import geth_binary
from ledger_client.dev.consortium import Consortium
from ledger_client.dev.netconfig import load_config
from ledger_client.dev.netfolder import init_network
from ledger_client.dev.netscenario import play_shipment
from ledger_client.dev.postgres import postgres_bindir
from ledger_client.errors import ConfigurationError
from ledger_client.keystore import LIGHT_SCRYPT_N, load_keystore
from ledger_client.ledger import Ledger

pytestmark = pytest.mark.network

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "network" / "consortium.toml"


def test_a_case_moves_through_three_partners_gateways_on_three_nodes(tmp_path: Path) -> None:
    geth_binary()  # fails naming `make geth` when geth is not built
    try:
        postgres_bindir()
    except ConfigurationError as exc:
        pytest.skip(str(exc))
    folder = init_network(load_config(CONFIG), tmp_path / "network", scrypt_n=LIGHT_SCRYPT_N)
    with Consortium(folder) as consortium:
        shipment = play_shipment(consortium)
        regulator = Ledger(consortium.network.w3(3), Deployment.load(folder.deployment_file))
        holder = regulator.pack_state(shipment.gtin, shipment.serials[0]).custodian
    assert [(who, result.split()[0]) for who, _, result in shipment.steps] == [
        ("manufacturer", "block"),
        ("pharmacy", "IN_TRANSIT"),
        ("wholesaler", "block"),
        ("pharmacy", "VERIFIED"),
    ]
    assert holder == folder.partner("wholesaler").address
    nodes = {consortium.gateways[p].env["RXLEDGER_CHAIN_URL"] for p in ("manufacturer",
             "wholesaler", "pharmacy")}  # fmt: skip
    assert len(nodes) == 3
    assert consortium.gateways["wholesaler"].env["RXLEDGER_DATABASE_URL"].startswith("postgresql")
    logs = "".join(g.log_file.read_text() for g in consortium.gateways.values())
    for p in folder.partners:
        keystore, password = folder.keystore(p.name)
        assert bytes(load_keystore(keystore, password).key).hex() not in logs
        assert password.read_text() not in logs
