"""The auditor's commands, offline from an exported log file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from lxml import html as lxml_html
from typer import Typer
from typer.main import get_command
from typer.testing import CliRunner

from ledger_client.audit import RegistryModel, export_logs
from ledger_client.audit.findings import DAY
from ledger_client.cli.audit import audit_app, report_app
from tests.utils.audit_scenario import GTIN_A, GTIN_B, Scenario, lid, scenario_catalogue
from tests.utils.epcis_locations import store_with_location

NO_NODE = "http://127.0.0.1:9"
runner = CliRunner()


@pytest.fixture(scope="module")
def files(
    scenario: Scenario, logs: list, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    log_file = d / "logs.jsonl"
    export_logs(logs, scenario.net.deployment, log_file)
    catalogue = d / "catalogue.json"
    scenario_catalogue(scenario).save(catalogue)
    return log_file, catalogue


def offline(app: Typer, files: tuple[Path, Path], *args: str) -> Result:
    """Run ``app`` with ``args`` on the exported log file, with no node to fall back on."""
    return runner.invoke(app, [*args, "--log-file", str(files[0]), "--rpc", NO_NODE])


def test_audit_replay_json_offline_prints_one_object(files: tuple[Path, Path]) -> None:
    result = offline(audit_app, files, "replay", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["packs"] == 311 and summary["divergences"] == 0
    assert summary["events"] > 40 and summary["events_per_second"] > 0


def test_audit_lot_trace_and_custody_print_json(
    scenario: Scenario, files: tuple[Path, Path]
) -> None:
    result = offline(audit_app, files, "lot-trace", "--gtin", GTIN_B, "--lot", "B1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["outstanding"] == 45
    result = offline(
        audit_app, files, "custody", "--gtin", GTIN_A, "--serial", scenario.dispensed[1]
    )
    assert json.loads(result.output)["holder"] == scenario.addr("pharmacy_a")


def _report_3911(files: tuple[Path, Path], serials: list[str], out: Path, *extra: str) -> Result:
    return offline(
        report_app,
        files,
        "3911",
        "--gtin",
        GTIN_A,
        *(arg for serial in serials for arg in ("--serial", serial)),
        "--classification",
        "DIVERTED",
        "--description",
        "Found outside the supply chain",
        "--out",
        str(out),
        "--catalogue",
        str(files[1]),
        "--store",
        str(out.parent / "no-store.sqlite"),
        *extra,
    )


def test_report_3911_writes_the_html_file_reported_by_the_member_acting(
    scenario: Scenario, files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "n.html"
    result = _report_3911(files, scenario.flagged, out, "--as", "regulator")
    assert result.exit_code == 0, result.output
    page = lxml_html.fromstring(out.read_text())
    text = page.text_content()
    assert "DIVERTED" in text and scenario.flagged[1] in text and "Amoxicillin" in text
    (reporter,) = page.xpath('//tr[th="reporter"]/td')
    assert reporter.text_content() == (
        f"account: {scenario.addr('regulator')}, name: regulator, gln: 4012349000012"
    )


def test_report_3911_without_a_reporter_says_who_must_act(
    scenario: Scenario, files: tuple[Path, Path], tmp_path: Path
) -> None:
    result = _report_3911(files, scenario.flagged[:1], tmp_path / "n.html")
    assert result.exit_code == 2
    assert "--as MEMBER" in result.output
    assert not (tmp_path / "n.html").exists()


def test_report_history_needs_a_lot_or_a_shipment(files: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(
        report_app, ["history", "--out", str(tmp_path / "h.json"), "--log-file", str(files[0])]
    )
    assert result.exit_code == 2 and "give --gtin and --lot, or --tx" in result.output
    out = tmp_path / "h.json"
    result = offline(
        report_app,
        files,
        "history",
        "--gtin",
        GTIN_B,
        "--lot",
        "B1",
        "--out",
        str(out),
        "--catalogue",
        str(files[1]),
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text())["transactions"]) == 2


def test_report_fmd_alert_refuses_an_unknown_alert_reason(
    scenario: Scenario, files: tuple[Path, Path], tmp_path: Path
) -> None:
    args = [
        "fmd-alert",
        "--gtin",
        GTIN_A,
        "--serial",
        scenario.dispensed[5],
        "--location",
        scenario.addr("pharmacy_b"),
        "--out",
        str(tmp_path / "a.json"),
    ]
    bad = offline(report_app, files, *args, "--alert", "WHATEVER")
    assert bad.exit_code == 2 and "alert must be one of" in bad.output
    ok = offline(report_app, files, *args, "--alert", "ALREADY_DECOMMISSIONED")
    assert (
        ok.exit_code == 0
        and json.loads((tmp_path / "a.json").read_text())["pack"]["status"] == "DECOMMISSIONED"
    )


def test_audit_anomalies_prints_findings_with_their_evidence(files: tuple[Path, Path]) -> None:
    result = offline(audit_app, files, "anomalies", "--catalogue", str(files[1]))
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)
    assert isinstance(findings, list)
    for finding in findings:
        assert {"kind", "severity", "subject", "seen", "why", "evidence", "inputs"} <= set(finding)


def test_audit_shortage_prints_days_of_supply_per_member_and_gtin(files: tuple[Path, Path]) -> None:
    result = offline(audit_app, files, "shortage", "--all", "--catalogue", str(files[1]))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {r["gtin"] for r in rows} <= {GTIN_A, GTIN_B}
    assert all(r["stock"] >= 0 and "days_of_supply" in r for r in rows)


def _iso(ts: int, zone: tzinfo = UTC) -> str:
    return datetime.fromtimestamp(ts, zone).isoformat()


def test_audit_expiry_reports_as_at_the_time_given(
    scenario: Scenario, model: RegistryModel, files: tuple[Path, Path]
) -> None:
    at = model.lots[lid(GTIN_B, "B1")].expires_at - 10 * DAY
    args = ["expiry", "--days", "30", "--member", "pharmacy_b"]
    for text in (str(at), _iso(at), _iso(at, timezone(timedelta(hours=-5)))):
        result = offline(audit_app, files, *args, "--at", text)
        assert result.exit_code == 0, result.output
        rows = json.loads(result.output)
        assert [(r["packs"], r["days_left"], r["member_name"]) for r in rows] == [
            (10, 10.0, "pharmacy_b")
        ]
    # the history as it stood before the chain existed: nothing held, nothing expiring
    before = offline(audit_app, files, *args, "--at", "2001-01-01T00:00:00Z")
    assert before.exit_code == 0, before.output
    assert json.loads(before.output) == []


def test_audit_at_refuses_what_is_not_a_time(files: tuple[Path, Path]) -> None:
    result = offline(audit_app, files, "expiry", "--at", "next tuesday")
    assert result.exit_code == 2
    assert "ISO 8601" in result.output and "next tuesday" in result.output


def test_audit_anomalies_at_a_later_time_sees_the_shipment_still_not_received(
    files: tuple[Path, Path], model: RegistryModel
) -> None:
    def kinds(*extra: str) -> set[str]:
        result = offline(audit_app, files, "anomalies", "--catalogue", str(files[1]), *extra)
        assert result.exit_code == 0, result.output
        return {f["kind"] for f in json.loads(result.output)}

    assert "SHIPMENT_NOT_RECEIVED" not in kinds()  # as at the last block read
    later = _iso(model.events[-1].timestamp + 15 * DAY)
    assert "SHIPMENT_NOT_RECEIVED" in kinds("--at", later)


def test_every_command_that_reports_as_at_a_time_takes_at_with_one_meaning() -> None:
    groups = {"audit": get_command(audit_app), "report": get_command(report_app)}
    helps = {}
    for group, command in groups.items():
        for name, sub in command.commands.items():  # type: ignore[attr-defined]
            for param in sub.params:
                if "--at" in param.opts:
                    helps[f"{group} {name}"] = param.help
    assert set(helps) == {
        "audit custody",
        "audit lot-trace",
        "audit expiry",
        "audit anomalies",
        "audit shortage",
        "audit exceptions",
        "audit investigations",
        "audit exception-report",
        "report 3911",
        "report history",
        "report fmd-alert",
    }
    assert len(set(helps.values())) == 1


def test_report_3911_of_a_clone_carries_the_finding_and_the_scan_in_local_time(
    scenario: Scenario, model: RegistryModel, files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Pharmacy B's location master data (its GLN, in the store) gives its time zone."""
    serial, pb = scenario.dispensed[4], scenario.addr("pharmacy_b")
    at = model.events[-1].timestamp + 3600
    scans = tmp_path / "scans.jsonl"
    scans.write_text(json.dumps({"gtin": GTIN_A, "serial": serial, "location": pb, "time": at}))
    store = store_with_location(tmp_path / "store.sqlite", "401234800001", "America/Chicago")
    out = tmp_path / "n.json"
    result = offline(
        report_app,
        files,
        *("3911", "--gtin", GTIN_A, "--serial", serial, "--classification", "COUNTERFEIT"),
        *("--description", "a clone", "--out", str(out), "--catalogue", str(files[1])),
        *("--store", str(store), "--scans", str(scans), "--at", str(at), "--as", "pharmacy_b"),
    )
    assert result.exit_code == 0, result.output
    (product,) = json.loads(out.read_text())["products"]
    assert [f["kind"] for f in product["findings"]] == ["DECOMMISSIONED_VERIFIED"]
    (scan,) = product["scans"]
    assert scan["location"]["name"] == "pharmacy_b" and scan["time_zone"] == "America/Chicago"
    assert scan["local_time"] == _iso(at, ZoneInfo("America/Chicago"))
