"""The gateway's deadline alerts on an anvil node whose time the tests move: an exception not
answered in three business days alerts both parties and regulators (no one else) and is
withdrawn once answered; a 3911-style notification 24 hours past an illegitimacy determination
alerts every member until the flag is cleared. Real chain, real indexer, real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from gateway.core.config import Settings
from gateway.indexer import Indexer
from gateway.schemas import AlertKind, AlertOut
from gateway.services.alerts import list_alerts, list_withdrawals, on_indexed, withdraw_orphaned
from gateway.services.chain import Chain
from gateway.services.deadlines import DeadlineAlerts
from ledger_client.audit.deadlines import BusinessCalendar, iso
from ledger_client.chain import connect
from ledger_client.devnet import DEMO_MEMBERS, DevNetwork, deploy_devnet
from ledger_client.types import ExceptionKind, PackFlag
from tests.utils.anvil import anvil_node, rpc
from tests.utils.epcis_locations import store_with_location
from tests.utils.index_state import fresh_engine

pytestmark = pytest.mark.anvil
GTIN = "09506000134352"
DAY = 86_400
PARTIES = ("wholesaler_a", "manufacturer")
ZONE = "Pacific/Kiritimati"


@dataclass
class Gw:
    net: DevNetwork
    indexer: Indexer
    engine: Engine

    def advance(self, seconds: int) -> None:
        """Move the chain's time on by ``seconds`` (one new block), and index it."""
        w3 = self.net["auditor"].w3
        rpc(w3, "evm_increaseTime", seconds)
        rpc(w3, "evm_mine")
        self.indexer.catch_up()

    def alerts(self, name: str, kind: AlertKind) -> list[AlertOut]:
        see_all = name == "regulator"
        found = list_alerts(self.engine, self.net.address(name), see_all, 1, [kind])
        return [a for a in found if a.withdrawn_at is None]


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gw]:
    with anvil_node(tmp_path) as node:
        net = deploy_devnet(connect(node.url))
        mf = net["manufacturer"]
        mf.register_lot(GTIN, "GD1", "301231")
        mf.commission(GTIN, "GD1", ["G1", "G2"])
        engine = fresh_engine(tmp_path / "index.db")
        # the manufacturer's location is in UTC+14; wholesaler A's is not in the store
        store = store_with_location(
            tmp_path / "epcis.sqlite", DEMO_MEMBERS["manufacturer"][1], ZONE
        )
        indexer = Indexer(
            Chain(net["auditor"].w3, net.deployment),
            engine,
            0,
            start_block=net.deployment.block,
            hooks=[on_indexed],
            rollback_hooks=[withdraw_orphaned],
            time_hooks=[DeadlineAlerts(BusinessCalendar(3), store)],
        )
        yield Gw(net, indexer, engine)


def test_an_unanswered_exception_alerts_both_parties_and_regulators_until_answered(
    gw: Gw,
) -> None:
    wa, mf = gw.net["wholesaler_a"], gw.net["manufacturer"]
    case, receipt = wa.open_exception(mf.address, ExceptionKind.DATA_ISSUE, [(GTIN, "G1")])
    other, _ = mf.open_exception(wa.address, ExceptionKind.DATA_ISSUE, [(GTIN, "G2")])
    gw.advance(DAY)
    assert gw.alerts("regulator", AlertKind.EXCEPTION_OVERDUE) == []
    gw.advance(7 * DAY)  # three business days are over, whatever the weekday it started on
    for name in (*PARTIES, "regulator"):
        found = {a.data["exception_id"]: a for a in gw.alerts(name, AlertKind.EXCEPTION_OVERDUE)}
        assert set(found) == {case, other}, name
    assert gw.alerts("pharmacy_b", AlertKind.EXCEPTION_OVERDUE) == []
    opened_at = gw.net["auditor"].exception(case).opened_at
    due = BusinessCalendar(3).due(opened_at, ZoneInfo(ZONE))  # in the counterparty's zone
    assert (found[case].data["time_zone"], found[case].data["due_at"]) == (ZONE, iso(due))
    assert found[other].data["time_zone"] == "UTC"
    assert "no time zone in the location master data" in found[other].message
    gw.advance(DAY)  # raised once
    assert len(gw.alerts("regulator", AlertKind.EXCEPTION_OVERDUE)) == 2
    mf.answer_exception(case)
    gw.indexer.catch_up()
    assert [
        a.data["exception_id"] for a in gw.alerts("manufacturer", AlertKind.EXCEPTION_OVERDUE)
    ] == [other]
    ((_, withdrawn),) = list_withdrawals(gw.engine, wa.address, False, 0)
    assert withdrawn.withdrawn_reason is not None
    assert withdrawn.withdrawn_reason.startswith(f"exception {case} was answered at ")
    wa.answer_exception(other)
    gw.advance(7 * DAY)  # an answered exception is never overdue again
    assert gw.alerts("regulator", AlertKind.EXCEPTION_OVERDUE) == []


def test_an_open_investigation_alerts_everyone_24_hours_after_the_determination(gw: Gw) -> None:
    reg = gw.net["regulator"]
    reg.flag([(GTIN, "G1"), (GTIN, "G2")], PackFlag.ILLEGITIMATE)
    gw.advance(DAY - 60)
    assert gw.alerts("pharmacy_b", AlertKind.NOTIFICATION_OVERDUE) == []
    gw.advance(120)
    (alert,) = gw.alerts("pharmacy_b", AlertKind.NOTIFICATION_OVERDUE)
    assert len(alert.data["pack_ids"]) == 2 and alert.data["by"] == reg.address
    reg.flag([(GTIN, "G1")], PackFlag(0))
    gw.indexer.catch_up()
    (alert,) = gw.alerts("manufacturer", AlertKind.NOTIFICATION_OVERDUE)  # G2 is still flagged
    reg.flag([(GTIN, "G2")], PackFlag(0))
    gw.indexer.catch_up()
    assert gw.alerts("manufacturer", AlertKind.NOTIFICATION_OVERDUE) == []
    ((_, withdrawn),) = list_withdrawals(gw.engine, None, True, 0)
    assert withdrawn.withdrawn_reason is not None
    assert "the investigation is closed" in withdrawn.withdrawn_reason


def test_the_deadline_settings_take_business_days_and_a_holiday_list() -> None:
    settings = Settings(exception_answer_days=5, exception_holidays=["2026-12-25"])
    assert settings.exception_holidays == [date(2026, 12, 25)]
    with pytest.raises(ValidationError, match="exception_holidays"):
        Settings(exception_holidays=["25/12/2026"])
    with pytest.raises(ValidationError, match="exception_answer_days"):
        Settings(exception_answer_days=0)


def test_a_deadline_alert_raised_in_blocks_that_leave_the_chain_is_withdrawn(gw: Gw) -> None:
    wa, mf = gw.net["wholesaler_a"], gw.net["manufacturer"]
    wa.open_exception(mf.address, ExceptionKind.DATA_ISSUE, [(GTIN, "G1")])
    gw.indexer.catch_up()
    w3 = gw.net["auditor"].w3
    snapshot = rpc(w3, "evm_snapshot")
    gw.advance(8 * DAY)
    assert len(gw.alerts("regulator", AlertKind.EXCEPTION_OVERDUE)) == 1
    rpc(w3, "evm_revert", snapshot)  # the eight days leave the chain: another block instead
    rpc(w3, "evm_mine", int(w3.eth.get_block("latest")["timestamp"]) + 60)
    rpc(w3, "evm_mine")
    while gw.indexer.step():
        pass
    assert gw.alerts("regulator", AlertKind.EXCEPTION_OVERDUE) == []
    ((_, withdrawn),) = list_withdrawals(gw.engine, None, True, 0)
    assert withdrawn.withdrawn_reason is not None and "left the chain" in withdrawn.withdrawn_reason
