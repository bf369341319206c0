"""``rxledger cancel|refuse|lost|found`` and ``rxledger exception ...`` on an anvil node: each
step done by its party, refusals in words, bad input refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from ledger_client import events as ev
from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.export import pack_uri, to_epcis_json
from ledger_client.epcis.hashing import event_hash
from ledger_client.epcis.record import member_gln
from ledger_client.epcis.store import EventStore
from ledger_client.epcis.validation import check_document
from ledger_client.ids import items_hash
from ledger_client.types import ExceptionStatus, PackStatus
from tests.utils.cli import rx as run_rx

pytestmark = pytest.mark.anvil
GTIN = "09506000134352"


@pytest.fixture(scope="module")
def net(node: Anvil) -> DevNetwork:
    """The demo network with the manufacturer's packs X1 to X4 shipped to wholesaler A."""
    net = deploy_devnet(connect(node.url))
    m = net["manufacturer"]
    m.register_lot(GTIN, "XL1", "301231")
    m.commission(GTIN, "XL1", ["X1", "X2", "X3", "X4"])
    m.ship(net.address("wholesaler_a"), packs=[(GTIN, s) for s in ("X1", "X2", "X3", "X4")])
    return net


def codes(tmp_path: Path, *serials: str) -> Path:
    path = tmp_path / "codes.txt"
    path.write_text("".join(f"(01){GTIN}(21){s}\n" for s in serials))
    return path


CUSTODY_STEPS = ("cancel", "refuse", "lost", "found")


def store_of(deployment: Path) -> Path:
    """The EPCIS store the custody steps of these tests keep their events in."""
    return deployment.parent / "epcis.sqlite"


def rx(node: Anvil, deployment: Path, *args: str) -> tuple[int, str]:
    store = ["--store", str(store_of(deployment))] if args[0] in CUSTODY_STEPS else []
    return run_rx(node, deployment, *args, *store)


def test_refuse_cancel_lose_and_find_by_their_parties(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    auditor = net["auditor"]
    refused = codes(tmp_path, "X1")
    code, out = rx(
        node, deployment, "refuse", str(refused), "--from", "manufacturer", "--as", "wholesaler_a"
    )
    assert code == 0 and out.startswith("1 items in 1 transactions"), out
    assert auditor.pack_state(GTIN, "X1").pending_to == net.address("manufacturer")
    code, out = rx(node, deployment, "cancel", str(codes(tmp_path, "X2")), "--to", "wholesaler_a",
                   "--as", "wholesaler_a")  # fmt: skip
    assert code == 1 and "SerialRegistryNotSender" in out and "did not ship" in out, out
    code, out = rx(node, deployment, "cancel", str(codes(tmp_path, "X2")), "--to", "wholesaler_a",
                   "--as", "manufacturer", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["items"] == 1, out
    assert auditor.pack_state(GTIN, "X2").status == PackStatus.ACTIVE
    gone = str(codes(tmp_path, "X3"))
    for step in ("lost", "found"):
        code, out = rx(node, deployment, step, gone, "--to", "wholesaler_a", "--as", "manufacturer")
        assert code == 0, out
    assert auditor.pack_state(GTIN, "X3").in_transit
    code, out = rx(node, deployment, "found", gone, "--to", "wholesaler_a", "--as", "manufacturer")
    assert code == 1 and "SerialRegistryNotLost" in out, out


def test_bad_input_is_refused_before_sending(node: Anvil, deployment: Path, tmp_path: Path) -> None:
    file = str(codes(tmp_path, "X4"))
    code, out = rx(node, deployment, "refuse", file, "--from", "nobody", "--as", "wholesaler_a")
    assert code == 2 and "nobody" in out, out
    code, out = rx(node, deployment, "exception", "open", "misplaced", file, "--against",
                   "manufacturer", "--as", "wholesaler_a")  # fmt: skip
    assert code == 2 and "exception kind 'misplaced' is unknown" in out, out
    code, out = rx(node, deployment, "exception", "show", "99")
    assert code == 2 and "there is no exception 99" in out, out


def test_an_exception_opened_answered_resolved_and_shown(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    photo = tmp_path / "dock.jpg"
    photo.write_bytes(b"\xff\xd8 a photo of an empty dock")
    code, out = rx(node, deployment, "exception", "open", "data_without_product",
                   str(codes(tmp_path, "X4")), "--against", "manufacturer", "--as", "wholesaler_a",
                   "--evidence", str(photo), "--json")  # fmt: skip
    assert code == 0, out
    case = json.loads(out)["id"]
    code, out = rx(node, deployment, "exception", "answer", str(case), "--as", "pharmacy_a")
    assert code == 1 and "is not the counterparty of exception" in out, out
    code, out = rx(node, deployment, "exception", "answer", str(case), "--as", "manufacturer")
    assert (code, out) == (0, f"exception {case} answered\n")
    code, out = rx(node, deployment, "exception", "resolve", str(case), "--as", "wholesaler_a")
    assert (code, out) == (0, f"exception {case} resolved: done\n")
    code, out = rx(node, deployment, "exception", "show", str(case), "--json")
    shown = json.loads(out)
    assert shown["status"] == ExceptionStatus.RESOLVED.name and shown["resolved_by"] == "OPENER"
    assert (shown["opener_name"], shown["counterparty_name"]) == ("wholesaler_a", "manufacturer")
    assert shown["evidence_hash"] == "0x" + keccak(photo.read_bytes()).hex()
    pack = net["auditor"].owners.pack_id(GTIN, "X4")
    assert shown["items_hash"] == "0x" + items_hash([pack]).hex()
    assert shown["answered_at"] is not None


def test_the_council_closes_an_exception_by_proposal(
    node: Anvil, deployment: Path, tmp_path: Path
) -> None:
    code, out = rx(node, deployment, "exception", "open", "packaging_labelling",
                   str(codes(tmp_path, "X1")), "--against", "manufacturer", "--as",
                   "wholesaler_b", "--json")  # fmt: skip
    case = json.loads(out)["id"]
    code, out = rx(node, deployment, "exception", "resolve", str(case), "--as", "regulator")
    assert (code, out) == (
        0,
        f"exception {case}: closure requested; a second regulator's resolve closes it\n",
    )
    code, out = rx(node, deployment, "exception", "resolve", str(case), "--as", "regulator",
                   "--council")  # fmt: skip
    assert code == 0 and "proposed as council proposal" in out, out
    proposal = out.split("council proposal ")[1].split(";")[0]
    code, out = rx(node, deployment, "council", "approve", proposal, "--as", "manufacturer")
    assert code == 0, out
    code, out = rx(node, deployment, "exception", "show", str(case))
    assert "resolved_by: COUNCIL" in out, out


#: step -> (CBV bizStep, disposition, the contract event anchoring the step's EPCIS event)
STEP_EVENTS = {
    "cancel": ("void_shipping", "in_progress", ev.ShipmentCancelled),
    "refuse": ("arriving", "returned", ev.ItemsRefused),
    "lost": ("transporting", "unknown", ev.ItemsLost),
    "found": ("transporting", "in_transit", ev.LostItemsFound),
}


def test_each_custody_step_keeps_a_valid_epcis_event_and_anchors_its_hash(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    m, w = net["manufacturer"], net["wholesaler_a"]
    m.commission(GTIN, "XL1", ["Y1", "Y2", "Y3"])
    m.ship(w.address, packs=[(GTIN, s) for s in ("Y1", "Y2", "Y3")])
    glns = {name: member_gln(m, net.address(name)) for name in ("manufacturer", "wholesaler_a")}
    steps = [
        ("cancel", "Y1", "--to", "wholesaler_a", "manufacturer"),
        ("refuse", "Y2", "--from", "manufacturer", "wholesaler_a"),
        ("lost", "Y3", "--to", "wholesaler_a", "manufacturer"),
        ("found", "Y3", "--to", "wholesaler_a", "manufacturer"),
    ]
    for step, serial, flag, other, actor in steps:
        code, out = rx(node, deployment, step, str(codes(tmp_path, serial)), flag, other,
                       "--as", actor)  # fmt: skip
        assert code == 0, out
        with EventStore(store_of(deployment)) as store:
            event = store.all_events()[-1]
            anchored_hash = event_hash(event)
            assert store.event(anchored_hash) is not None
        step_name, disposition, contract_event = STEP_EVENTS[step]
        assert (event["type"], event["action"]) == ("ObjectEvent", "OBSERVE")
        assert (event["bizStep"], event["disposition"]) == (step_name, disposition)
        assert event["epcList"] == [pack_uri((GTIN, serial))]
        assert event["sourceList"][0]["source"].endswith("/417/" + glns[actor])
        assert event["destinationList"][0]["destination"].endswith("/417/" + glns[other])
        check_document(to_epcis_json([event]))  # valid EPCIS 2.0 on its own
        anchors = AnchorIndex.load(m.w3, m.deployment).anchored(contract_event, anchored_hash)
        assert [e.pack_ids for e in anchors] == [(m.owners.pack_id(GTIN, serial),)]
