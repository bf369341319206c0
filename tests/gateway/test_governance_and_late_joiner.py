"""The consortium governs itself on a real network and a partner joins late: on four geth
Clique signers, council members propose and approve from different partners' nodes with the
``rxledger council`` CLI (suspend a member, admit one, assign it a prefix, rotate a key); one
member alone is refused. A fifth node syncs from the others, its signer is voted in, it
seals, and a gateway started on it indexes the whole history from logs and answers as a
gateway on an old node does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from gateway_helpers import CONSOLE, CONSOLE_KEY, EXPIRY, GTIN, LOT, LiveServer, dm, operator_key
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from gateway.core.config import Settings
from gateway.db import models as m
from gateway.main import create_app
from ledger_client.chain import dev_account
from ledger_client.cli import app
from ledger_client.contracts import MemberStatus, Role
from ledger_client.dev.clique import CliqueNetwork, geth_binary
from ledger_client.dev.clique_join import add_node, signers, vote_in
from ledger_client.dev.rpc_proxy import StandardRpcProxy
from ledger_client.devnet import DevNetwork, demo_accounts, deploy_devnet
from ledger_client.ledger import Ledger
from ledger_client.logs import fetch_logs
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import Receipt
from tests.utils.factories import make_gtin

pytestmark = pytest.mark.network

JOINER, NEW_KEY = dev_account("logistics"), dev_account("outsider")
JOINER_PREFIX = "0614199"
JOINER_GTIN = make_gtin(JOINER_PREFIX, 1)
FAR_FUTURE = 4_102_444_800
CODES = [dm("G1"), dm("G2"), dm("J01", "J1", EXPIRY, JOINER_GTIN), dm("NOPE")]


@dataclass
class Consortium:
    network: CliqueNetwork
    net: DevNetwork
    deployment_file: Path
    keys: Path
    accounts: dict[str, LocalAccount]

    seen: tuple | None = None  # type: ignore[type-arg]

    def cli(self, node: int, member: str | None, *args: str) -> tuple[int, str]:
        """``rxledger council ARGS`` through node ``node``, as ``member`` when one acts, once
        every node shows the proposals the last command's node showed when it returned (a
        partner acts on what it sees). Agreeing on the head is not enough: with five
        signers a block holding the last write can be replaced by a sibling, and its
        transaction lands again a block or two later."""
        self.caught_up()
        argv = ["council", *args, "--rpc", self.network.nodes[node].url]
        argv += ["--deployment", str(self.deployment_file)]
        if member is not None:
            argv += ["--key-file", str(self.keys / f"{member}.key")]
        result = CliRunner().invoke(app, argv, env={"RXLEDGER_KEY": ""})
        self.seen = self.proposals(node)
        return result.exit_code, result.output

    def caught_up(self) -> None:
        """Wait until every node agrees on the head and shows the proposals the last
        command's node showed."""
        self.network.agreed_hash(max(self.network.heads().values()))
        if self.seen is not None:
            self.network.wait_until(
                lambda: all(self.proposals(i) == self.seen for i in self.network.running()),
                60.0,
                f"not every node shows the council's proposals as {self.seen}",
            )

    def proposals(self, node: int) -> tuple:  # type: ignore[type-arg]
        """Every council proposal, with its approvals and state, as node ``node`` sees it."""
        consortium = self.net.deployment.contract(self.network.w3(node), "Consortium")
        count = consortium.functions.proposalCount().call()
        return tuple(tuple(consortium.functions.proposal(i).call()) for i in range(count))

    def passed(self, node: int, member: str | None, *args: str) -> str:
        code, out = self.cli(node, member, *args)
        assert code == 0, out
        return out

    def on(self, node: int, name: str) -> Ledger:
        """``name``'s ledger writing through node ``node``."""
        return Ledger(self.network.w3(node), self.net.deployment, self.accounts[name])

    def landed(self, receipts: Receipt | list[Receipt]) -> None:
        """Wait until every node has the (last) write in the same block, before the next
        write builds on it."""
        last = receipts[-1] if isinstance(receipts, list) else receipts
        self.network.wait_for_transaction(last.tx_hash)

    def member(self, address: str, node: int) -> tuple:  # type: ignore[type-arg]
        consortium = self.net.deployment.contract(self.network.w3(node), "Consortium")
        return tuple(consortium.functions.member(address).call())

    def everywhere(self, address: str) -> set[tuple]:  # type: ignore[type-arg]
        """Member ``address`` as every running node sees it, once they have caught up."""
        self.caught_up()
        return {self.member(address, i) for i in self.network.running()}


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    geth_binary()
    root = tmp_path_factory.mktemp("consortium")
    funded = [*demo_accounts(), JOINER.address, NEW_KEY.address]
    with CliqueNetwork(size=4, period=2, funded=funded) as network:
        net = deploy_devnet(network.w3(0))
        net.deployment.save(root / "deployment.json")
        keys = root / "keys"
        keys.mkdir()
        accounts = {n: dev_account(n) for n in net.ledgers} | {"joiner": JOINER, "new_key": NEW_KEY}
        for name, account in accounts.items():
            (keys / f"{name}.key").write_text("0x" + bytes(account.key).hex())
            (keys / f"{name}.key").chmod(0o600)
        yield Consortium(network, net, root / "deployment.json", keys, accounts)


def test_one_council_member_alone_is_refused_and_two_on_other_nodes_suspend_a_member(
    consortium: Consortium,
) -> None:
    target = consortium.net.address("wholesaler_b")
    out = consortium.passed(0, "manufacturer", "propose", "setMemberStatus", f'["{target}", 2]')
    assert "proposal 0 created" in out
    code, out = consortium.cli(1, "manufacturer", "approve", "0")
    assert code == 1 and "ConsortiumAlreadyApproved" in out, out
    code, out = consortium.cli(2, "wholesaler_b", "approve", "0")
    assert code == 1 and "ConsortiumMissingRole" in out, out
    assert {s[3] for s in consortium.everywhere(target)} == {MemberStatus.ACTIVE}
    assert "1 of 1 approvals count now" in consortium.passed(3, None, "list")

    assert "executed" in consortium.passed(3, "regulator", "approve", "0")
    assert {s[3] for s in consortium.everywhere(target)} == {MemberStatus.SUSPENDED}


def test_a_late_node_syncs_is_voted_in_as_signer_and_its_member_is_admitted(
    consortium: Consortium,
) -> None:
    network = consortium.network
    joined = add_node(network)
    assert network.nodes[joined].signer.address not in signers(network)
    voters = vote_in(network, joined)
    assert len(voters) == 3 and network.nodes[joined].signer.address in signers(network, joined)
    assert network.wait_for_seal(joined) > 0

    roles = int(Role.MANUFACTURER)
    args = json.dumps([JOINER.address, 4012355000014, roles, FAR_FUTURE])
    assert "proposal 1 created" in consortium.passed(
        1, "wholesaler_a", "propose", "addMember", args
    )
    assert "executed" in consortium.passed(joined, "regulator", "approve", "1")
    args = json.dumps([JOINER_PREFIX, JOINER.address])
    assert "proposal 2 created" in consortium.passed(
        2, "regulator", "propose", "assignPrefix", args
    )
    assert "executed" in consortium.passed(joined, "manufacturer", "approve", "2")
    [state] = consortium.everywhere(JOINER.address)
    assert (state[2], state[3]) == (roles, MemberStatus.ACTIVE)

    joiner = consortium.on(joined, "joiner")
    consortium.landed(joiner.register_lot(JOINER_GTIN, "J1", int(EXPIRY)))
    consortium.landed(joiner.commission(JOINER_GTIN, "J1", ["J01", "J02"]))


def test_a_rotated_key_ships_what_the_member_holds_and_the_old_key_is_refused(
    consortium: Consortium,
) -> None:
    maker = consortium.on(0, "manufacturer")
    consortium.landed(maker.register_lot(GTIN, LOT, int(EXPIRY)))
    consortium.landed(maker.commission(GTIN, LOT, ["G1", "G2"]))
    args = json.dumps([maker.address, NEW_KEY.address])
    out = consortium.passed(1, "wholesaler_a", "propose", "rotateMemberKey", args)
    assert "proposal 3 created" in out
    assert "executed" in consortium.passed(3, "regulator", "approve", "3")
    assert {s[0] for s in consortium.everywhere(NEW_KEY.address)} == {NEW_KEY.address}

    pharmacy = consortium.net.address("pharmacy_a")
    with pytest.raises(LedgerRevertError) as caught:
        maker.ship(pharmacy, packs=[(GTIN, "G1")])
    assert caught.value.error == "ConsortiumNotMember"
    consortium.landed(consortium.on(2, "new_key").ship(pharmacy, packs=[(GTIN, "G1")]))
    consortium.landed(consortium.on(3, "pharmacy_a").receive(packs=[(GTIN, "G1")]))


def _index_and_verify(
    consortium: Consortium, url: str, operator: str, db: Path, upto: int
) -> tuple[int, list[tuple[str, str | None]]]:
    """Run a gateway on the node at ``url`` until it has indexed block ``upto``; return how
    many events it indexed up to there and its (status, custodian) answers for CODES."""
    settings = Settings(
        environment="local",
        chain_url=url,
        deployment_file=consortium.deployment_file,
        database_url=f"sqlite:///{db}",
        index_poll_seconds=0.2,
        operator_key=operator,
        console_key=CONSOLE_KEY,
        token_secret="t" * 40,
    )  # type: ignore[call-arg]
    gateway = create_app(settings)
    with LiveServer(gateway) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        deadline = time.monotonic() + 120
        while gateway.state.rx.readmodel.indexed_block(0) < upto:
            assert time.monotonic() < deadline, client.get("/readyz").text
            time.sleep(0.2)
        shown = [
            client.get("/v1/verify", params={"code": c}, headers=CONSOLE).json() for c in CODES
        ]
    with create_engine(f"sqlite:///{db}").connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(m.ChainEvent).where(m.ChainEvent.block_number <= upto)
        ).scalar_one()
    return count, [(a["status"], (a.get("pack") or {}).get("custodian")) for a in shown]


def test_a_gateway_on_the_late_node_indexes_the_whole_history_as_one_on_an_old_node_does(
    consortium: Consortium, tmp_path: Path
) -> None:
    """The late node's gateway reaches its node through the standard-only proxy: it needs
    nothing else on Clique either."""
    network, deployment = consortium.network, consortium.net.deployment
    joined = len(network.nodes) - 1
    upto = max(network.heads().values())
    old = _index_and_verify(
        consortium, network.nodes[0].url, operator_key("pharmacy_a"), tmp_path / "old.db", upto
    )
    with StandardRpcProxy(network.nodes[joined].url) as proxy:
        late_key = "0x" + JOINER.key.hex()
        late = _index_and_verify(consortium, proxy.url, late_key, tmp_path / "late.db", upto)
    assert proxy.refused == {} and proxy.forwarded["eth_getLogs"] > 0
    logs = fetch_logs(network.w3(joined), deployment, from_block=deployment.block, to_block=upto)
    assert old == late
    count, answers = late
    assert count == len(logs)
    assert answers == [
        ("VERIFIED", consortium.net.address("pharmacy_a")),
        ("VERIFIED", NEW_KEY.address),
        ("VERIFIED", JOINER.address),
        ("UNKNOWN", None),
    ]
