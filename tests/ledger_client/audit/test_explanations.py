"""Findings a person can use: members by name, local dates and times (UTC said where the
member's time zone is unknown), the threshold crossed, and the evidence, scans included."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ledger_client.audit import RegistryModel
from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import DAY, AnomalyConfig, Finding
from ledger_client.audit.learned import quiet_hour_activity, volume_changes
from ledger_client.audit.scans import VerificationRecord
from ledger_client.errors import InvalidInputError
from ledger_client.ids import lot_id, pack_id
from tests.utils.audit_scenario import GTIN_A, GTIN_B, Scenario, scenario_catalogue
from tests.utils.crafted_events import A_INDEX, GTIN_L, A, B, regular_history

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
NEW_YORK, PARIS = ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris")
ZONES = {"pharmacy_b": "America/New_York", "pharmacy_a": "Europe/Paris"}


@pytest.fixture(scope="module")
def catalogue(scenario: Scenario) -> Catalogue:
    return scenario_catalogue(scenario, time_zones=ZONES)


@pytest.fixture(scope="module")
def findings(scenario: Scenario, model: RegistryModel, catalogue: Catalogue) -> list[Finding]:
    now = model.events[-1].timestamp
    pa, pb = scenario.addr("pharmacy_a"), scenario.addr("pharmacy_b")
    case5 = scenario.case_serials[list(scenario.case_serials)[5]]
    scans = [
        VerificationRecord(GTIN_A, scenario.dispensed[4], pb, now + 3600),  # a clone
        VerificationRecord(GTIN_B, scenario.loose_serials[10], pb, now + 10),
        VerificationRecord(GTIN_B, scenario.loose_serials[10], pa, now + 7200),  # two places
        VerificationRecord(GTIN_A, case5[0], pa, now, lot="ZZ"),
        VerificationRecord(GTIN_A, case5[1], pa, now, lot="A1", expiry=301230),
    ]
    return detect(model, catalogue, scans, now=now + 15 * DAY)


def _local(ts: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, zone).isoformat()


def test_every_finding_names_members_states_its_threshold_and_shows_evidence(
    findings: list[Finding],
) -> None:
    kinds = {f.kind for f in findings}
    assert {
        "DECOMMISSIONED_REUSED",
        "DECOMMISSIONED_VERIFIED",
        "VERIFIED_TWO_PLACES",
        "SHIPMENT_NOT_RECEIVED",
        "PRODUCT_MISMATCH",
        "EXPIRED_MOVING",
    } <= kinds
    for f in findings:
        assert not ADDRESS.search(f.seen) and not ADDRESS.search(f.why), f
        assert f.threshold and not ADDRESS.search(f.threshold), f
        assert f.evidence, f
        for entry in f.evidence:
            assert entry["type"] in ("transaction", "scan")
            assert entry["local_time"] and entry["time_zone"], entry
            named = entry["by_name"] if entry["type"] == "transaction" else entry["location_name"]
            assert named and not ADDRESS.search(named), entry


def test_a_scan_based_finding_shows_where_and_when_in_the_member_s_own_time(
    scenario: Scenario, model: RegistryModel, findings: list[Finding]
) -> None:
    now = model.events[-1].timestamp
    clone = next(f for f in findings if f.kind == "DECOMMISSIONED_VERIFIED")
    decommission, scan = clone.evidence
    assert (decommission["type"], decommission["event"]) == ("transaction", "PacksDecommissioned")
    assert decommission["by_name"] == "pharmacy_a" and decommission["time_zone"] == "Europe/Paris"
    assert decommission["local_time"] == _local(decommission["time"], PARIS)
    assert scan == {
        "type": "scan",
        "gtin": GTIN_A,
        "serial": scenario.dispensed[4],
        "lot": None,
        "expiry": None,
        "location": scenario.addr("pharmacy_b"),
        "location_name": "pharmacy_b",
        "time": now + 3600,
        "local_time": _local(now + 3600, NEW_YORK),
        "time_zone": "America/New_York",
    }
    when = datetime.fromtimestamp(now + 3600, NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")
    assert f"scanned at pharmacy_b on {when}" in clone.seen
    two = next(f for f in findings if f.kind == "VERIFIED_TWO_PLACES")
    assert [e["location_name"] for e in two.evidence if e["type"] == "scan"] == [
        "pharmacy_b",
        "pharmacy_a",
    ]
    assert "2.0 h apart (within 48 h)" in two.seen and "custody" in two.threshold


def test_a_member_without_a_time_zone_is_shown_in_utc_and_says_so(
    scenario: Scenario, findings: list[Finding]
) -> None:
    expired = [f for f in findings if f.kind == "EXPIRED_MOVING"]
    shipped = next(e for f in expired for e in f.evidence if e["event"] == "ItemsShipped")
    assert shipped["by_name"] == "manufacturer" and shipped["to_name"] == "wholesaler_b"
    assert shipped["time_zone"] == "UTC" and shipped["local_time"].endswith("+00:00")
    assert any(" UTC" in f.seen for f in expired)
    assert all("expiry" in f.threshold for f in expired)


def test_thresholds_are_stated_in_the_units_of_the_rule(findings: list[Finding]) -> None:
    by_kind = {f.kind: f for f in findings}
    assert "14 days" in by_kind["SHIPMENT_NOT_RECEIVED"].threshold
    assert "day 00" in next(
        f.threshold for f in findings if f.kind == "PRODUCT_MISMATCH" and "expiry" in f.seen
    )
    assert "wholesaler_b" in by_kind["DECOMMISSIONED_REUSED"].seen
    assert "pharmacy_a" in by_kind["DECOMMISSIONED_REUSED"].seen


def test_learned_findings_give_local_dates_hours_and_absolute_thresholds() -> None:
    """A maker in Tokyo: its spike day is a Tokyo date, its unusual hour a Tokyo hour."""
    base = 1_700_000_000 - 1_700_000_000 % DAY + 30 * DAY
    burst = base + 20 * DAY + 11 * 3600  # 20:00 in Tokyo, where A works 18:00-22:30
    lot = lot_id(GTIN_L, "L", owner=A_INDEX)

    def commission(ts: int, serial: str) -> tuple[str, int, dict[str, object]]:
        packs = [pack_id(GTIN_L, serial, owner=A_INDEX)]
        return (
            "PacksCommissioned",
            ts,
            {"lotId": lot, "by": A, "unitId": bytes(32), "packIds": packs},
        )

    def shipped(ts: int, serial: str) -> list[tuple[str, int, dict[str, object]]]:
        made = commission(ts, serial)
        move = {"packIds": made[2]["packIds"], "unitIds": []}
        return [made, ("ItemsShipped", ts + 60, {"from": A, "to": B, **move})]

    noon = base + 3 * 3600  # 03:00 UTC, 12:00 in Tokyo
    burst_events = [e for i in range(200) for e in shipped(burst + i, f"T{i}")]  # 5x the 40
    m = regular_history([commission(noon, "N"), *burst_events])
    hours = {"business_hours": "17:00-23:00"}
    names = Catalogue(members={A: {"name": "maker_t", "time_zone": "Asia/Tokyo", **hours}})
    (spike,) = volume_changes(m, AnomalyConfig(), names.describer(m))
    tokyo = datetime.fromtimestamp(burst, ZoneInfo("Asia/Tokyo")).date().isoformat()
    assert spike.seen.startswith(f"maker_t recorded 200 shipments on {tokyo} (Asia/Tokyo)")
    assert re.search(r"more than \d+(\.\d)? shipments: .* robust deviations", spike.threshold)
    assert len(spike.evidence) == 20 and spike.inputs["count"] == 200
    (quiet,) = quiet_hour_activity(m, AnomalyConfig(), names.describer(m))
    assert quiet.inputs["hour"] == 12 and quiet.evidence[0]["time"] == noon
    assert "maker_t transacted at" in quiet.seen and "12:00 JST" in quiet.seen


def test_a_member_known_only_from_the_chain_is_named_by_its_member_record() -> None:
    m = regular_history()
    described = Catalogue().describer(m)
    assert described.name(A) == "member 1 (GLN 0000000000001)"
    assert described.name("somewhere else") == "somewhere else"


def test_a_catalogue_with_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="Mars/Olympus"):
        Catalogue(members={A: {"name": "x", "time_zone": "Mars/Olympus"}}).describer(
            regular_history()
        )
