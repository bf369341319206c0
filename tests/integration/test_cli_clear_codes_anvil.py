"""The CLI's lifecycle commands keep their clear codes in the owner's store, on a real anvil node,
so exports, DSCSA TI/TS and reports name the packs they wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger_client.chain import connect
from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet
from ledger_client.epcis import EventStore
from ledger_client.events import decode
from ledger_client.logs import fetch_logs
from ledger_client.owners import PrefixOwners
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
GTIN, LOT, CASE, PALLET = "09506000134352", "LOT9", "106141410000000019", "206141410000000016"
SERIALS = ("S1", "S2", "S3")
MANUFACTURER_GLN, WHOLESALER_GLN = "0614141000012", "4012345000016"


@dataclass
class Env:
    url: str
    root: Path

    def cli(self, *args: str) -> str:
        common = ["--rpc", self.url, "--deployment", str(self.root / "deployment.json")]
        common += ["--store", str(self.root / "epcis.sqlite")]
        result = CliRunner().invoke(app, [*args, *common])
        assert result.exit_code == 0, result.output
        return result.output

    def file(self, name: str, *lines: str) -> str:
        path = self.root / name
        path.write_text("".join(f"{line}\n" for line in lines))
        return str(path)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("clear-codes")
    with Anvil(port=free_port()) as node:
        deploy_devnet(connect(node.url)).deployment.save(root / "deployment.json")
        e = Env(node.url, root)
        codes = e.file("codes.txt", *(f"(01){GTIN}(17)281231(10){LOT}(21){s}" for s in SERIALS))
        e.cli("lot", "register", GTIN, LOT, "281231", "--as", "manufacturer")
        e.cli("commission", codes, "--into", CASE, "--as", "manufacturer")
        e.cli("pack", PALLET, e.file("cases.txt", f"(00){CASE}"), "--as", "manufacturer")
        pallets = e.file("pallets.txt", f"(00){PALLET}")
        e.cli("ship", pallets, "--to", "wholesaler_a", "--as", "manufacturer")
        e.cli("receive", pallets, "--as", "wholesaler_a")
        e.cli("unpack", PALLET, "--as", "wholesaler_a")
        cases = e.file("case.txt", f"(00){CASE}")
        e.cli("ship", cases, "--to", "pharmacy_a", "--as", "wholesaler_a")
        e.cli("receive", cases, "--as", "pharmacy_a")
        e.cli("unpack", CASE, "--as", "pharmacy_a")
        sold = e.file("sold.txt", f"(01){GTIN}(21)S1")
        e.cli("decommission", sold, "--reason", "dispensed", "--as", "pharmacy_a")
        e.cli("undo", sold, "--as", "pharmacy_a")
        e.cli("lot", "status", GTIN, LOT, "recalled", "--as", "manufacturer")  # its owner
        yield e


def test_every_cli_write_anchors_the_hash_of_a_clear_event_in_the_store(env: Env) -> None:
    from ledger_client.contracts import Deployment

    w3 = connect(env.url)
    deployment = Deployment.load(env.root / "deployment.json")
    events = list(decode(fetch_logs(w3, deployment)))
    anchored = [bytes(e.args["eventHash"]) for e in events if "eventHash" in e.args]
    assert len(set(anchored)) == len(anchored) == 12  # one per command
    with EventStore(env.root / "epcis.sqlite") as store:
        assert all(store.event(h) is not None for h in anchored)
        ids = store.identifiers(PrefixOwners(deployment.contract(w3, "Consortium")).index)
    assert sorted(ids.packs.values()) == [(GTIN, s) for s in SERIALS]
    assert list(ids.lots.values()) == [(GTIN, LOT)]
    assert sorted(ids.units.values()) == [CASE, PALLET]


def test_epcis_export_of_a_cli_commissioned_pack_names_gtin_serial_and_lot(env: Env) -> None:
    doc = json.loads(env.cli("epcis", "export", "--pack", f"(01){GTIN}(21)S1"))
    events = doc["epcisBody"]["eventList"]
    assert "urn:rxledger:" not in json.dumps(events)
    commissioning = next(e for e in events if e.get("bizStep") == "commissioning" and e["epcList"])
    assert f"https://id.gs1.org/01/{GTIN}/21/S1" in commissioning["epcList"]
    assert commissioning["ilmd"]["cbvmda:lotNumber"] == LOT
    shipping = next(e for e in events if e.get("bizStep") == "shipping")
    assert shipping["sourceList"][0]["source"].endswith(f"/417/{MANUFACTURER_GLN}")
    assert shipping["destinationList"][0]["destination"].endswith(f"/417/{WHOLESALER_GLN}")


def test_ti_ts_of_a_cli_shipment_names_the_lot_of_every_pack(env: Env) -> None:
    ti = json.loads(env.cli("epcis", "ti-ts", "--sscc", f"(00){PALLET}"))["transaction_information"]
    assert ti["packs_without_clear_identifiers"] == 0
    (line,) = ti["products"]
    assert (line["gtin"], line["lot"], line["number_of_containers"]) == (GTIN, LOT, 3)
    assert (ti["seller"]["gln"], ti["buyer"]["gln"]) == (MANUFACTURER_GLN, WHOLESALER_GLN)


def test_report_3911_of_a_cli_pack_names_lot_event_hashes_and_reporter(env: Env) -> None:
    out = env.root / "notice.json"
    args = ["--gtin", GTIN, "--serial", "S2", "--classification", "COUNTERFEIT"]
    env.cli("report", "3911", *args, "--description", "x", "--out", str(out), "--as", "regulator")
    notice = json.loads(out.read_text())
    (product,) = notice["products"]
    assert (product["lot"], product["status"], product["pack_status"]) == (
        LOT,
        "RECALLED",
        "ACTIVE",
    )
    assert [e["event"] for e in product["evidence"]] == ["PacksCommissioned"] + [
        "ItemsShipped",
        "ItemsReceived",
    ] * 2
    assert all(e["event_hash"] for e in product["evidence"])
    assert (notice["reporter"]["name"], notice["reporter"]["gln"]) == ("regulator", "4012349000012")
