"""Fetch RxLedger logs from a chain, and export or load them as a JSON-lines file.

An export holds the raw logs (topics and data as the node returned them) with their block
timestamps, so an auditor can replay offline and decode independently of whoever exported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from web3 import HTTPProvider, Web3

from ledger_client.audit.decode import RawLog
from ledger_client.contracts import Deployment
from ledger_client.errors import ConfigurationError

EXPORT_KIND = "rxledger-log-export"
EXPORT_VERSION = 1
#: Blocks asked per eth_getLogs call; nodes cap the range or the result size.
DEFAULT_BLOCK_STEP = 5_000


class LogFileError(ConfigurationError):
    """Raised when a log export file is malformed or not an RxLedger export."""


def _addresses(deployment: Deployment) -> list[str]:
    return [
        Web3.to_checksum_address(a)
        for a in (deployment.consortium, deployment.directory, deployment.registry)
    ]


def _block_timestamps(w3: Web3, blocks: Iterable[int]) -> dict[int, int]:
    wanted = sorted(set(blocks))
    stamps: dict[int, int] = {}
    blocks_: list[Any]
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        if isinstance(w3.provider, HTTPProvider):
            with w3.batch_requests() as batch:
                for n in chunk:
                    batch.add(w3.eth.get_block(n))
                blocks_ = list(batch.execute())
        else:  # the in-process chain has no JSON-RPC batching
            blocks_ = [w3.eth.get_block(n) for n in chunk]
        for n, block in zip(chunk, blocks_, strict=True):
            stamps[n] = int(block["timestamp"])
    return stamps


def fetch_logs(
    w3: Web3,
    deployment: Deployment,
    from_block: int | None = None,
    to_block: int | None = None,
    step: int = DEFAULT_BLOCK_STEP,
) -> list[RawLog]:
    """Return every log of the deployment's consortium, directory and registry, in chain order.

    Scans from the deployment's first block in ranges of ``step`` blocks.
    """
    first = deployment.block if from_block is None else from_block
    last = w3.eth.block_number if to_block is None else to_block
    addresses = _addresses(deployment)
    raw: list[Any] = []
    for start in range(first, last + 1, step):
        end = min(last, start + step - 1)
        flt: Any = {"fromBlock": start, "toBlock": end, "address": addresses}
        raw.extend(w3.eth.get_logs(flt))
    missing = [int(x["blockNumber"]) for x in raw if x.get("blockTimestamp") is None]
    stamps = _block_timestamps(w3, missing) if missing else {}
    logs = []
    for x in raw:
        ts = x.get("blockTimestamp")
        block = int(x["blockNumber"])
        logs.append(
            RawLog(
                address=Web3.to_checksum_address(x["address"]),
                topics=tuple(bytes(t) for t in x["topics"]),
                data=bytes(x["data"]),
                block_number=block,
                timestamp=int(ts, 16)
                if isinstance(ts, str)
                else int(ts)
                if ts is not None
                else stamps[block],
                tx_hash=bytes(x["transactionHash"]),
                log_index=int(x["logIndex"]),
            )
        )
    logs.sort(key=lambda g: (g.block_number, g.log_index))
    return logs


def export_logs(
    logs: Iterable[RawLog], deployment: Deployment, path: Path, to_block: int | None = None
) -> int:
    """Write ``logs`` to ``path`` as JSON lines after a header naming the deployment and the last
    block read (``to_block``); return the number of logs written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w") as out:
        header = {
            "kind": EXPORT_KIND,
            "version": EXPORT_VERSION,
            "deployment": asdict(deployment),
            "to_block": to_block,
        }
        out.write(json.dumps(header) + "\n")
        for log in logs:
            row = {
                "a": log.address,
                "t": [t.hex() for t in log.topics],
                "d": log.data.hex(),
                "b": log.block_number,
                "ts": log.timestamp,
                "tx": log.tx_hash.hex(),
                "i": log.log_index,
            }
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
            n += 1
    return n


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open() as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LogFileError(f"{path}:{number}: not JSON: {exc.msg}") from None


@dataclass(frozen=True)
class LogExport:
    """An export file's content: the deployment, the last block read, the logs."""

    deployment: Deployment
    to_block: int | None
    logs: list[RawLog]


def load_logs(path: Path) -> LogExport:
    """Read an export written by :func:`export_logs`."""
    if not path.is_file():
        raise LogFileError(f"no log file at {path}")
    rows = _rows(path)
    first = next(rows, None)
    if first is None or first[1].get("kind") != EXPORT_KIND:
        raise LogFileError(f"{path}: not an RxLedger log export (missing header line)")
    if first[1].get("version") != EXPORT_VERSION:
        raise LogFileError(f"{path}: unsupported export version {first[1].get('version')!r}")
    deployment = Deployment(**first[1]["deployment"])
    logs = []
    fromhex = bytes.fromhex
    for number, r in rows:
        try:
            logs.append(
                RawLog(
                    r["a"],
                    tuple(fromhex(t) for t in r["t"]),
                    fromhex(r["d"]),
                    r["b"],
                    r["ts"],
                    fromhex(r["tx"]),
                    r["i"],
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise LogFileError(f"{path}:{number}: malformed log row ({exc})") from None
    return LogExport(deployment, first[1].get("to_block"), logs)
