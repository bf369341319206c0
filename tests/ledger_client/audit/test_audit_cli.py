"""The auditor's commands, offline from an exported log file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from lxml import html as lxml_html
from typer import Typer
from typer.testing import CliRunner

from ledger_client.audit import export_logs
from ledger_client.cli.audit import audit_app, report_app
from tests.utils.audit_scenario import GTIN_A, GTIN_B, Scenario, scenario_catalogue

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
