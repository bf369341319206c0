"""The demo scenario plays its whole story on a fresh chain."""

from __future__ import annotations

import pytest

from ledger_client.chain import connect
from ledger_client.demo import PRODUCTS, register_products, run_scenario
from ledger_client.devnet import deploy_devnet
from ledger_client.gs1 import PackCode, parse_code
from ledger_client.types import DecommissionReason, LotStatus, PackStatus


@pytest.fixture(scope="module")
def played():  # type: ignore[no-untyped-def]
    net = deploy_devnet(connect())
    register_products(net, "http://gateway.example")
    return net, run_scenario(net, 1, (600, 600))


def test_demo_scenario_reports_the_expected_verifications(played) -> None:  # type: ignore[no-untyped-def]
    _, log = played
    statuses = [status for _, _, status in log.verifications]
    assert statuses[:3] == ["VERIFIED"] * 3
    assert statuses[3:] == [
        "recalled: RECALLED",
        "dispensed: DECOMMISSIONED",
        "destroyed: DECOMMISSIONED",
        "undone: VERIFIED",
        "counterfeit: UNKNOWN",
    ]
    assert any("SerialRegistryLotNotActive" in note for note in log.notes)


def test_demo_scenario_leaves_the_chain_in_the_stated_state(played) -> None:  # type: ignore[no-untyped-def]
    net, log = played
    pharmacy = net["pharmacy_a"]
    dispensed = parse_code(log.codes["dispensed"][0]).code
    assert isinstance(dispensed, PackCode)
    state = pharmacy.pack_state(dispensed.gtin, dispensed.serial)
    assert (state.status, state.reason, state.custodian) == (
        PackStatus.DECOMMISSIONED,
        DecommissionReason.DISPENSED,
        pharmacy.address,
    )
    recalled = parse_code(log.codes["recalled"][0]).code
    assert isinstance(recalled, PackCode)
    assert pharmacy.lot_state(recalled.gtin, str(recalled.lot)).status == LotStatus.RECALLED
    for code in log.codes["saleable_digital_link"]:
        pack = parse_code(code).code
        assert isinstance(pack, PackCode)
        assert (
            pharmacy.verify(pack.gtin, pack.serial, pack.lot, pack.expiry_yymmdd).status.name
            == "VERIFIED"
        )
    assert all(
        net["manufacturer"].product(gtin)["name"] == name for gtin, (name, *_) in PRODUCTS.items()
    )
