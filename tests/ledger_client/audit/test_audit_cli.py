"""The auditor's commands, offline from an exported log file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from lxml import html as lxml_html
from typer.testing import CliRunner

from ledger_client.audit import export_logs, fetch_logs
from ledger_client.cli.audit import audit_app, report_app
from tests.utils.audit_scenario import GTIN_A, GTIN_B, Scenario, scenario_catalogue

NO_NODE = "http://127.0.0.1:9"
runner = CliRunner()


@pytest.fixture(scope="module")
def files(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    logs = d / "logs.jsonl"
    export_logs(fetch_logs(scenario.w3, scenario.net.deployment), scenario.net.deployment, logs)
    catalogue = d / "catalogue.json"
    scenario_catalogue(scenario).save(catalogue)
    return logs, catalogue


def test_audit_replay_json_offline_prints_one_object(files: tuple[Path, Path]) -> None:
    result = runner.invoke(
        audit_app, ["replay", "--json", "--log-file", str(files[0]), "--rpc", NO_NODE]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["packs"] == 304 and summary["divergences"] == 0
    assert summary["events"] > 40 and summary["events_per_second"] > 0


def test_audit_lot_trace_and_custody_print_json(
    scenario: Scenario, files: tuple[Path, Path]
) -> None:
    result = runner.invoke(
        audit_app,
        [
            "lot-trace",
            "--gtin",
            GTIN_B,
            "--lot",
            "B1",
            "--log-file",
            str(files[0]),
            "--rpc",
            NO_NODE,
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["outstanding"] == 45
    result = runner.invoke(
        audit_app,
        [
            "custody",
            "--gtin",
            GTIN_A,
            "--serial",
            scenario.dispensed[1],
            "--log-file",
            str(files[0]),
            "--rpc",
            NO_NODE,
        ],
    )
    assert json.loads(result.output)["holder"] == scenario.addr("pharmacy_a")


def _report_3911(files: tuple[Path, Path], serials: list[str], out: Path, *extra: str) -> Result:
    return runner.invoke(
        report_app,
        [
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
            "--log-file",
            str(files[0]),
            "--rpc",
            NO_NODE,
            *extra,
        ],
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
    result = runner.invoke(
        report_app,
        [
            "history",
            "--gtin",
            GTIN_B,
            "--lot",
            "B1",
            "--out",
            str(out),
            "--catalogue",
            str(files[1]),
            "--log-file",
            str(files[0]),
            "--rpc",
            NO_NODE,
        ],
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
        "--log-file",
        str(files[0]),
        "--rpc",
        NO_NODE,
    ]
    bad = runner.invoke(report_app, [*args, "--alert", "WHATEVER"])
    assert bad.exit_code == 2 and "alert must be one of" in bad.output
    ok = runner.invoke(report_app, [*args, "--alert", "ALREADY_DECOMMISSIONED"])
    assert (
        ok.exit_code == 0
        and json.loads((tmp_path / "a.json").read_text())["pack"]["status"] == "DECOMMISSIONED"
    )


def test_audit_anomalies_prints_findings_with_their_evidence(files: tuple[Path, Path]) -> None:
    result = runner.invoke(
        audit_app,
        ["anomalies", "--catalogue", str(files[1]), "--log-file", str(files[0]), "--rpc", NO_NODE],
    )
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)
    assert isinstance(findings, list)
    for finding in findings:
        assert {"kind", "severity", "subject", "seen", "why", "evidence", "inputs"} <= set(finding)


def test_audit_shortage_prints_days_of_supply_per_member_and_gtin(files: tuple[Path, Path]) -> None:
    result = runner.invoke(
        audit_app,
        [
            "shortage",
            "--all",
            "--catalogue",
            str(files[1]),
            "--log-file",
            str(files[0]),
            "--rpc",
            NO_NODE,
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {r["gtin"] for r in rows} <= {GTIN_A, GTIN_B}
    assert all(r["stock"] >= 0 and "days_of_supply" in r for r in rows)
