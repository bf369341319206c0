"""Exception deadlines, the exception report and the 3911 investigation clock on an anvil node
whose time the tests move (``evm_setNextBlockTimestamp``, ``evm_increaseTime``): the auditor's
``audit exceptions``, ``audit exception-report`` and ``report 3911`` as at chosen times."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from ledger_client.audit.deadlines import BusinessCalendar
from ledger_client.audit.exception_report import CSV_COLUMNS, SUMMARY_COLUMNS
from ledger_client.chain import connect
from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DEMO_MEMBERS, DevNetwork, deploy_devnet
from ledger_client.types import ExceptionKind, PackFlag
from tests.utils.anvil import anvil_node, rpc
from tests.utils.epcis_locations import store_with_location

pytestmark = pytest.mark.anvil
GTIN = "09506000134352"
HOUR, DAY = 3600, 86_400
#: Monday 2027-01-04 09:00 UTC: the first exception is opened then.
MONDAY = int(datetime(2027, 1, 4, 9, tzinfo=UTC).timestamp())


@dataclass
class Story:
    """The chain's story, with the block time of each step."""

    node: Anvil
    net: DevNetwork
    deployment: Path
    times: dict[str, int]
    ids: dict[str, int]


def mined_at(net: DevNetwork, ts: int) -> None:
    """The next transaction is mined at block time ``ts``."""
    rpc(net["auditor"].w3, "evm_setNextBlockTimestamp", ts)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """Wholesaler A opens three exceptions against the manufacturer: ``late`` (Monday, never
    answered), ``answered`` (Monday, answered Tuesday, resolved Wednesday) and ``friday``
    (Friday before a Monday holiday); the regulator flags packs Z1, Z2 illegitimate on
    Monday 12:00 and clears Z1 on Tuesday, Z2 on Thursday."""
    with anvil_node(tmp_path_factory.mktemp("anvil")) as node:
        net = deploy_devnet(connect(node.url))
        mf, wa, reg = net["manufacturer"], net["wholesaler_a"], net["regulator"]
        mf.register_lot(GTIN, "DL1", "301231")
        mf.commission(GTIN, "DL1", ["A1", "A2", "A3", "Z1", "Z2"])
        times, ids = {}, {}
        kind = ExceptionKind.DATA_WITHOUT_PRODUCT
        steps = [
            ("late", MONDAY, lambda: wa.open_exception(mf.address, kind, [(GTIN, "A1")])),
            ("answered", MONDAY + 60, lambda: wa.open_exception(mf.address, kind, [(GTIN, "A2")])),
            ("flagged", MONDAY + 3 * HOUR, lambda: reg.flag([(GTIN, "Z1"), (GTIN, "Z2")],
                                                            PackFlag.ILLEGITIMATE)),
            ("answer", MONDAY + DAY, lambda: mf.answer_exception(ids["answered"])),
            ("cleared_z1", MONDAY + DAY + HOUR, lambda: reg.flag([(GTIN, "Z1")], PackFlag(0))),
            ("resolve", MONDAY + 2 * DAY, lambda: wa.resolve_exception(ids["answered"])),
            ("cleared_z2", MONDAY + 3 * DAY, lambda: reg.flag([(GTIN, "Z2")], PackFlag(0))),
            ("friday", MONDAY + 4 * DAY,
             lambda: wa.open_exception(mf.address, ExceptionKind.DATA_ISSUE, [(GTIN, "A3")])),
        ]  # fmt: skip
        for name, ts, step in steps:
            mined_at(net, ts)
            result = step()
            times[name] = ts
            if isinstance(result, tuple):
                ids[name] = result[0]
        path = tmp_path_factory.mktemp("dep") / "deployment.json"
        net.deployment.save(path)
        yield Story(node, net, path, times, ids)


def rx(story: Story, *args: str) -> tuple[int, str]:
    argv = [*args, "--rpc", story.node.url, "--deployment", str(story.deployment)]
    result = CliRunner().invoke(app, argv, env={"RXLEDGER_KEY": ""})
    return result.exit_code, result.output


def exceptions_at(story: Story, ts: int, *extra: str) -> dict[int, dict]:
    code, out = rx(story, "audit", "exceptions", "--at", str(ts), *extra)
    assert code == 0, out
    return {row["exception_id"]: row for row in json.loads(out)}


def test_an_unanswered_exception_is_overdue_after_three_business_days(story: Story) -> None:
    late = story.ids["late"]
    thursday_night = MONDAY + 3 * DAY + 15 * HOUR - 1  # Thursday 23:59:59 UTC
    row = exceptions_at(story, thursday_night)[late]
    assert row["answer_due_at"] == "2027-01-08T00:00:00Z" and row["time_zone"] == "UTC"
    assert (row["answer_overdue"], row["age_business_days"]) == (False, 3)
    row = exceptions_at(story, thursday_night + 1)[late]
    assert (row["answer_overdue"], row["age_business_days"]) == (True, 4)
    overdue = exceptions_at(story, thursday_night + 1, "--overdue")
    assert set(overdue) == {late}  # answered ones are not overdue, the Friday one not yet due


def test_weekends_and_holidays_are_no_business_days(story: Story) -> None:
    friday = story.ids["friday"]
    row = exceptions_at(story, story.times["friday"])[friday]
    assert row["answer_due_at"] == "2027-01-14T00:00:00Z"  # the end of Wednesday, Jan 13
    row = exceptions_at(story, story.times["friday"], "--holiday", "2027-01-11")[friday]
    assert row["answer_due_at"] == "2027-01-15T00:00:00Z"
    code, out = rx(story, "audit", "exceptions", "--holiday", "11/01/2027")
    assert code == 2 and "is not a date: give it as YYYY-MM-DD" in out, out


def test_the_counterpartys_location_gives_the_time_zone(story: Story, tmp_path: Path) -> None:
    zone = "America/Los_Angeles"
    store = store_with_location(tmp_path / "s.sqlite", DEMO_MEMBERS["manufacturer"][1], zone)
    row = exceptions_at(story, MONDAY, "--store", str(store))[story.ids["late"]]
    # opened Monday 01:00 in Los Angeles: due at the end of Thursday there
    assert (row["time_zone"], row["answer_due_at"]) == (zone, "2027-01-08T08:00:00Z")


def test_the_chains_latest_block_time_is_now_when_no_time_is_given(story: Story) -> None:
    w3 = story.net["auditor"].w3
    friday = story.ids["friday"]
    code, out = rx(story, "audit", "exceptions", "--overdue")
    assert code == 0 and friday not in {r["exception_id"] for r in json.loads(out)}, out
    rpc(w3, "evm_increaseTime", 6 * DAY)
    rpc(w3, "evm_mine")
    code, out = rx(story, "audit", "exceptions", "--overdue")
    assert code == 0 and friday in {r["exception_id"] for r in json.loads(out)}, out


def test_business_days_count_in_the_counterpartys_time_zone() -> None:
    calendar = BusinessCalendar(3)
    # Monday 2027-01-04 02:00 UTC is still Sunday evening in New York: due end of Wednesday.
    sunday_night_ny = int(datetime(2027, 1, 4, 2, tzinfo=UTC).timestamp())
    assert calendar.due(sunday_night_ny, None) == int(datetime(2027, 1, 8, tzinfo=UTC).timestamp())
    ny = ZoneInfo("America/New_York")
    assert calendar.due(sunday_night_ny, ny) == int(datetime(2027, 1, 7, tzinfo=ny).timestamp())
    assert BusinessCalendar(1, frozenset({date(2027, 1, 5)})).due(MONDAY, None) == int(
        datetime(2027, 1, 7, tzinfo=UTC).timestamp()
    )


def test_the_exception_report_json_per_partner_with_ages_durations_and_evidence(
    story: Story,
) -> None:
    code, out = rx(story, "audit", "exception-report", "--at", str(MONDAY + 5 * DAY))
    assert code == 0, out
    report = json.loads(out)
    partners = {p["partner_name"]: p for p in report["partners"]}
    assert set(partners) == {"manufacturer", "wholesaler_a"}
    maker = partners["manufacturer"]
    assert maker["open"] == {"DATA_WITHOUT_PRODUCT": 1, "DATA_ISSUE": 1}
    assert maker["closed"] == {"DATA_WITHOUT_PRODUCT": 1} and maker["overdue"] == 1
    kinds = {k["kind"]: k for k in maker["by_kind"]}
    missing = kinds["DATA_WITHOUT_PRODUCT"]  # ``late`` open since Monday, ``answered`` closed
    assert (missing["open"], missing["closed"], missing["overdue"]) == (1, 1, 1)
    assert missing["open_by_age_business_days"] == {"0-3": 0, "4-10": 1, "over_10": 0}
    assert (missing["median_resolve_business_days"], missing["max_resolve_business_days"]) == (2, 2)
    issue = kinds["DATA_ISSUE"]  # opened on Friday
    assert issue["open_by_age_business_days"] == {"0-3": 1, "4-10": 0, "over_10": 0}
    assert issue["median_resolve_business_days"] is None
    rows = {r["exception_id"]: r for r in maker["exceptions"]}
    done = rows[story.ids["answered"]]
    assert done["role"] == "counterparty" and done["resolved_by"] == "OPENER"
    assert (done["answer_business_days"], done["resolve_business_days"]) == (1, 2)
    assert done["answer_hours"] == round((DAY - 60) / HOUR, 2)
    assert done["answered_late"] is False and done["age_business_days"] == 2
    for step in ("opened_tx", "answered_tx", "resolved_tx"):
        assert done[step].startswith("0x") and len(done[step]) == 66
    assert rows[story.ids["late"]]["answered_tx"] is None
    assert set(done) == {*CSV_COLUMNS} - {"partner", "partner_name", "partner_gln"}
    code, out = rx(story, "audit", "exception-report", "--partner", "wholesaler_a")
    assert code == 0 and [p["partner_name"] for p in json.loads(out)["partners"]] == [
        "wholesaler_a"
    ]


def test_the_exception_report_csv_has_one_line_per_partner_and_exception(story: Story) -> None:
    code, out = rx(story, "audit", "exception-report", "--format", "csv")
    assert code == 0, out
    lines = list(csv.DictReader(io.StringIO(out)))
    assert tuple(lines[0]) == CSV_COLUMNS
    assert len(lines) == 2 * len(story.ids)  # each exception under both its parties
    by_role = {(r["partner_name"], r["exception_id"]): r["role"] for r in lines}
    assert by_role[("wholesaler_a", str(story.ids["late"]))] == "opener"
    code, out = rx(story, "audit", "exception-report", "--format", "xml")
    assert code == 2 and "--format must be json or csv" in out, out


def test_the_exception_summary_csv_has_one_line_per_partner_and_kind(story: Story) -> None:
    at = str(MONDAY + 5 * DAY)
    code, out = rx(story, "audit", "exception-report", "--format", "csv", "--summary", "--at", at)
    assert code == 0, out
    lines = list(csv.DictReader(io.StringIO(out)))
    assert tuple(lines[0]) == SUMMARY_COLUMNS
    by = {(r["partner_name"], r["kind"]): r for r in lines}
    assert set(by) == {
        (who, kind)
        for who in ("manufacturer", "wholesaler_a")
        for kind in ("DATA_ISSUE", "DATA_WITHOUT_PRODUCT")
    }
    missing = by[("wholesaler_a", "DATA_WITHOUT_PRODUCT")]
    assert (missing["open"], missing["closed"]) == ("1", "1")
    assert missing["open_4-10_business_days"] == "1"
    assert missing["median_resolve_business_days"] == "2"
    assert by[("manufacturer", "DATA_ISSUE")]["max_resolve_business_days"] == ""
    code, out = rx(story, "audit", "exception-report", "--summary")
    assert code == 2 and "--summary is a CSV layout" in out, out


def report(story: Story, tmp_path: Path, ts: int, *extra: str) -> tuple[int, dict | str]:
    out = tmp_path / "r.json"
    code, text = rx(story, "report", "3911", "--gtin", GTIN, "--serial", "Z1", "--serial", "Z2",
                    "--classification", "COUNTERFEIT", "--description", "fake", "--out", str(out),
                    "--as", "regulator", "--at", str(ts), *extra)  # fmt: skip
    return code, json.loads(out.read_text()) if code == 0 else text


def test_the_3911_notification_is_late_one_second_after_24_hours(
    story: Story, tmp_path: Path
) -> None:
    flagged = story.times["flagged"]
    code, on_time = report(story, tmp_path, flagged + DAY)
    assert code == 0 and isinstance(on_time, dict), on_time
    clock = on_time["investigation"]
    assert clock["notification_due_at"] == "2027-01-05T12:00:00Z"
    assert (clock["late"], clock["hours_after_determination"]) == (False, 24.0)
    assert clock["determination"]["event"] == "PacksFlagged"
    assert clock["determination"]["by_name"] == "regulator" and clock["status"] == "OPEN"
    assert on_time["date"] == "2027-01-05T12:00:00Z" and on_time["products"][0]["evidence"]
    code, late = report(story, tmp_path, flagged + DAY + 1)
    assert code == 0 and isinstance(late, dict) and late["investigation"]["late"] is True


def test_the_termination_notice_needs_the_investigation_closed(
    story: Story, tmp_path: Path
) -> None:
    half = story.times["cleared_z1"]
    code, text = report(story, tmp_path, half, "--type", "REQUEST_FOR_TERMINATION")
    assert code == 2 and "is still open: 1 of its packs are flagged illegitimate" in str(text)
    code, notice = report(story, tmp_path, story.times["cleared_z2"], "--type",
                          "REQUEST_FOR_TERMINATION")  # fmt: skip
    assert code == 0 and isinstance(notice, dict), notice
    clock = notice["investigation"]
    assert clock["status"] == "CLOSED" and clock["closed_at"] == "2027-01-07T09:00:00Z"
    assert [e["tx"][:2] for e in clock["closed_by"]] == ["0x", "0x"]
    assert notice["report_type"] == "REQUEST_FOR_TERMINATION"
    page = tmp_path / "t.html"
    code, text = rx(story, "report", "3911", "--gtin", GTIN, "--serial", "Z2", "--classification",
                    "COUNTERFEIT", "--description", "fake", "--out", str(page), "--as",
                    "regulator", "--type", "REQUEST_FOR_TERMINATION")  # fmt: skip
    assert code == 0, text
    html = page.read_text()
    assert "closed_at: 2027-01-07T09:00:00Z" in html and "event: PacksFlagged" in html


def test_audit_investigations_lists_the_determinations_and_the_overdue_notification(
    story: Story,
) -> None:
    flagged = story.times["flagged"]
    code, out = rx(story, "audit", "investigations", "--at", str(flagged + DAY + 1))
    assert code == 0, out
    (inv,) = json.loads(out)
    assert (inv["status"], inv["still_flagged"], inv["notification_overdue"]) == ("OPEN", 1, True)
    assert inv["determination"]["by_name"] == "regulator" and len(inv["pack_ids"]) == 2
    code, out = rx(story, "audit", "investigations", "--at", str(flagged + DAY))
    assert code == 0 and json.loads(out)[0]["notification_overdue"] is False, out
    code, out = rx(story, "audit", "investigations")
    (inv,) = json.loads(out)
    assert (inv["status"], inv["closed_at"], len(inv["closed_by"])) == (
        "CLOSED",
        "2027-01-07T09:00:00Z",
        2,
    )
