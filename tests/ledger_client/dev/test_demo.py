"""The demo scenario plays its whole story on a fresh chain."""

from __future__ import annotations

import pytest

from ledger_client.chain import connect
from ledger_client.dev.demo import (
    PRODUCTS,
    ScenarioLog,
    register_products,
    run_scenario,
    scenario_size_error,
)
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.gs1 import PackCode, parse_code
from ledger_client.types import DecommissionReason, LotStatus


@pytest.fixture(scope="module")
def played() -> tuple[DevNetwork, ScenarioLog]:
    net = deploy_devnet(connect())
    register_products(net, "http://gateway.example")
    return net, run_scenario(net, 1, (600, 600))


def test_demo_scenario_reports_the_expected_verifications(
    played: tuple[DevNetwork, ScenarioLog],
) -> None:
    _, log = played
    statuses = [status for _, _, status in log.verifications]
    assert statuses[:3] == ["before dispensing: VERIFIED"] * 3
    assert statuses[3:] == [
        "recalled: RECALLED",
        "dispensed: DECOMMISSIONED",
        "destroyed: DECOMMISSIONED",
        "undone: VERIFIED",
        "counterfeit: UNKNOWN",
    ]
    assert any("SerialRegistryLotNotActive" in note for note in log.notes)


def test_every_code_the_demo_lists_verifies_with_the_status_it_states(
    played: tuple[DevNetwork, ScenarioLog],
) -> None:
    net, log = played
    pharmacy = net["pharmacy_a"]
    packs = [parse_code(c.code).code for c in log.codes]
    assert all(isinstance(p, PackCode) for p in packs)
    assert len({(p.gtin, p.serial) for p in packs}) == len(packs)  # one pack, one code
    for listed, pack in zip(log.codes, packs, strict=True):
        answer = pharmacy.verify(pack.gtin, pack.serial, pack.lot, pack.expiry_yymmdd)
        assert answer.status.name == listed.status, listed
    assert [c.status for c in log.codes] == ["VERIFIED"] * 6 + ["DECOMMISSIONED", "RECALLED"]


def test_saleable_codes_are_held_by_pharmacy_a_and_the_dispensed_one_was_dispensed_there(
    played: tuple[DevNetwork, ScenarioLog],
) -> None:
    net, log = played
    pharmacy = net["pharmacy_a"]
    for listed in log.codes:
        pack = parse_code(listed.code).code
        assert isinstance(pack, PackCode)
        state = pharmacy.pack_state(pack.gtin, pack.serial)
        if listed.status == "VERIFIED":
            assert state.custodian == pharmacy.address
        elif listed.status == "DECOMMISSIONED":
            assert (state.reason, state.custodian) == (
                DecommissionReason.DISPENSED,
                pharmacy.address,
            )
        else:
            assert pharmacy.lot_state(pack.gtin, str(pack.lot)).status == LotStatus.RECALLED
    assert all(
        net["manufacturer"].product(gtin)["name"] == name for gtin, (name, *_) in PRODUCTS.items()
    )


def test_a_scenario_too_small_for_two_pallets_is_refused_before_anything_is_sent() -> None:
    assert scenario_size_error((1600, 800)) is None
    problem = scenario_size_error((240, 240))
    assert problem is not None and "needs 24" in problem and "--packs 600 600" in problem
    assert scenario_size_error((600, 600)) is None
