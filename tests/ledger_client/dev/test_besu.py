"""The Besu network generator writes a QBFT genesis and allow-lists for the consortium."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import rlp
from eth_utils import to_checksum_address

from ledger_client.chain import dev_account
from ledger_client.dev.besu import NetworkSpec, write_network

VALIDATORS = [
    {
        "name": f"node{i}",
        "node_address": dev_account(f"node{i}").address,
        "enode": f"enode://{'ab' * 64}@10.0.0.{i}:30303",
    }
    for i in range(4)
]


def _spec() -> NetworkSpec:
    accounts = [dev_account(n).address for n in ("manufacturer", "pharmacy_a")]
    return NetworkSpec.from_json({"chain_id": 2026, "validators": VALIDATORS, "accounts": accounts})


def test_genesis_extra_data_lists_the_validators_in_qbft_layout(tmp_path: Path) -> None:
    write_network(_spec(), tmp_path)
    genesis = json.loads((tmp_path / "genesis.json").read_text())
    vanity, validators, vote, round_, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    assert vanity == b"\x00" * 32 and vote == [] and round_ == b"" and seals == []
    assert [to_checksum_address(v) for v in validators] == [v["node_address"] for v in VALIDATORS]
    assert genesis["config"]["qbft"]["blockperiodseconds"] == 2
    assert genesis["config"]["zeroBaseFee"] is True
    assert genesis["config"]["chainId"] == 2026


def test_permissions_allow_only_member_accounts_and_consortium_nodes(tmp_path: Path) -> None:
    write_network(_spec(), tmp_path)
    allow = tomllib.loads((tmp_path / "permissions_config.toml").read_text())
    assert allow["accounts-allowlist"] == [
        dev_account(n).address for n in ("manufacturer", "pharmacy_a")
    ]
    assert allow["nodes-allowlist"] == [v["enode"] for v in VALIDATORS]
    config = tomllib.loads((tmp_path / "config.toml").read_text())
    assert config["min-gas-price"] == 0
    assert config["permissions-accounts-config-file-enabled"] is True
