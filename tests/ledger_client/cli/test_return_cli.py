"""``rxledger return`` on an anvil node: a wholesaler verifies packs a pharmacy sent back and
receives those that pass, in one command; a second run writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger_client.chain import connect
from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.epcis.store import EventStore

pytestmark = pytest.mark.anvil
GTIN, LOT, EXPIRY = "09506000134352", "RCL", "301231"


@pytest.fixture(scope="module")
def net(node: Anvil) -> DevNetwork:
    """RC1-RC3 went from the manufacturer through wholesaler A to pharmacy A, which shipped
    RC1 and RC2 back."""
    net = deploy_devnet(connect(node.url))
    m, w, p = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    packs = [(GTIN, s) for s in ("RC1", "RC2", "RC3")]
    m.register_lot(GTIN, LOT, EXPIRY)
    m.commission(GTIN, LOT, [s for _, s in packs])
    for sender, receiver in ((m, w), (w, p)):
        sender.ship(receiver.address, packs=packs)
        receiver.receive(packs=packs)
    p.ship(w.address, packs=packs[:2])
    return net


def scans(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "returned.txt"
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def pack(serial: str, expiry: str = EXPIRY) -> str:
    return f"(01){GTIN}(17){expiry}(10){LOT}(21){serial}"


def rx(node: Anvil, deployment: Path, *args: str) -> tuple[int, str]:
    store = deployment.parent / "epcis.sqlite"
    argv = [*args, "--rpc", node.url, "--deployment", str(deployment), "--store", str(store)]
    result = CliRunner().invoke(app, argv, env={"RXLEDGER_KEY": ""})
    return result.exit_code, result.output


def test_a_return_receives_what_passes_and_says_why_the_rest_does_not(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    file = scans(tmp_path, pack("RC1"), pack("RC2", expiry="301130"), pack("RC3"))
    code, out = rx(node, deployment, "return", file, "--from", "pharmacy_a",
                   "--as", "wholesaler_a", "--json")  # fmt: skip
    assert code == 3, out
    items = {i["code"].rsplit("(21)", 1)[1]: i for i in json.loads(out)["items"]}
    assert (items["RC1"]["status"], items["RC1"]["received"]) == ("RECEIVABLE", True)
    assert (items["RC2"]["status"], items["RC2"]["received"]) == ("EXPIRY_MISMATCH", False)
    assert items["RC3"]["status"] == "NOT_SHIPPED"
    assert items["RC3"]["reason"].startswith("held by pharmacy_a and not shipped to you")
    auditor = net["auditor"]
    assert auditor.pack_state(GTIN, "RC1").custodian == net.address("wholesaler_a")
    assert auditor.pack_state(GTIN, "RC2").in_transit
    with EventStore(deployment.parent / "epcis.sqlite") as store:
        assert store.all_events()[-1]["bizStep"] == "receiving"


def test_a_second_run_writes_nothing_and_check_only_receives_nothing(
    node: Anvil, deployment: Path, net: DevNetwork, tmp_path: Path
) -> None:
    w3 = net["auditor"].w3
    before = w3.eth.block_number
    code, out = rx(node, deployment, "return", scans(tmp_path, pack("RC1")), "--as",
                   "wholesaler_a")  # fmt: skip
    assert code == 0 and "ALREADY_RECEIVED" in out and "0 of 1 packs received" in out, out
    code, out = rx(node, deployment, "return", scans(tmp_path, pack("RC2")), "--check",
                   "--as", "wholesaler_a")  # fmt: skip
    assert code == 0 and "RECEIVABLE  not received" in out, out
    assert w3.eth.block_number == before and net["auditor"].pack_state(GTIN, "RC2").in_transit


def test_bad_input_is_refused_before_anything_is_sent(
    node: Anvil, deployment: Path, tmp_path: Path
) -> None:
    code, out = rx(node, deployment, "return", scans(tmp_path, pack("RC2")), "--from", "nobody",
                   "--as", "wholesaler_a")  # fmt: skip
    assert code == 2 and "nobody" in out, out
    code, out = rx(node, deployment, "return", scans(tmp_path, "(00)106141411234567897"),
                   "--as", "wholesaler_a")  # fmt: skip
    assert code == 2 and "pack by pack" in out, out
