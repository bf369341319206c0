"""Configuration for a production network: Hyperledger Besu with QBFT consensus, zero gas
price, and node and account allow-lists, generated from the consortium's member list."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp
from eth_utils import to_bytes, to_checksum_address

#: 300M gas a block: batches of thousands of packs in one transaction.
BLOCK_GAS_LIMIT = 300_000_000


@dataclass(frozen=True)
class Validator:
    """A consortium node that seals blocks: its node address and its enode URL."""

    name: str
    node_address: str
    enode: str


@dataclass(frozen=True)
class NetworkSpec:
    """What the consortium agrees on before genesis."""

    chain_id: int
    validators: tuple[Validator, ...]
    accounts: tuple[str, ...]
    block_period_seconds: int = 2

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetworkSpec:
        """Read a spec: ``{"chain_id", "validators": [{"name", "node_address", "enode"}],
        "accounts": [addresses allowed to send transactions]}``."""
        return cls(
            chain_id=int(data["chain_id"]),
            validators=tuple(Validator(**v) for v in data["validators"]),
            accounts=tuple(to_checksum_address(a) for a in data["accounts"]),
            block_period_seconds=int(data.get("block_period_seconds", 2)),
        )


def qbft_extra_data(validators: list[str]) -> str:
    """Return the genesis ``extraData`` of a QBFT network: RLP of
    [32-byte vanity, validator addresses, no vote, round 0, no seals]."""
    addresses = [to_bytes(hexstr=v) for v in validators]
    return "0x" + rlp.encode([b"\x00" * 32, addresses, [], 0, []]).hex()


def genesis(spec: NetworkSpec) -> dict[str, Any]:
    """Return the Besu genesis file of ``spec``: QBFT, zero base fee, high gas limit."""
    return {
        "config": {
            "chainId": spec.chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            "zeroBaseFee": True,
            "contractSizeLimit": 49152,
            "qbft": {
                "blockperiodseconds": spec.block_period_seconds,
                "epochlength": 30000,
                "requesttimeoutseconds": 4 * spec.block_period_seconds,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(BLOCK_GAS_LIMIT),
        "difficulty": "0x1",
        "mixHash": "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
        "coinbase": "0x0000000000000000000000000000000000000000",
        "alloc": {},
        "extraData": qbft_extra_data([v.node_address for v in spec.validators]),
    }


def permissions(spec: NetworkSpec) -> str:
    """Return ``permissions_config.toml``: only members' accounts send transactions, only
    consortium nodes connect."""
    accounts = ", ".join(f'"{a}"' for a in spec.accounts)
    nodes = ", ".join(f'"{v.enode}"' for v in spec.validators)
    return f"accounts-allowlist=[{accounts}]\nnodes-allowlist=[{nodes}]\n"


def node_config() -> str:
    """Return the ``config.toml`` every node runs with."""
    return "\n".join(
        [
            'genesis-file="genesis.json"',
            "min-gas-price=0",
            "permissions-nodes-config-file-enabled=true",
            "permissions-accounts-config-file-enabled=true",
            'permissions-nodes-config-file="permissions_config.toml"',
            'permissions-accounts-config-file="permissions_config.toml"',
            "rpc-http-enabled=true",
            'rpc-http-api=["ETH","NET","WEB3","QBFT"]',
            'host-allowlist=["localhost","127.0.0.1"]',
            "",
        ]
    )


def write_network(spec: NetworkSpec, out: Path) -> list[Path]:
    """Write genesis, permissions and node configuration for ``spec`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "genesis.json": json.dumps(genesis(spec), indent=2) + "\n",
        "permissions_config.toml": permissions(spec),
        "config.toml": node_config(),
    }
    for name, text in files.items():
        (out / name).write_text(text)
    return [out / name for name in files]
