"""Export RxLedger logs fetched from a chain as a JSON-lines file, and load them back.

An export holds the raw logs (topics and data as the node returned them) with their block
timestamps, so an auditor can replay offline and decode independently of whoever exported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ledger_client.contracts import Deployment
from ledger_client.errors import ConfigurationError
from ledger_client.logs import RawLog

EXPORT_KIND = "rxledger-log-export"
EXPORT_VERSION = 1


class LogFileError(ConfigurationError):
    """Raised when a log export file is malformed or not an RxLedger export."""


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
    with path.open(encoding="utf-8", errors="strict") as f:
        number = 0
        try:
            for number, line in enumerate(f, 1):
                if line.strip():
                    yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise LogFileError(f"{path}:{number}: not JSON: {exc.msg}") from None
        except UnicodeDecodeError:
            raise LogFileError(f"{path}:{number + 1}: not UTF-8 text") from None


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
    try:
        deployment = Deployment(**first[1]["deployment"])
    except (KeyError, TypeError) as exc:
        raise LogFileError(
            f"{path}: the header's deployment is not this RxLedger's (an export of an older"
            f" deployment?): {exc}"
        ) from None
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
