"""Fast decoding of RxLedger logs into :class:`AuditEvent` objects.

The auditor decodes hundreds of thousands of logs; web3's generic decoder is correct but
slow, so this module decodes the few ABI types RxLedger's events use (static words,
``bytes32[]``, ``bytes``, ``string``) straight from the log bytes. Its output equals
:func:`ledger_client.events.decode_logs` field for field (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address

from ledger_client.contracts import artifact
from ledger_client.events import CONTRACTS
from ledger_client.logs import RawLog


@dataclass(slots=True)
class AuditEvent:
    """One decoded RxLedger event with where and when it happened (not frozen: a frozen
    dataclass costs twice as much to build, and the auditor builds hundreds of thousands)."""

    name: str
    args: dict[str, Any]
    block_number: int
    timestamp: int
    tx_hash: bytes
    log_index: int
    contract: str


_ADDRESSES: dict[bytes, str] = {}


def _address(word: bytes) -> str:
    raw = word[12:32]
    found = _ADDRESSES.get(raw)
    if found is None:
        found = _ADDRESSES[raw] = to_checksum_address(raw)
    return found


def _uint(word: bytes) -> int:
    return int.from_bytes(word[:32], "big")


def _words(data: bytes, at: int) -> list[bytes]:
    n = int.from_bytes(data[at : at + 32], "big")
    return [data[i : i + 32] for i in range(at + 32, at + 32 + 32 * n, 32)]


def _blob(data: bytes, at: int) -> bytes:
    n = int.from_bytes(data[at : at + 32], "big")
    return bytes(data[at + 32 : at + 32 + n])


def _text(data: bytes, at: int) -> str:
    return _blob(data, at).decode("utf-8")


def _offset(data: bytes, i: int) -> int:
    return int.from_bytes(data[32 * i : 32 * i + 32], "big")


_CONVERTERS: dict[str, str] = {"address": "_address", "bytes32": "bytes", "bool": "_bool"}
_DYNAMIC: dict[str, str] = {"bytes32[]": "_words", "bytes": "_blob", "string": "_text"}


def _bool(word: bytes) -> bool:
    return _uint(word) != 0


def _compile(item: dict[str, Any]) -> Callable[[Sequence[bytes], bytes], dict[str, Any]]:
    """Generate a decoder for one event ABI: one dict literal, no loops (the hot path)."""
    parts, topic, slot = [], 1, 0
    for p in item["inputs"]:
        kind, name = p["type"], repr(p["name"])
        if p["indexed"]:
            conv = _CONVERTERS.get(kind, "_uint" if kind.startswith("uint") else None)
            if conv is None:
                raise ValueError(f"unsupported indexed ABI type {kind}")
            parts.append(f"{name}: {conv}(topics[{topic}])")
            topic += 1
        else:
            if kind in _DYNAMIC:
                parts.append(f"{name}: {_DYNAMIC[kind]}(data, _offset(data, {slot}))")
            else:
                conv = _CONVERTERS.get(kind, "_uint" if kind.startswith("uint") else None)
                if conv is None:
                    raise ValueError(f"unsupported ABI type {kind}")
                parts.append(f"{name}: {conv}(data[{32 * slot}:{32 * slot + 32}])")
            slot += 1
    source = "def decode(topics, data):\n    return {" + ", ".join(parts) + "}\n"
    scope: dict[str, Any] = {
        "_address": _address,
        "_uint": _uint,
        "_bool": _bool,
        "_words": _words,
        "_blob": _blob,
        "_text": _text,
        "_offset": _offset,
    }
    exec(compile(source, f"<rxledger decoder {item['name']}>", "exec"), scope)  # noqa: S102
    return scope["decode"]  # type: ignore[no-any-return]


@cache
def _codecs() -> dict[bytes, tuple[str, str, Callable[[Sequence[bytes], bytes], dict[str, Any]]]]:
    codecs = {}
    for contract in CONTRACTS:
        for item in artifact(contract)["abi"]:
            if item["type"] == "event":
                codecs[bytes(event_abi_to_log_topic(item))] = (
                    item["name"],
                    contract,
                    _compile(item),
                )
    return codecs


def decode_raw(logs: Iterable[RawLog]) -> list[AuditEvent]:
    """Decode every RxLedger event among ``logs``, in order; other logs are skipped."""
    codecs = _codecs()
    out: list[AuditEvent] = []
    append = out.append
    for log in logs:
        if not log.topics:
            continue
        codec = codecs.get(log.topics[0])
        if codec is None:
            continue
        name, contract, decode = codec
        append(
            AuditEvent(
                name,
                decode(log.topics, log.data),
                log.block_number,
                log.timestamp,
                log.tx_hash,
                log.log_index,
                contract,
            )
        )
    return out
