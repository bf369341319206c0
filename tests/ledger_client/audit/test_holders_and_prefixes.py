"""A second history on a chain of its own: a lot held by every kind of member (shortage
alternatives by kind), and a lot the manufacturer registered under the repackager's company
prefix (its DSCSA history and its finding say so)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger_client.audit import RegistryModel, export_logs, fetch_logs, replay_logs
from ledger_client.audit.alerts import shortage
from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.reports import transaction_history
from ledger_client.chain import connect
from ledger_client.cli.audit import report_app
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.ids import lot_hash, lot_id, pack_id, pack_word
from ledger_client.types import ZERO_HASH, DecommissionReason
from tests.utils.audit_scenario import MAKER, gtin

GTIN_M = gtin("0061414100007")  # the manufacturer's prefix 0614141
GTIN_R = gtin("0061414200004")  # 00614142000042, the repackager's prefix 0614142
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@dataclass
class World:
    net: DevNetwork
    model: RegistryModel
    catalogue: Catalogue
    logs: list
    now: int


@pytest.fixture(scope="module")
def world() -> World:
    w3 = connect("eth-tester")
    net = deploy_devnet(w3)
    m, wa, pa, pb = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"], net["pharmacy_b"]
    m.register_lot(GTIN_M, "G1", "301231")
    serials = [f"G{i:02d}" for i in range(30)]
    m.commission(GTIN_M, "G1", serials)
    for member, part in ((wa, serials[:10]), (pb, serials[10:18]), (pa, serials[18:24])):
        packs = [(GTIN_M, s) for s in part]
        m.ship(member.address, packs=packs)
        member.receive(packs=packs)
    pa.decommission([(GTIN_M, s) for s in serials[18:23]], DecommissionReason.DISPENSED)
    # the manufacturer's lot of a GTIN under the repackager's prefix: filed under its own index
    m.transact(m.registry.functions.registerLot(lot_hash(GTIN_R, "S1"), 301231, ZERO_HASH))
    m.commission_words(lot_hash(GTIN_R, "S1"), [pack_word(GTIN_R, f"Q{i}", "S1") for i in range(4)])
    squatted = [pack_id(GTIN_R, f"Q{i}", owner=MAKER) for i in range(4)]
    wb = net["wholesaler_b"]
    m.ship(wb.address, packs=squatted)
    wb.receive(packs=squatted)
    logs = fetch_logs(w3, net.deployment)
    model = replay_logs(logs).model
    catalogue = Catalogue()
    catalogue.add_lot(GTIN_M, "G1", owner=MAKER)
    catalogue.add_lot(GTIN_R, "S1", owner=MAKER)
    catalogue.add_members(net.deployment)
    return World(net, model, catalogue, logs, model.events[-1].timestamp)


def test_shortage_alternatives_are_ranked_wholesaler_manufacturer_other_dispenser(
    world: World,
) -> None:
    (signal,) = shortage(world.model, world.catalogue, world.now, window_days=10)
    assert (signal.name, signal.stock, signal.days_of_supply) == ("pharmacy_a", 1, 2.0)
    assert [(a["name"], a["kind"], a["stock"]) for a in signal.alternatives] == [
        ("wholesaler_a", "wholesaler", 10),
        ("manufacturer", "manufacturer", 6),
        ("pharmacy_b", "dispenser", 8),
    ]


def test_dscsa_history_of_a_lot_under_another_company_s_prefix_says_so(world: World) -> None:
    squatted = lot_id(GTIN_R, "S1", owner=MAKER)
    report = transaction_history(world.model, world.catalogue, lid=squatted)
    assert [(t["seller"]["name"], t["buyer"]["name"]) for t in report["transactions"]] == [
        ("manufacturer", "wholesaler_b")
    ]
    assert report["transaction_statement"].startswith("Each seller recorded on the ledger")
    (exception,) = report["statement_exceptions"]
    assert GTIN_R in exception and "repackager" in exception and "manufacturer" in exception
    assert not ADDRESS.search(exception)
    mismatch = next(
        f
        for f in detect(world.model, world.catalogue, now=world.now)
        if f.kind == "PRODUCT_MISMATCH"
    )
    assert mismatch.subject == "0x" + squatted.hex()
    assert "repackager" in mismatch.why and "manufacturer" in mismatch.seen
    assert not ADDRESS.search(mismatch.seen + mismatch.why)


def test_report_history_finds_the_lot_registered_under_another_company_s_prefix(
    world: World, tmp_path: Path
) -> None:
    log_file, catalogue, out = tmp_path / "logs.jsonl", tmp_path / "c.json", tmp_path / "h.json"
    export_logs(world.logs, world.net.deployment, log_file)
    world.catalogue.save(catalogue)
    args = ["history", "--gtin", GTIN_R, "--lot", "S1", "--out", str(out)]
    result = CliRunner().invoke(
        report_app,
        [*args, "--catalogue", str(catalogue), "--log-file", str(log_file)]
        + ["--rpc", "http://127.0.0.1:9", "--store", str(tmp_path / "none.sqlite")],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert len(report["transactions"]) == 1
    assert "repackager" in report["statement_exceptions"][0]
