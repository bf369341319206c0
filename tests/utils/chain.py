"""The session's dev chain: the demo consortium on eth-tester, snapshots and time travel."""

from __future__ import annotations

from dataclasses import dataclass

from eth_tester import EthereumTester
from web3 import Web3

from ledger_client.chain import dev_account
from ledger_client.devnet import DevNetwork
from ledger_client.ledger import Ledger

#: Funded dev accounts that are not members at deployment (added by governance in tests).
EXTRA_ACCOUNTS = ("logistics", "outsider", "suspended", "revoked", "expired")


@dataclass
class Chain:
    """The session's eth-tester chain with the demo consortium deployed on it."""

    w3: Web3
    net: DevNetwork
    deployed: int
    """Snapshot id of the freshly deployed network."""

    @property
    def tester(self) -> EthereumTester:
        """The eth-tester instance behind the provider."""
        return self.w3.provider.ethereum_tester  # type: ignore[attr-defined,no-any-return]

    def snapshot(self) -> int:
        """Snapshot the current state; return its id."""
        return int(self.tester.take_snapshot())

    def revert(self, snapshot: int) -> None:
        """Restore the state of ``snapshot`` (may be done any number of times)."""
        self.tester.revert_to_snapshot(snapshot)

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def time_travel(self, timestamp: int) -> None:
        """Move chain time forwards: views of the latest block see ``timestamp``, and
        transactions run after it."""
        # eth-tester mines a block one second before the target and sets the pending block to it.
        self.tester.time_travel(timestamp + 1)

    def advance(self, seconds: int) -> None:
        """Move chain time ``seconds`` forwards."""
        self.time_travel(self.now() + seconds)

    def ledger(self, name: str) -> Ledger:
        """A :class:`Ledger` for dev account ``name`` (a demo member or an extra account)."""
        if name in self.net.ledgers:
            return self.net[name]
        return Ledger(self.w3, self.net.deployment, dev_account(name))
