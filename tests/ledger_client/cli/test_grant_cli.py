"""``rxledger grant add|revoke|list``: the owner's grants, the council's by proposal, refusals
in words, and the list read from the chain's events."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet
from tests.utils.cli import rx

pytestmark = pytest.mark.anvil
GTIN = "09506000134352"


@pytest.fixture(scope="module")
def deployment(node: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo network with the manufacturer's lot GL1."""
    path = tmp_path_factory.mktemp("dep") / "deployment.json"
    net = deploy_devnet(connect(node.url))
    net["manufacturer"].register_lot(GTIN, "GL1", "301231")
    net.deployment.save(path)
    return path


def listed(node: Anvil, deployment: Path) -> list[str]:
    code, out = rx(node, deployment, "grant", "list", GTIN, "GL1")
    assert code == 0, out
    return out.splitlines()


def test_owner_grants_and_revokes_others_are_refused(node: Anvil, deployment: Path) -> None:
    code, out = rx(
        node, deployment, "grant", "add", GTIN, "GL1", "auditor", "--as", "manufacturer",
        "--until", "2099-01-01T00:00:00Z",
    )  # fmt: skip
    assert (code, out) == (
        0,
        f"grant of lot GL1 of {GTIN} to auditor until 2099-01-01 00:00:00 UTC: done\n",
    )
    lines = listed(node, deployment)
    assert lines[0] == "1 grants"
    assert lines[1].endswith(": auditor, granted by manufacturer, until 2099-01-01 00:00:00 UTC")
    code, out = rx(
        node, deployment, "grant", "revoke", GTIN, "GL1", "auditor", "--as", "pharmacy_a"
    )
    assert code == 1 and "AccessGrantsNotLotOwner" in out and "does not own" in out, out
    code, out = rx(
        node, deployment, "grant", "add", GTIN, "GL1", "wholesaler_a", "--as", "manufacturer"
    )
    assert code == 1 and "is not an active, licensed auditor" in out, out
    code, out = rx(
        node, deployment, "grant", "revoke", GTIN, "GL1", "auditor", "--as", "manufacturer"
    )
    assert code == 0, out
    assert listed(node, deployment) == ["0 grants"]


def test_the_council_grants_by_proposal(node: Anvil, deployment: Path) -> None:
    code, out = rx(
        node,
        deployment,
        "grant",
        "add",
        GTIN,
        "GL1",
        "auditor",
        "--council",
        "--as",
        "wholesaler_a",
    )
    assert code == 0 and "proposed as council proposal" in out, out
    proposal = out.split("council proposal ")[1].split(";")[0]
    assert listed(node, deployment) == ["0 grants"]  # not before the council approves
    code, out = rx(node, deployment, "council", "approve", proposal, "--as", "regulator")
    assert (code, out) == (0, f"proposal {proposal} approved; executed\n")
    assert listed(node, deployment)[1].endswith(": auditor, granted by the council, until revoked")
    code, out = rx(
        node, deployment, "grant", "revoke", GTIN, "GL1", "auditor", "--as", "manufacturer"
    )
    assert code == 1 and "made by the council" in out, out


def test_a_bad_expiry_is_refused_before_anything_is_sent(node: Anvil, deployment: Path) -> None:
    code, out = rx(
        node, deployment, "grant", "add", GTIN, "GL1", "auditor", "--until", "tomorrow",
        "--as", "manufacturer",
    )  # fmt: skip
    assert code == 2 and "--until 'tomorrow' is not a time" in out, out
