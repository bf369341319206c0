"""Fetch RxLedger's contract logs from a chain, in block ranges, as :class:`RawLog` objects
with their block timestamps (``ledger_client.events.decode`` turns them into typed events)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from requests import RequestException
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from ledger_client.contracts import Deployment
from ledger_client.events import RawLog

#: Blocks asked per eth_getLogs call; nodes cap the range or the result size.
DEFAULT_BLOCK_STEP = 5_000


def _get_logs(
    w3: Web3, deployment: Deployment, from_block: int | None, to_block: int | None, step: int
) -> Iterator[list[Any]]:
    """Yield the deployment's logs one block range at a time, from its first block."""
    first = deployment.block if from_block is None else from_block
    last = w3.eth.block_number if to_block is None else to_block
    addresses = deployment.event_sources
    for start in range(first, last + 1, step):
        yield from _range_logs(w3, addresses, start, min(last, start + step - 1))


def _range_logs(w3: Web3, addresses: list[str], start: int, end: int) -> Iterator[list[Any]]:
    """Yield the logs of blocks ``start``..``end``, halving the range while the node refuses
    it or the answer breaks off: nodes cap a query's results (Besu's and providers' -32005
    "query returned more than N results") or time out writing a large one (geth's 30 s HTTP
    write timeout cuts the response mid-way). A single block the node cannot answer raises."""
    flt: Any = {"fromBlock": start, "toBlock": end, "address": addresses}
    try:
        logs = list(w3.eth.get_logs(flt))
    except (Web3RPCError, RequestException):
        if start == end:
            raise
        middle = (start + end) // 2
        yield from _range_logs(w3, addresses, start, middle)
        yield from _range_logs(w3, addresses, middle + 1, end)
        return
    yield logs


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


def raw_logs(w3: Web3, logs: Iterable[Any]) -> list[RawLog]:
    """Return web3's ``logs`` (of ``eth_getLogs`` or a receipt) as :class:`RawLog` objects, in
    chain order, with their block timestamps (read from the blocks when the node omits them)."""
    raw = list(logs)
    missing = [int(x["blockNumber"]) for x in raw if x.get("blockTimestamp") is None]
    stamps = _block_timestamps(w3, missing) if missing else {}
    out = []
    for x in raw:
        ts = x.get("blockTimestamp")
        block = int(x["blockNumber"])
        out.append(
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
    out.sort(key=lambda g: (g.block_number, g.log_index))
    return out


def fetch_logs(
    w3: Web3,
    deployment: Deployment,
    from_block: int | None = None,
    to_block: int | None = None,
    step: int = DEFAULT_BLOCK_STEP,
) -> list[RawLog]:
    """Return every log of the deployment's consortium, directory, registry and access grants,
    in chain order.

    Scans from the deployment's first block in ranges of ``step`` blocks.
    """
    return raw_logs(
        w3, [log for logs in _get_logs(w3, deployment, from_block, to_block, step) for log in logs]
    )
