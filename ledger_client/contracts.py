"""Contract artifacts, deployment of an RxLedger network, and deployment files."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from ledger_client._paths import ARTIFACTS_DIR
from ledger_client.errors import ConfigurationError
from ledger_client.reverts import RevertDecoder


class Role(enum.IntFlag):
    """Member roles, the bits of ``contracts/libraries/Roles.sol``."""

    MANUFACTURER = 1 << 0
    REPACKAGER = 1 << 1
    WHOLESALER = 1 << 2
    LOGISTICS = 1 << 3
    DISPENSER = 1 << 4
    REGULATOR = 1 << 5
    AUDITOR = 1 << 6
    COUNCIL = 1 << 7
    REVERSE_DISTRIBUTOR = 1 << 8


#: ``Roles.SUPPLY_CHAIN``: the roles that hold, ship and receive product, the trading
#: partners of DSCSA (manufacturer, repackager, wholesale distributor, third-party logistics
#: provider, dispenser, reverse distributor).
SUPPLY_CHAIN_ROLES = (
    Role.MANUFACTURER
    | Role.REPACKAGER
    | Role.WHOLESALER
    | Role.LOGISTICS
    | Role.DISPENSER
    | Role.REVERSE_DISTRIBUTOR
)


class MemberStatus(enum.IntEnum):
    """Consortium member status."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


@cache
def artifact(name: str) -> dict[str, Any]:
    """Return the committed ABI and bytecode of contract ``name``."""
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise ConfigurationError(f"no artifact {path}: run `make compile`")
    return dict(json.loads(path.read_text()))


#: The contracts of a deployment.
CONTRACTS = (
    "Consortium",
    "ProductDirectory",
    "SerialRegistry",
    "AccessGrants",
    "ExceptionRegistry",
    "RxForwarder",
)


@cache
def revert_decoder() -> RevertDecoder:
    """Return a decoder for the custom errors of every RxLedger contract."""
    return RevertDecoder(artifact(n)["abi"] for n in CONTRACTS)


@dataclass(frozen=True)
class MemberSpec:
    """A member to bootstrap: who, their GLN, roles, licence expiry and GS1 company prefixes."""

    name: str
    address: str
    gln: int
    roles: Role
    licence_expiry: int
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deployment:
    """Where a network's contracts live (``block``: the first block of the deployment, where
    an event reader starts); saved as a JSON deployment file."""

    chain_id: int
    forwarder: str
    consortium: str
    directory: str
    registry: str
    grants: str
    exceptions: str
    block: int
    members: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write this deployment to ``path`` as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a deployment file written by :meth:`save`."""
        if not path.is_file():
            raise ConfigurationError(f"no deployment file at {path}")
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:  # not JSON, or not UTF-8
            raise ConfigurationError(f"{path} is not a deployment file: {exc}") from None
        names = [f.name for f in fields(cls)]
        if not isinstance(data, dict) or not data.keys() <= set(names):
            raise ConfigurationError(
                f"{path} is not a deployment file: expected a JSON object of {', '.join(names)}"
            )
        try:
            return cls(**data)
        except TypeError:
            missing = ", ".join(n for n in names if n not in data and n != "members")
            raise ConfigurationError(f"{path} is not a deployment file: no {missing}") from None

    def contract(self, w3: Web3, name: str) -> Contract:
        """Return a web3 contract object for ``name`` of this deployment."""
        address = {
            "RxForwarder": self.forwarder,
            "Consortium": self.consortium,
            "ProductDirectory": self.directory,
            "SerialRegistry": self.registry,
            "AccessGrants": self.grants,
            "ExceptionRegistry": self.exceptions,
        }[name]
        return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact(name)["abi"])

    @property
    def event_sources(self) -> list[str]:
        """The checksummed addresses of the contracts whose events readers follow."""
        return [
            Web3.to_checksum_address(a)
            for a in (self.consortium, self.directory, self.registry, self.grants, self.exceptions)
        ]

    def is_live(self, w3: Web3) -> bool:
        """Return True when ``w3`` is the chain of this deployment and its contracts exist."""
        return (
            w3.eth.chain_id == self.chain_id
            and len(w3.eth.get_code(Web3.to_checksum_address(self.registry))) > 0
        )


def deploy_contract(w3: Web3, deployer: LocalAccount, name: str, *args: Any) -> Contract:
    """Deploy contract ``name`` with constructor ``args`` from ``deployer``; return it."""
    compiled = artifact(name)
    factory = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    tx = factory.constructor(*args).build_transaction(
        {
            "from": deployer.address,
            "nonce": w3.eth.get_transaction_count(deployer.address, "pending"),
        }
    )
    signed = deployer.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction)
    )
    if receipt["status"] != 1:
        raise ConfigurationError(
            f"deploying {name} failed in transaction {receipt['transactionHash']!r}"
        )
    return w3.eth.contract(address=receipt["contractAddress"], abi=compiled["abi"])  # type: ignore[return-value]


def deploy_network(
    w3: Web3, deployer: LocalAccount, members: list[MemberSpec], threshold: int
) -> Deployment:
    """Deploy forwarder, consortium (with ``members``), product directory, registry, the
    access grants and the exception registry.

    The deployer keeps no power over them: it is only the account that paid for deployment.
    """
    first_block = w3.eth.block_number + 1
    forwarder = deploy_contract(w3, deployer, "RxForwarder")
    bootstrap = [
        (m.address, m.gln, int(m.roles), m.licence_expiry, list(m.prefixes)) for m in members
    ]
    consortium = deploy_contract(
        w3, deployer, "Consortium", forwarder.address, bootstrap, threshold
    )
    directory = deploy_contract(
        w3, deployer, "ProductDirectory", forwarder.address, consortium.address
    )
    registry = deploy_contract(
        w3, deployer, "SerialRegistry", forwarder.address, consortium.address
    )
    grants = deploy_contract(
        w3, deployer, "AccessGrants", forwarder.address, consortium.address, registry.address
    )
    exceptions = deploy_contract(
        w3, deployer, "ExceptionRegistry", forwarder.address, consortium.address
    )
    return Deployment(
        chain_id=w3.eth.chain_id,
        forwarder=forwarder.address,
        consortium=consortium.address,
        directory=directory.address,
        registry=registry.address,
        grants=grants.address,
        exceptions=exceptions.address,
        block=first_block,
        members={m.name: m.address for m in members},
    )
