"""``rxledger council list|cancel``: proposals with their state and the approvals that count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_client.chain import connect, dev_account
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet
from tests.utils.cli import rx

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def deployed(node: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo network on the node; its deployment file."""
    path = tmp_path_factory.mktemp("dep") / "deployment.json"
    deploy_devnet(connect(node.url)).deployment.save(path)
    return path


@pytest.fixture
def deployment(node: Anvil, deployed: Path) -> Iterator[Path]:
    """The freshly deployed demo network, restored after the test (a node snapshot)."""
    w3 = connect(node.url)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield deployed
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def council(node: Anvil, deployment: Path, *args: str) -> tuple[int, str]:
    return rx(node, deployment, "council", *args)


def proposals(node: Anvil, deployment: Path) -> list[str]:
    code, out = council(node, deployment, "list")
    assert code == 0, out
    return out.splitlines()


def test_the_proposer_cancels_its_proposal_and_the_list_shows_it_cancelled(
    node: Anvil, deployment: Path
) -> None:
    code, out = council(
        node, deployment, "propose", "revokePrefix", '["9506000"]', "--as", "manufacturer"
    )
    assert (code, out.split()[:2]) == (0, ["proposal", "0"]), out
    listed = proposals(node, deployment)
    assert listed[0] == "1 proposals; a proposal runs at 2 approvals that count"
    assert listed[1].startswith('#0 revokePrefix("9506000") by manufacturer (0x')
    assert "open until" in listed[1] and listed[1].endswith("; 1 of 1 approvals count now")

    code, out = council(node, deployment, "cancel", "0", "--as", "regulator")
    assert code == 1 and "ConsortiumNotProposer: regulator (0x" in out, out
    assert "did not make proposal 0" in out
    assert council(node, deployment, "cancel", "0", "--as", "manufacturer") == (
        0,
        "proposal 0 cancelled\n",
    )
    assert ": cancelled; 1 of 1 approvals count now" in proposals(node, deployment)[1]
    code, out = council(node, deployment, "approve", "0", "--as", "regulator")
    assert code == 1 and "ConsortiumProposalClosed" in out and "cancelled already" in out, out


def test_the_list_counts_only_approvals_of_members_still_on_the_council(
    node: Anvil, deployment: Path
) -> None:
    newcomer = '["0x' + "42" * 20 + '", 4012351000013, 128, 4102444800]'
    council(node, deployment, "propose", "addMember", newcomer, "--as", "wholesaler_a")
    wholesaler = dev_account("wholesaler_a").address
    drop_council = f'["{wholesaler}", 4]'  # WHOLESALER only
    council(node, deployment, "propose", "setMemberRoles", drop_council, "--as", "manufacturer")
    code, out = council(node, deployment, "approve", "1", "--as", "regulator")
    assert (code, out) == (0, "proposal 1 approved; executed\n")

    listed = proposals(node, deployment)
    assert "open until" in listed[1]
    assert listed[1].endswith("; 0 of 1 approvals count now")  # wholesaler_a left the council
    assert "setMemberRoles" in listed[2] and ": executed; 2 of 2 approvals count now" in listed[2]
    code, out = council(node, deployment, "approve", "0", "--as", "regulator")
    assert (code, out) == (0, "proposal 0 approved; 1 of the 2 approvals it needs count now\n")
