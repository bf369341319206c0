"""The demo network on its own anvil node, for tests that send thousands of transactions.

Members send unsigned transactions (anvil impersonates every account), each mined at once with
a fixed gas limit, so a refused call is a mined transaction with status 0 and no logs: one
request to send, one for the receipt, whose logs come back as typed events. Block times are
deterministic (one second per block, plus :meth:`AnvilChain.advance`), and ``evm_snapshot`` /
``evm_revert`` restore the deployed network in milliseconds. Each chain listens on a free port
of its own, so parallel test workers never share a node.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.events import ChainEvent, RawLog, decode
from tests.utils.anvil import rpc
from tests.utils.ports import free_port

#: Gas of every transaction: far above what any call here needs, far below the block's.
GAS = hex(8_000_000)
DAY = 86_400


def _raw_log(log: dict[str, Any]) -> RawLog:
    return RawLog(
        address=Web3.to_checksum_address(log["address"]),
        topics=tuple(bytes.fromhex(t[2:]) for t in log["topics"]),
        data=bytes.fromhex(log["data"][2:]),
        block_number=int(log["blockNumber"], 16),
        timestamp=int(log["blockTimestamp"], 16),
        tx_hash=bytes.fromhex(log["transactionHash"][2:]),
        log_index=int(log["logIndex"], 16),
    )


@dataclass
class AnvilChain:
    """A running anvil node with the demo network deployed on it."""

    node: Anvil
    w3: Web3
    net: DevNetwork
    snapshot_id: str = ""

    def rpc(self, method: str, *params: Any) -> Any:
        """The result of JSON-RPC ``method(*params)``; raise on an error answer."""
        return rpc(self.w3, method, *params)

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        """The results of JSON-RPC ``requests``, sent in one HTTP request."""
        responses = self.w3.provider.make_batch_request(requests)  # type: ignore[arg-type]
        if not isinstance(responses, list) or any("error" in r for r in responses):
            raise RuntimeError(f"batch failed: {responses}")
        return [r["result"] for r in responses]

    def send(self, sender: str, to: str, data: bytes) -> list[ChainEvent] | None:
        """Send ``data`` to contract ``to`` from ``sender``; the events it emitted, or None
        when the contract refused it."""
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": GAS}
        tx_hash = self.rpc("eth_sendTransaction", tx)
        deadline = time.monotonic() + 10
        while (receipt := self.rpc("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:  # anvil mines at once, though it may answer first
                raise RuntimeError(f"transaction {tx_hash} was not mined")
            time.sleep(0.001)
        if receipt["status"] != "0x1":
            return None
        return decode([_raw_log(log) for log in receipt["logs"]])

    def snapshot(self) -> None:
        """Remember the chain's state now; :meth:`reset` goes back to it."""
        self.snapshot_id = self.rpc("evm_snapshot")

    def reset(self) -> None:
        """Go back to the last :meth:`snapshot` (anvil forgets a snapshot it reverts to: it
        is taken again)."""
        if not self.rpc("evm_revert", self.snapshot_id):
            raise RuntimeError(f"no snapshot {self.snapshot_id}")
        self.snapshot()

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def advance(self, seconds: int) -> None:
        """Mine a block ``seconds`` after the latest one."""
        self.rpc("evm_mine", self.now() + seconds)


@contextmanager
def anvil_chain() -> Iterator[AnvilChain]:
    """Start anvil on a free port, deploy the demo network at the next noon (UTC, so that
    runs at any hour see the same times of day), stop the node on exit."""
    with Anvil(port=free_port(), auto_impersonate=True) as node:
        w3 = connect(node.url)
        rpc(w3, "anvil_setBlockTimestampInterval", 1)
        now = int(rpc(w3, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        rpc(w3, "evm_mine", now - now % DAY + DAY + DAY // 2)
        yield AnvilChain(node, w3, deploy_devnet(w3))
