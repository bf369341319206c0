"""web3's generic log decoder: the reference the fast decoder is tested against."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3._utils.events import get_event_data

from ledger_client.contracts import artifact
from ledger_client.events import EVENT_TYPES


def web3_decode(w3: Web3, logs: Iterable[Any]) -> list[dict[str, Any]]:
    """Decode the RxLedger logs among ``logs`` with web3: name, position and arguments (ABI
    names; byte strings as ``bytes``, arrays as tuples)."""
    abis = {
        bytes(event_abi_to_log_topic(item)): item
        for contract in EVENT_TYPES
        for item in artifact(contract)["abi"]
        if item["type"] == "event"
    }
    out = []
    for log in logs:
        abi = abis.get(bytes(log["topics"][0])) if log["topics"] else None
        if abi is None:
            continue
        data = get_event_data(w3.codec, abi, log)
        out.append(
            {
                "name": data["event"],
                "block_number": data["blockNumber"],
                "tx_hash": bytes(data["transactionHash"]),
                "log_index": data["logIndex"],
                "args": {k: _plain(v) for k, v in data["args"].items()},
            }
        )
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value
