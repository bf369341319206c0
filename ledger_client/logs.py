"""Fetch RxLedger's contract events from a chain, in block ranges."""

from __future__ import annotations

from collections.abc import Iterator

from web3 import Web3

from ledger_client.contracts import Deployment
from ledger_client.events import decode_logs
from ledger_client.types import LedgerEvent

DEFAULT_CHUNK = 5_000


def iter_events(
    w3: Web3,
    deployment: Deployment,
    from_block: int | None = None,
    to_block: int | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> Iterator[LedgerEvent]:
    """Yield every event of the deployment's contracts, in chain order.

    ``from_block`` defaults to the deployment block, ``to_block`` to the latest block.
    """
    start = deployment.block if from_block is None else from_block
    end = w3.eth.block_number if to_block is None else to_block
    addresses = [
        Web3.to_checksum_address(a)
        for a in (deployment.consortium, deployment.directory, deployment.registry)
    ]
    for low in range(start, end + 1, chunk):
        high = min(low + chunk - 1, end)
        logs = w3.eth.get_logs({"fromBlock": low, "toBlock": high, "address": addresses})
        yield from decode_logs(w3, sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"])))
