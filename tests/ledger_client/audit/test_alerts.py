"""Expiry, recall reach and shortage signals computed on the scenario."""

from __future__ import annotations

import pytest

from ledger_client.audit import RegistryModel
from ledger_client.audit.alerts import (
    DAY,
    dispense_rate,
    expiring,
    recall_reach,
    regional_supply,
    shortage,
    stock_on_hand,
)
from ledger_client.audit.catalogue import Catalogue
from tests.utils.audit_scenario import GTIN_A, GTIN_B, Scenario, lid, scenario_catalogue

REGIONS = {
    "manufacturer": "north",
    "wholesaler_a": "south",
    "wholesaler_b": "north",
    "pharmacy_a": "north",
    "pharmacy_b": "south",
}


@pytest.fixture(scope="module")
def catalogue(scenario: Scenario) -> Catalogue:
    return scenario_catalogue(scenario, REGIONS)


@pytest.fixture(scope="module")
def now(scenario: Scenario) -> int:
    return int(scenario.w3.eth.get_block("latest")["timestamp"])


def test_expiry_lists_held_packs_expiring_within_the_window_per_member(
    scenario: Scenario, model: RegistryModel
) -> None:
    expires_at = model.lots[lid(GTIN_B, "B1")].expires_at
    rows = expiring(model, expires_at - 10 * DAY, days=30, member=scenario.addr("pharmacy_b"))
    assert [(r["packs"], r["lot"], r["expired"]) for r in rows] == [
        (10, "0x" + lid(GTIN_B, "B1").hex(), False)
    ]
    assert rows[0]["days_left"] == 10.0
    expired_only = expiring(model, expires_at - 10 * DAY, days=5)  # the lot E1 expired in 2020
    assert [(r["member"], r["packs"], r["expired"]) for r in expired_only] == [
        (scenario.addr("wholesaler_b"), 2, True)
    ]
    everyone = expiring(model, expires_at - 10 * DAY, days=30)
    assert (
        sum(r["packs"] for r in everyone) == 311 - 7 - 5 - 5 - 2
    )  # decommissioned, in transit and lost excluded
    assert all(r["expired"] for r in expiring(model, expires_at + 1, days=0))


def test_recall_reach_counts_outstanding_packs_of_the_recalled_lot(
    scenario: Scenario, model: RegistryModel
) -> None:
    reach = recall_reach(model, lid(GTIN_A, "A2"))
    assert reach["status"] == "RECALLED"
    assert [(h["member"], h["held"]) for h in reach["holders"]] == [
        (scenario.addr("manufacturer"), 10)
    ]


def test_stock_excludes_flagged_recalled_and_in_transit_packs(
    scenario: Scenario, model: RegistryModel, catalogue: Catalogue, now: int
) -> None:
    stock = stock_on_hand(model, catalogue, now)
    a = scenario.addr
    assert stock[(a("manufacturer"), GTIN_A)] == 80 - 2
    assert stock[(a("wholesaler_a"), GTIN_A)] == 108
    assert stock[(a("pharmacy_a"), GTIN_A)] == 4
    assert stock[(a("pharmacy_b"), GTIN_B)] == 10
    assert dispense_rate(model, catalogue, now, 10) == {
        (a("pharmacy_a"), GTIN_A): 0.4,
        (a("pharmacy_b"), GTIN_B): 0.5,
    }


def test_shortage_alert_below_threshold_lists_alternatives_wholesalers_first(
    scenario: Scenario, model: RegistryModel, catalogue: Catalogue, now: int
) -> None:
    a = scenario.addr
    signals = shortage(model, catalogue, now, window_days=10, threshold_days=16)
    assert [(s.member, s.gtin, s.stock, s.inbound, s.days_of_supply) for s in signals] == [
        (a("pharmacy_a"), GTIN_A, 4, 0, 10.0)
    ]
    alt = signals[0].alternatives
    # by kind (wholesaler, manufacturer, other dispenser), then same region, then most stock
    assert [(x["name"], x["kind"], x["region"], x["stock"]) for x in alt] == [
        ("wholesaler_b", "wholesaler", "north", 41),
        ("wholesaler_a", "wholesaler", "south", 108),
        ("manufacturer", "manufacturer", "north", 78),
    ]
    assert signals[0].region == "north" and signals[0].name == "pharmacy_a"
    everything = shortage(
        model, catalogue, now, window_days=10, threshold_days=16, alerts_only=False
    )
    assert {(s.member, s.alert) for s in everything} == {
        (a("pharmacy_a"), True),
        (a("pharmacy_b"), False),
    }
    regions = {(r["region"], r["gtin"]): r for r in regional_supply(model, catalogue, now, 10)}
    assert regions[("south", GTIN_B)]["days_of_supply"] == round((30 + 10) / 0.5, 2)


def test_shortage_counts_the_stock_already_in_transit_to_the_member(
    scenario: Scenario, model: RegistryModel, catalogue: Catalogue, now: int
) -> None:
    """Pharmacy B holds 10 packs of GTIN B and 5 more are on their way to it: at 0.5 a day
    that is 30 days of supply, not 20, so a 25-day threshold raises no alert."""
    rows = shortage(model, catalogue, now, window_days=10, threshold_days=25, alerts_only=False)
    pb = next(s for s in rows if s.member == scenario.addr("pharmacy_b"))
    assert (pb.gtin, pb.stock, pb.inbound, pb.days_of_supply, pb.alert) == (
        GTIN_B,
        10,
        5,
        30.0,
        False,
    )
    assert [s.member for s in shortage(model, catalogue, now, 10, 25)] == [
        scenario.addr("pharmacy_a")
    ]
