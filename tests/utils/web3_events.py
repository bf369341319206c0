"""web3's generic log decoder: the reference the fast decoder is tested against, and the
replay benchmark's baseline."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3._utils.events import get_event_data
from web3.types import EventData

from ledger_client.contracts import artifact
from ledger_client.events import EVENT_TYPES


def web3_decode(w3: Web3, logs: Iterable[Any]) -> list[EventData]:
    """Decode the RxLedger logs among ``logs`` with web3's ``get_event_data``, in order."""
    abis = {
        bytes(event_abi_to_log_topic(item)): item
        for contract in EVENT_TYPES
        for item in artifact(contract)["abi"]
        if item["type"] == "event"
    }
    out = []
    for log in logs:
        abi = abis.get(bytes(log["topics"][0])) if log["topics"] else None
        if abi is not None:
            out.append(get_event_data(w3.codec, abi, log))
    return out


def plain(data: EventData) -> dict[str, Any]:
    """Name, position and arguments (ABI names) of a web3-decoded event, byte strings as
    ``bytes`` and arrays as tuples."""
    return {
        "name": data["event"],
        "block_number": data["blockNumber"],
        "tx_hash": bytes(data["transactionHash"]),
        "log_index": data["logIndex"],
        "args": {k: _plain(v) for k, v in data["args"].items()},
    }


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value
