"""The rxledger CLI and the client against a real anvil node, including a node restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from ledger_client.chain import connect
from ledger_client.cli import app
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.ledger import Ledger
from ledger_client.types import PackStatus
from tests.utils.factories import WHOLESALER_A_PREFIX, make_gtin
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
GTIN = "09506000134352"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    state = tmp_path_factory.mktemp("anvil") / "state.json"
    with Anvil(port=free_port(), state_file=state) as anvil:
        yield anvil


@pytest.fixture(scope="module")
def net(node: Anvil, tmp_path_factory: pytest.TempPathFactory) -> DevNetwork:
    network = deploy_devnet(connect(node.url))
    network.deployment.save(tmp_path_factory.mktemp("dep") / "deployment.json")
    return network


def _cli(node: Anvil, deployment: Path, *args: str) -> tuple[int, str]:
    store = {"RXLEDGER_EPCIS_STORE": str(deployment.with_name("epcis.sqlite"))}
    args = (*args, "--rpc", node.url, "--deployment", str(deployment))
    result = CliRunner().invoke(app, args, env=store)
    return result.exit_code, result.output


def test_cli_runs_a_lifecycle_from_code_files(node: Anvil, net: DevNetwork, tmp_path: Path) -> None:
    deployment = tmp_path / "deployment.json"
    net.deployment.save(deployment)
    codes = tmp_path / "codes.txt"
    codes.write_text("".join(f"(01){GTIN}(17)281231(10)CLI1(21)C{i}\n" for i in range(30)))
    assert (
        _cli(node, deployment, "lot", "register", GTIN, "CLI1", "281231", "--as", "manufacturer")[0]
        == 0
    )
    code, out = _cli(node, deployment, "commission", str(codes), "--as", "manufacturer", "--json")
    assert code == 0, out
    assert '"items": 30' in out
    one = tmp_path / "one.csv"
    one.write_text(f"code\n(01){GTIN}(17)281231(10)CLI1(21)C7\n")
    assert (
        _cli(node, deployment, "ship", str(one), "--to", "pharmacy_a", "--as", "manufacturer")[0]
        == 0
    )
    assert _cli(node, deployment, "receive", str(one), "--as", "pharmacy_a")[0] == 0
    code, out = _cli(
        node, deployment, "verify", f"https://id.gs1.org/01/{GTIN}/10/CLI1/21/C7?17=281231"
    )
    assert (code, "VERIFIED" in out) == (0, True)
    assert (
        _cli(
            node,
            deployment,
            "decommission",
            str(one),
            "--reason",
            "dispensed",
            "--as",
            "pharmacy_a",
        )[0]
        == 0
    )
    code, out = _cli(node, deployment, "verify", f"(01){GTIN}(21)C7", "--json")
    assert code == 3 and '"status": "DECOMMISSIONED"' in out


def test_cli_commissions_counter_serials_with_a_warning_on_stderr(
    node: Anvil, net: DevNetwork, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment.json"
    net.deployment.save(deployment)
    store = {"RXLEDGER_EPCIS_STORE": str(tmp_path / "epcis.sqlite")}
    common = ("--as", "manufacturer", "--rpc", node.url, "--deployment", str(deployment))
    assert _cli(node, deployment, "lot", "register", GTIN, "WEAKCLI", "281231", *common[:2])[0] == 0
    runner = CliRunner()
    counter = tmp_path / "counter.txt"
    counter.write_text("".join(f"(01){GTIN}(10)WEAKCLI(21)W{i:06d}\n" for i in range(5)))
    result = runner.invoke(app, ["commission", str(counter), "--json", *common], env=store)
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "5 of 5 follow a counter" in result.stderr
    assert '"items": 5' in result.stdout and "warning" not in result.stdout
    assert net["manufacturer"].pack_state(GTIN, "W000003").status == PackStatus.ACTIVE
    strong = tmp_path / "strong.txt"
    strong.write_text(f"(01){GTIN}(10)WEAKCLI(21)q7XfT2mLr9ZbW4kNcP8d\n")
    result = runner.invoke(app, ["commission", str(strong), *common], env=store)
    assert (result.exit_code, result.stderr) == (0, ""), result.output


def test_cli_rejects_a_malformed_code_with_its_line_and_writes_nothing(
    node: Anvil, net: DevNetwork, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment.json"
    net.deployment.save(deployment)
    codes = tmp_path / "codes.txt"
    codes.write_text(f"(01){GTIN}(17)281231(10)CLI1(21)OK1\n(01)09506000134353(10)CLI1(21)BAD\n")
    code, out = _cli(node, deployment, "commission", str(codes), "--as", "manufacturer")
    assert code == 2
    assert "codes.txt:2" in out and "check digit" in out
    assert net["manufacturer"].pack_state(GTIN, "OK1").status == PackStatus.NONE


def test_cli_names_the_contract_error_for_a_forbidden_step(
    node: Anvil, net: DevNetwork, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment.json"
    net.deployment.save(deployment)
    own = make_gtin(WHOLESALER_A_PREFIX, 1)  # its own prefix, but not a producer's role
    code, out = _cli(
        node, deployment, "lot", "register", own, "NOPE", "281231", "--as", "wholesaler_a"
    )
    assert code == 1
    assert "ConsortiumMissingRole" in out


def test_node_restart_mid_batch_resumes_without_double_writes(node: Anvil, net: DevNetwork) -> None:
    maker = Ledger(
        connect(node.url),
        net.deployment,
        net["manufacturer"].account,
        batch_size=20,
        retry_delay=1.0,
    )
    maker.register_lot(GTIN, "RESTART", "281231")
    chunks: list[int] = []

    def restart_after_second_chunk(size: int) -> None:
        chunks.append(size)
        if len(chunks) == 2:  # the node goes down while the rest of the batch is on its way
            node.stop()
            threading.Timer(0.5, node.start).start()

    serials = [f"R{i}" for i in range(100)]
    receipts = maker.commission(GTIN, "RESTART", serials, progress=restart_after_second_chunk)
    assert chunks == [20] * 5
    assert all(maker.pack_state(GTIN, s).status == PackStatus.ACTIVE for s in serials)
    committed = sum(
        len(e.args["packIds"]) for r in receipts for e in r.events if e.name == "PacksCommissioned"
    )
    assert committed == 100


def test_the_provider_does_not_retry_the_ledger_batch_does(node: Anvil) -> None:
    assert connect(node.url).provider.exception_retry_configuration is None


def test_a_send_whose_answer_is_lost_is_checked_not_resent(node: Anvil, net: DevNetwork) -> None:
    """The node takes a transaction but its answer never arrives: the batch finds it on chain
    and goes on; nothing resends it (web3's default retry would, and fail on the duplicate)."""
    w3 = connect(node.url)
    maker = Ledger(w3, net.deployment, net["manufacturer"].account, batch_size=10)
    maker.retry_delay = 0.1
    maker.register_lot(GTIN, "LOST", "281231")
    sessions = w3.provider._request_session_manager  # type: ignore[attr-defined]
    real_post = sessions.make_post_request
    sends: list[bytes] = []

    def lose_second_answer(uri: str, data: bytes, **kwargs: Any) -> bytes:
        answer = real_post(uri, data, **kwargs)
        if b'"eth_sendRawTransaction"' in data:
            sends.append(data)
            if len(sends) == 2:
                raise requests.Timeout("the answer was lost")
        return answer

    sessions.make_post_request = lose_second_answer
    serials = [f"L{i}" for i in range(30)]
    receipts = maker.commission(GTIN, "LOST", serials)
    assert len(sends) == 3  # one per batch of 10: the one whose answer was lost was not resent
    assert len(receipts) == 3  # its receipt found by the hash signed here
    assert all(maker.pack_state(GTIN, s).status == PackStatus.ACTIVE for s in serials)


def test_cli_council_adds_a_member_only_after_two_approvals(
    node: Anvil, net: DevNetwork, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment.json"
    net.deployment.save(deployment)
    newcomer = "0x" + "42" * 20
    args = f'["{newcomer}", 4012351000013, 4, 4102444800]'
    code, out = _cli(
        node, deployment, "council", "propose", "addMember", args, "--as", "manufacturer"
    )
    assert code == 0, out
    proposal = int(out.split()[1])
    consortium = net["manufacturer"].consortium
    assert consortium.functions.member(newcomer).call()[3] == 0  # not a member yet
    code, out = _cli(node, deployment, "council", "approve", str(proposal), "--as", "regulator")
    assert (code, "executed" in out) == (0, True)
    assert consortium.functions.member(newcomer).call()[3] == 1  # ACTIVE
    code, out = _cli(node, deployment, "council", "approve", str(proposal), "--as", "wholesaler_a")
    assert code == 1 and "ConsortiumProposalClosed" in out
