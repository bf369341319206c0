"""Decode RxLedger contract logs into :class:`LedgerEvent` objects."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3._utils.events import get_event_data

from ledger_client.contracts import artifact
from ledger_client.types import LedgerEvent

CONTRACTS = ("Consortium", "ProductDirectory", "SerialRegistry")


@cache
def _event_abis() -> dict[bytes, dict[str, Any]]:
    abis: dict[bytes, dict[str, Any]] = {}
    for name in CONTRACTS:
        for item in artifact(name)["abi"]:
            if item["type"] == "event":
                abis[bytes(event_abi_to_log_topic(item))] = item
    return abis


def decode_log(w3: Web3, log: Any) -> LedgerEvent | None:
    """Return the decoded event of ``log``, or None when it is not an RxLedger event."""
    topics = log["topics"]
    abi = _event_abis().get(bytes(topics[0])) if topics else None
    if abi is None:
        return None
    data = get_event_data(w3.codec, abi, log)
    return LedgerEvent(
        name=data["event"],
        args=dict(data["args"]),
        block_number=data["blockNumber"],
        tx_hash=bytes(data["transactionHash"]),
        log_index=data["logIndex"],
    )


def decode_logs(w3: Web3, logs: Iterable[Any]) -> list[LedgerEvent]:
    """Decode every RxLedger event among ``logs``, in order."""
    return [e for e in (decode_log(w3, log) for log in logs) if e is not None]
