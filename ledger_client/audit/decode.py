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

Word = Callable[[bytes], Any]


@dataclass(slots=True, frozen=True)
class RawLog:
    """One log as fetched from the chain or an export file, with its block's timestamp."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    timestamp: int
    tx_hash: bytes
    log_index: int


@dataclass(slots=True, frozen=True)
class AuditEvent:
    """One decoded RxLedger event with where and when it happened."""

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


def _bytes32(word: bytes) -> bytes:
    return bytes(word[:32])


def _static(kind: str) -> Word:
    if kind == "address":
        return _address
    if kind == "bytes32":
        return _bytes32
    if kind.startswith("uint") or kind == "bool":
        return _uint if kind != "bool" else (lambda w: _uint(w) != 0)
    raise ValueError(f"unsupported static ABI type {kind}")


def _dynamic(kind: str) -> Callable[[bytes, int], Any] | None:
    if kind == "bytes32[]":
        def words(data: bytes, at: int) -> list[bytes]:
            n = int.from_bytes(data[at : at + 32], "big")
            return [data[i : i + 32] for i in range(at + 32, at + 32 + 32 * n, 32)]

        return words
    if kind in ("bytes", "string"):
        def blob(data: bytes, at: int) -> Any:
            n = int.from_bytes(data[at : at + 32], "big")
            raw = data[at + 32 : at + 32 + n]
            return raw.decode("utf-8") if kind == "string" else bytes(raw)

        return blob
    return None


@dataclass(frozen=True)
class _EventCodec:
    name: str
    contract: str
    topic_fields: tuple[tuple[str, Word], ...]
    data_fields: tuple[tuple[str, Word | None, Callable[[bytes, int], Any] | None], ...]

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, conv), topic in zip(self.topic_fields, topics[1:], strict=True):
            args[name] = conv(topic)
        for i, (name, static, dynamic) in enumerate(self.data_fields):
            head = data[32 * i : 32 * i + 32]
            if dynamic is not None:
                args[name] = dynamic(data, int.from_bytes(head, "big"))
            elif static is not None:
                args[name] = static(head)
        return args


@cache
def _codecs() -> dict[bytes, _EventCodec]:
    codecs: dict[bytes, _EventCodec] = {}
    for contract in CONTRACTS:
        for item in artifact(contract)["abi"]:
            if item["type"] != "event":
                continue
            topic_fields, data_fields = [], []
            for p in item["inputs"]:
                kind = p["type"]
                if p["indexed"]:
                    topic_fields.append((p["name"], _static(kind)))
                else:
                    dyn = _dynamic(kind)
                    data_fields.append((p["name"], None if dyn else _static(kind), dyn))
            codecs[bytes(event_abi_to_log_topic(item))] = _EventCodec(
                item["name"], contract, tuple(topic_fields), tuple(data_fields)
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
        append(
            AuditEvent(
                codec.name, codec.decode(log.topics, log.data), log.block_number, log.timestamp,
                log.tx_hash, log.log_index, codec.contract,
            )
        )
    return out
