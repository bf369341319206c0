"""Custody chains and lot traces of the scenario, exact."""

from __future__ import annotations

import pytest

from ledger_client.audit import RegistryModel, custody_chain, lot_trace
from tests.utils.audit_scenario import GTIN_A, GTIN_B, Scenario, lid, pid


def test_custody_chain_of_a_dispensed_pack_lists_every_holder_in_order(
    scenario: Scenario, model: RegistryModel
) -> None:
    serial = scenario.dispensed[3]
    chain = custody_chain(model, pid(GTIN_A, serial))
    a = scenario.addr
    got = [(p["state"], p["holder"]) for p in chain["periods"]]
    assert got == [
        ("HELD", a("manufacturer")),
        ("IN_TRANSIT", a("manufacturer")),
        ("HELD", a("wholesaler_a")),
        ("IN_TRANSIT", a("wholesaler_a")),
        ("HELD", a("pharmacy_a")),
        ("DECOMMISSIONED", a("pharmacy_a")),
    ]
    assert chain["status"] == "DECOMMISSIONED" and chain["periods"][-1]["reason"] == "DISPENSED"
    assert chain["periods"][3]["to"] == a("pharmacy_a")
    assert chain["periods"][3]["tx"] == "0x" + scenario.tx["ship_pa"].hex()
    assert chain["periods"][4]["tx"] == "0x" + scenario.tx["recv_pa"].hex()
    times = [p["since"] for p in chain["periods"]]
    assert times == sorted(times)
    assert all(
        p["until"] == q["since"]
        for p, q in zip(chain["periods"], chain["periods"][1:], strict=False)
    )
    assert chain["periods"][-1]["until"] is None
    # the pallet shipment reached the pack through case -> pallet
    assert chain["steps"][1]["event"] == "ItemsShipped" and "via_units" in chain["steps"][1]
    assert chain["steps"][0]["into_unit"].startswith("0x")
    assert [s["event"] for s in chain["steps"]] == [
        "PacksCommissioned",
        "ItemsShipped",
        "ItemsReceived",
        "ItemsUnpacked",
        "ItemsShipped",
        "ItemsReceived",
        "PacksDecommissioned",
    ]


def test_custody_chain_of_an_undone_pack_ends_held_again(
    scenario: Scenario, model: RegistryModel
) -> None:
    chain = custody_chain(model, pid(GTIN_A, scenario.undone[1]))
    assert [p["state"] for p in chain["periods"]][-2:] == ["DECOMMISSIONED", "HELD"]
    assert chain["status"] == "ACTIVE" and chain["holder"] == scenario.addr("pharmacy_a")
    moved_on = custody_chain(model, pid(GTIN_A, scenario.undone[0]))
    assert [p["state"] for p in moved_on["periods"]][-4:] == [
        "DECOMMISSIONED",
        "HELD",
        "IN_TRANSIT",
        "HELD",
    ]
    assert moved_on["holder"] == scenario.addr("wholesaler_b")


def test_custody_chain_follows_a_case_shipped_out_of_a_dissolved_pallet(
    scenario: Scenario, model: RegistryModel
) -> None:
    case0 = list(scenario.case_serials)[0]
    chain = custody_chain(model, pid(GTIN_A, scenario.case_serials[case0][0]))
    holders = [p["holder"] for p in chain["periods"] if p["state"] == "HELD"]
    assert holders == [scenario.addr(n) for n in ("manufacturer", "wholesaler_a", "wholesaler_b")]


def test_lot_trace_lists_every_current_holder_with_counts(
    scenario: Scenario, model: RegistryModel
) -> None:
    trace = lot_trace(model, lid(GTIN_B, "B1"))
    a = scenario.addr
    by = {h["member"]: (h["held"], h["in_transit_to"]) for h in trace["holders"]}
    assert by == {a("wholesaler_a"): (30, 0), a("pharmacy_b"): (10, 5)}
    assert trace["decommissioned"] == {"DISPENSED": 5}
    assert trace["outstanding"] == 45 and trace["packs"] == 50

    trace_a = lot_trace(model, lid(GTIN_A, "A1"))
    by_a = {h["member"]: h["held"] for h in trace_a["holders"]}
    assert by_a == {
        a("manufacturer"): 80,
        a("wholesaler_a"): 120 - 10 - 3 + 1,
        a("wholesaler_b"): 41,
        a("pharmacy_a"): 4,
    }
    assert trace_a["decommissioned"] == {"DESTROYED": 3, "DISPENSED": 4}


def test_unknown_pack_or_lot_raises_key_error(model: RegistryModel) -> None:
    with pytest.raises(KeyError, match="not in the replayed history"):
        custody_chain(model, b"\x01" * 32)
    with pytest.raises(KeyError, match="not in the replayed history"):
        lot_trace(model, b"\x01" * 32)
