"""Regulators' reports written to files and read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from ledger_client.audit import RegistryModel
from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.reports import (
    ReportError,
    fmd_alert,
    form_3911,
    transaction_history,
    write_report,
)
from ledger_client.audit.scans import VerificationRecord
from tests.utils.audit_scenario import (
    GTIN_A,
    GTIN_B,
    GTIN_FOREIGN,
    Scenario,
    lid,
    scenario_catalogue,
)


@pytest.fixture(scope="module")
def catalogue(scenario: Scenario) -> Catalogue:
    return scenario_catalogue(scenario)


def test_form_3911_json_and_html_carry_product_and_evidence(
    scenario: Scenario, model: RegistryModel, catalogue: Catalogue, tmp_path: Path
) -> None:
    serial = scenario.flagged[0]
    report = form_3911(
        model,
        catalogue,
        [(GTIN_A, serial)],
        "COUNTERFEIT",
        "Pack failed visual inspection",
        reporter=scenario.addr("regulator"),
    )
    j = json.loads(write_report(report, tmp_path / "r.json").read_text())
    assert j["report_type"] == "INITIAL" and j["classification"] == "COUNTERFEIT"
    product = j["products"][0]
    assert (product["gtin"], product["serial"], product["lot"], product["expiry"]) == (
        GTIN_A,
        serial,
        "A1",
        "301231",
    )
    assert product["ndc"] == "0614-1410-01" and product["name"] == "Amoxicillin 500 mg caps"
    assert [e["event"] for e in product["evidence"]] == ["PacksCommissioned", "PacksFlagged"]
    assert product["evidence"][1]["by"]["name"] == "regulator" and product["evidence"][0][
        "tx"
    ].startswith("0x")
    assert j["reporter"] == {
        "account": scenario.addr("regulator"),
        "name": "regulator",
        "gln": "4012349000012",
    }
    page = lxml_html.fromstring(write_report(report, tmp_path / "r.html").read_text())
    text = page.text_content()
    assert (
        "Form 3911" in text and serial in text and "0614-1410-01" in text and "COUNTERFEIT" in text
    )
    assert product["evidence"][1]["tx"] in text


def test_form_3911_gives_a_pack_of_a_recalled_lot_the_status_recalled(
    model: RegistryModel, catalogue: Catalogue, tmp_path: Path
) -> None:
    report = form_3911(model, catalogue, [(GTIN_A, "R03")], "DIVERTED", "found at a market")
    product = report["products"][0]
    assert (product["status"], product["pack_status"], product["lot_status"]) == (
        "RECALLED",
        "ACTIVE",
        "RECALLED",
    )
    page = lxml_html.fromstring(write_report(report, tmp_path / "r.html").read_text())
    assert [td.text_content() for td in page.xpath('//tr[th="status"]/td')] == ["RECALLED"]


def test_form_3911_html_shows_a_dash_not_none_for_what_the_record_lacks(
    scenario: Scenario, model: RegistryModel, tmp_path: Path
) -> None:
    bare = Catalogue()  # no clear lots: the lot is not known; no step anchored an event hash
    report = form_3911(model, bare, [(GTIN_A, scenario.flagged[0])], "STOLEN", "x")
    assert report["products"][0]["lot"] is None
    assert report["products"][0]["evidence"][0]["event_hash"] is None
    text = lxml_html.fromstring(write_report(report, tmp_path / "r.html").read_text())
    assert "None" not in text.text_content() and "\u2014" in text.text_content()


def test_reports_write_glns_as_13_digit_strings(
    model: RegistryModel, catalogue: Catalogue, tmp_path: Path
) -> None:
    report = transaction_history(model, catalogue, lid=lid(GTIN_B, "B1"))
    j = json.loads(write_report(report, tmp_path / "h.json").read_text())
    sellers = [t["seller"]["gln"] for t in j["transactions"]]
    assert sellers == ["0614141000012", "4012345000016"]
    assert j["subject"]["owner"]["gln"] == "0614141000012"


def test_form_3911_refuses_unknown_classification_and_unknown_pack(
    model: RegistryModel, catalogue: Catalogue
) -> None:
    with pytest.raises(ReportError, match="classification must be one of"):
        form_3911(model, catalogue, [(GTIN_A, "C0S000")], "FAKE", "x")
    with pytest.raises(ReportError, match="not in the on-chain history"):
        form_3911(model, catalogue, [(GTIN_A, "NOPE")], "STOLEN", "x")


def test_transaction_history_of_a_lot_lists_each_change_of_ownership(
    scenario: Scenario, model: RegistryModel, catalogue: Catalogue, tmp_path: Path
) -> None:
    report = transaction_history(model, catalogue, lid=lid(GTIN_B, "B1"))
    j = json.loads(write_report(report, tmp_path / "h.json").read_text())
    got = [
        (t["seller"]["name"], t["buyer"]["name"], t["lines"][0]["quantity"])
        for t in j["transactions"]
    ]
    assert got == [("manufacturer", "wholesaler_a", 50), ("wholesaler_a", "pharmacy_b", 20)]
    assert j["subject"]["lot"] == "B1" and j["subject"]["ndc"] == "0614-1410-02"
    assert j["transactions"][0]["received"]["by"] == scenario.addr("wholesaler_a")
    assert j["transactions"][1]["received"]["by"] == scenario.addr("pharmacy_b")
    text = lxml_html.fromstring(
        write_report(report, tmp_path / "h.html").read_text()
    ).text_content()
    assert "transaction history" in text and "pharmacy_b" in text


def test_transaction_history_of_a_shipment_counts_packs_moved_inside_units(
    scenario: Scenario, model: RegistryModel, catalogue: Catalogue
) -> None:
    report = transaction_history(model, catalogue, tx=scenario.tx["ship_pa"])
    assert [(line["lot"], line["quantity"]) for line in report["transactions"][0]["lines"]] == [
        ("A1", 10)
    ]
    pallet_ship = next(e for e in model.events if e.name == "ItemsShipped" and e.args["unitIds"])
    report = transaction_history(model, catalogue, tx=pallet_ship.tx_hash)
    assert sorted((x["lot"], x["quantity"]) for x in report["transactions"][0]["lines"]) == [
        ("A1", 160),
        ("B1", 50),
    ]


def test_fmd_alert_names_the_reason_location_and_custody(
    scenario: Scenario, model: RegistryModel, catalogue: Catalogue, tmp_path: Path
) -> None:
    serial = scenario.dispensed[5]
    report = fmd_alert(
        model,
        catalogue,
        GTIN_A,
        serial,
        "ALREADY_DECOMMISSIONED",
        scenario.addr("pharmacy_b"),
        scanned={"gtin": GTIN_A, "serial": serial, "lot": "A1", "expiry": "301231"},
        at=1_800_000_000,
    )
    j = json.loads(write_report(report, tmp_path / "a.json").read_text())
    assert j["alert_reason"] == "ALREADY_DECOMMISSIONED" and j["location"]["name"] == "pharmacy_b"
    assert j["pack"]["status"] == "DECOMMISSIONED" and j["custody"][-1]["reason"] == "DISPENSED"
    assert j["raised_at"] == "2027-01-15T08:00:00Z"
    assert "already decommissioned" in write_report(report, tmp_path / "a.html").read_text()
    with pytest.raises(ReportError, match=r"must end in .json or .html"):
        write_report(report, tmp_path / "a.pdf")


def test_form_3911_of_a_clone_carries_the_finding_and_where_and_when_it_was_scanned(
    scenario: Scenario, model: RegistryModel, tmp_path: Path
) -> None:
    catalogue = scenario_catalogue(scenario, time_zones={"pharmacy_b": "America/New_York"})
    serial, pb = scenario.dispensed[4], scenario.addr("pharmacy_b")
    at = model.events[-1].timestamp + 3600
    findings = detect(model, catalogue, [VerificationRecord(GTIN_A, serial, pb, at)], now=at)
    report = form_3911(
        model, catalogue, [(GTIN_A, serial)], "COUNTERFEIT", "a clone", findings=findings
    )
    product = report["products"][0]
    (finding,) = product["findings"]
    assert finding["kind"] == "DECOMMISSIONED_VERIFIED" and finding["severity"] == "CRITICAL"
    assert "pharmacy_b" in finding["seen"] and finding["threshold"]
    local = datetime.fromtimestamp(at, ZoneInfo("America/New_York"))
    assert product["scans"] == [
        {
            "time": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
            "local_time": local.isoformat(),
            "time_zone": "America/New_York",
            "location": {"account": pb, "name": "pharmacy_b", "gln": "4012348000013"},
            "lot": None,
            "expiry": None,
            "finding": "DECOMMISSIONED_VERIFIED",
        }
    ]
    assert product["evidence"][-1]["local_time"]  # the custody steps carry local times too
    text = lxml_html.fromstring(write_report(report, tmp_path / "c.html").read_text())
    content = text.text_content()
    assert "DECOMMISSIONED_VERIFIED" in content and local.isoformat() in content


def test_dscsa_history_of_a_lot_under_nobody_s_prefix_says_so_beside_the_statement(
    model: RegistryModel, catalogue: Catalogue, tmp_path: Path
) -> None:
    report = transaction_history(model, catalogue, lid=lid(GTIN_FOREIGN, "F1"))
    assert report["transaction_statement"].startswith("Each seller recorded on the ledger")
    (exception,) = report["statement_exceptions"]
    assert GTIN_FOREIGN in exception and "no member" in exception and "manufacturer" in exception
    text = lxml_html.fromstring(write_report(report, tmp_path / "h.html").read_text())
    assert exception in text.text_content()
    genuine = transaction_history(model, catalogue, lid=lid(GTIN_B, "B1"))
    assert genuine["statement_exceptions"] == []
