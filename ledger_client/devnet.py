"""The demo consortium: deterministic dev keys, deployed and funded on a dev chain.

Used by the demo scenario, the tests and the benchmarks. Never use these keys on a real
network: anyone can derive them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from web3 import Web3

from ledger_client.chain import dev_account, fund
from ledger_client.contracts import Deployment, MemberSpec, Role, deploy_network
from ledger_client.ids import with_check_digit
from ledger_client.ledger import Ledger

FIVE_YEARS = 5 * 365 * 24 * 3600


def gln(base12: str) -> int:
    """Return the 13-digit GLN for ``base12`` with its check digit, as an integer."""
    return int(with_check_digit(base12))


#: name → (roles, GLN base, GS1 company prefixes)
DEMO_MEMBERS: dict[str, tuple[Role, str, tuple[str, ...]]] = {
    "manufacturer": (Role.MANUFACTURER | Role.COUNCIL, "061414100001", ("0614141", "9506000")),
    "repackager": (Role.REPACKAGER, "061414200001", ("0614142",)),
    "wholesaler_a": (Role.WHOLESALER | Role.COUNCIL, "401234500001", ("4012345",)),
    "wholesaler_b": (Role.WHOLESALER, "401234600001", ("4012346",)),
    "pharmacy_a": (Role.DISPENSER, "401234700001", ()),
    "pharmacy_b": (Role.DISPENSER, "401234800001", ()),
    "regulator": (Role.REGULATOR | Role.COUNCIL, "401234900001", ()),
    "auditor": (Role.AUDITOR, "401235000001", ()),
}
DEMO_THRESHOLD = 2


def demo_index(name: str) -> int:
    """The member index :func:`deploy_devnet` gives demo member ``name`` (members join in the
    order of :data:`DEMO_MEMBERS`): the owner index of the records it creates."""
    return list(DEMO_MEMBERS).index(name) + 1


@dataclass
class DevNetwork:
    """A deployed demo consortium and a :class:`Ledger` per member."""

    deployment: Deployment
    ledgers: dict[str, Ledger]

    def __getitem__(self, name: str) -> Ledger:
        return self.ledgers[name]

    def address(self, name: str) -> str:
        """Return the account address of member ``name``."""
        return self.ledgers[name].address


def member_specs(now: int | None = None) -> list[MemberSpec]:
    """Return the demo members with licences valid for five years from ``now``."""
    expiry = (now or int(time.time())) + FIVE_YEARS
    return [
        MemberSpec(name, dev_account(name).address, gln(base), roles, expiry, prefixes)
        for name, (roles, base, prefixes) in DEMO_MEMBERS.items()
    ]


def ledgers_for(w3: Web3, deployment: Deployment, batch_size: int = 500) -> dict[str, Ledger]:
    """Return a :class:`Ledger` for every demo member of ``deployment``."""
    return {name: Ledger(w3, deployment, dev_account(name), batch_size) for name in DEMO_MEMBERS}


def demo_accounts() -> list[str]:
    """The addresses a dev chain funds for the demo: the deployer's and every member's."""
    return [dev_account(name).address for name in ("deployer", *DEMO_MEMBERS)]


def deploy_devnet(w3: Web3, batch_size: int = 500) -> DevNetwork:
    """Fund the demo keys (unless funded already, as in a genesis) and deploy the demo
    consortium on a dev chain."""
    deployer = dev_account("deployer")
    fund(w3, demo_accounts())
    now = int(w3.eth.get_block("latest")["timestamp"])
    deployment = deploy_network(w3, deployer, member_specs(now), DEMO_THRESHOLD)
    return DevNetwork(deployment, ledgers_for(w3, deployment, batch_size))
