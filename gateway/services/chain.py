"""The gateway's handle on the chain: web3, the deployment's contracts, the operator's Ledger."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.providers.eth_tester import EthereumTesterProvider

from gateway.core.config import Settings
from ledger_client.chain import connect
from ledger_client.contracts import Deployment, MemberStatus, Role
from ledger_client.ledger import Ledger
from ledger_client.lot_keys import ledger_keys


def serialise_provider(w3: Web3) -> Web3:
    """Make an in-process eth-tester chain safe to share between threads (it is not by itself)."""
    provider = w3.provider
    if isinstance(provider, EthereumTesterProvider) and not getattr(provider, "_rx_locked", False):
        lock = threading.RLock()
        original = provider.make_request

        def locked(method: Any, params: Any) -> Any:
            with lock:
                return original(method, params)

        provider.make_request = locked  # type: ignore[method-assign]
        provider._rx_locked = True  # type: ignore[attr-defined]
    return w3


@dataclass(frozen=True)
class MemberInfo:
    """A member as the Consortium contract reports it now."""

    address: str
    roles: Role
    status: MemberStatus
    licence_expiry: int


@dataclass
class Chain:
    """Contracts of one deployment on one chain, and the operator's signing Ledger if any."""

    w3: Web3
    deployment: Deployment
    operator: Ledger | None = None
    registry: Contract = field(init=False)
    consortium: Contract = field(init=False)
    directory: Contract = field(init=False)
    grants: Contract = field(init=False)
    exceptions: Contract = field(init=False)

    def __post_init__(self) -> None:
        serialise_provider(self.w3)
        self.registry = self.deployment.contract(self.w3, "SerialRegistry")
        self.consortium = self.deployment.contract(self.w3, "Consortium")
        self.directory = self.deployment.contract(self.w3, "ProductDirectory")
        self.grants = self.deployment.contract(self.w3, "AccessGrants")
        self.exceptions = self.deployment.contract(self.w3, "ExceptionRegistry")

    @classmethod
    def from_settings(cls, settings: Settings, w3: Web3 | None = None) -> Chain:
        """Connect to ``settings.chain_url`` (or use ``w3``) and load the deployment file."""
        w3 = w3 or connect(settings.chain_url)
        deployment = Deployment.load(settings.deployment_file)
        account = settings.operator
        if account is None:
            return cls(w3, deployment, None)
        consortium = deployment.contract(w3, "Consortium")
        own, others = ledger_keys(settings.lot_keys_file, account.address, consortium)
        return cls(w3, deployment, Ledger(w3, deployment, account, lot_key=own, lot_keys=others))

    @property
    def contract_addresses(self) -> list[ChecksumAddress]:
        """Addresses whose logs the indexer follows."""
        return [Web3.to_checksum_address(a) for a in self.deployment.event_sources]

    def member(self, address: str) -> MemberInfo:
        """Return ``address``'s membership as the Consortium contract holds it now."""
        m = self.consortium.functions.member(Web3.to_checksum_address(address)).call()
        return MemberInfo(Web3.to_checksum_address(address), Role(m[2]), MemberStatus(m[3]), m[4])

    def now(self) -> float:
        """The chain's time: the latest block's timestamp (the wall clock when the node does
        not answer, as licences are judged)."""
        try:
            return float(self.w3.eth.get_block("latest")["timestamp"])
        except Exception:  # noqa: BLE001 - any transport failure: fall back to the wall clock
            return time.time()

    def reachable(self) -> bool:
        """Return True when the node answers and the deployment's contracts exist."""
        try:
            return self.deployment.is_live(self.w3)
        except Exception:  # noqa: BLE001 - any transport failure means not reachable
            return False
