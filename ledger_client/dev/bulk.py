"""Fast bulk writes to a dev chain, for building large histories (benchmarks, simulation).

On anvil (started with ``--auto-impersonate``) transactions are sent unsigned from member
accounts with explicit nonces, in JSON-RPC batches, with automine off; each :meth:`mine`
mines until the pool is empty at a chosen timestamp and checks every receipt succeeded.
On any other node (a geth Clique network) transactions are signed locally with nonces
counted here and sent in JSON-RPC batches of ``eth_sendRawTransaction``, up to
``in_flight`` not yet mined, and :meth:`mine` returns once every receipt is in and
succeeded (the node's clock sets the timestamps). On the in-process chain of the tests each
transaction is signed and mined at once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, cast

import requests
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import abi_to_signature, function_abi_to_4byte_selector, get_abi_input_types
from web3 import Web3

from ledger_client.contracts import artifact
from ledger_client.errors import RxLedgerError

_FUNCTIONS = {
    f["name"]: f
    for f in artifact("SerialRegistry")["abi"]
    if f["type"] == "function" and f["stateMutability"] == "nonpayable"
}
#: ``name(types)`` of every state-changing function of the registry, from its compiled ABI.
SIGNATURES = {name: abi_to_signature(f) for name, f in _FUNCTIONS.items()}
_SELECTORS = {name: bytes(function_abi_to_4byte_selector(f)) for name, f in _FUNCTIONS.items()}
_TYPES = {name: get_abi_input_types(f) for name, f in _FUNCTIONS.items()}


class BulkError(RxLedgerError, RuntimeError):
    """Raised when a bulk-sent transaction failed or the node refused it."""


def calldata(function: str, *args: Any) -> bytes:
    """ABI-encode a call of the registry's ``function``."""
    return _SELECTORS[function] + encode(_TYPES[function], list(args))


def gas_for(function: str, items: int) -> int:
    """A generous gas limit for ``function`` over ``items`` packs or units."""
    per = 30_000 if function == "commission" else 15_000
    return min(120_000 + per * items, 29_000_000)


class BulkSender:
    """Queues registry calls per sender and mines them in phases.

    ``in_flight`` bounds the signed transactions sent to a node but not yet mined; keep their
    gas under half the block gas limit, or blocks fill past London's target and the base fee
    climbs 12.5 % a block. :meth:`mine` raises :class:`BulkError` when none of them is mined
    for ``stall_seconds`` (a stalled chain).
    """

    def __init__(
        self,
        w3: Web3,
        registry: str,
        accounts: dict[str, LocalAccount],
        in_flight: int = 64,
        max_fee_per_gas: int = 20 * 10**9,
        stall_seconds: float = 300.0,
    ) -> None:
        self.w3 = w3
        self.in_flight = in_flight
        self.stall_seconds = stall_seconds
        self.max_fee_per_gas = max_fee_per_gas
        self.registry = Web3.to_checksum_address(registry)
        self.accounts = {Web3.to_checksum_address(a): acc for a, acc in accounts.items()}
        provider = w3.provider
        self.url: str | None = getattr(provider, "endpoint_uri", None)
        self.anvil = bool(self.url) and self._is_anvil()
        self._queue: list[dict[str, Any]] = []
        self._nonces: dict[str, int] = defaultdict(int)
        self._session = requests.Session()
        self._last_ts = int(w3.eth.get_block("latest")["timestamp"])
        self.sent = 0
        #: Gas used by the transactions mined so far (their receipts' ``gasUsed``).
        self.gas_used = 0
        #: Transaction hashes of the calls queued with a ``tag``.
        self.hashes: dict[str, str] = {}
        if self.anvil:
            self._rpc("evm_setAutomine", [False])
            for a in self.accounts:
                self._nonces[a] = w3.eth.get_transaction_count(a)

    def _is_anvil(self) -> bool:
        try:
            return "anvil" in str(self.w3.client_version).lower()
        except Exception:  # a node that hides its version is not anvil
            return False

    def _rpc(self, method: str, params: list[Any]) -> Any:
        assert self.url is not None
        r = self._session.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
        body = r.json()
        if "error" in body:
            raise BulkError(f"{method}: {body['error']}")
        return body["result"]

    def call(
        self, sender: str, function: str, *args: Any, items: int = 1, tag: str | None = None
    ) -> None:
        """Queue ``function(*args)`` from member ``sender``; once mined, a ``tag``ged call's
        transaction hash is in :attr:`hashes`."""
        self._queue.append(
            {
                "from": Web3.to_checksum_address(sender),
                "data": calldata(function, *args),
                "gas": gas_for(function, items),
                "tag": tag,
            }
        )

    def mine(self, timestamp: int | None = None) -> int:
        """Send everything queued and mine it (at ``timestamp`` when given); return the tx count."""
        queue, self._queue = self._queue, []
        if not queue:
            return 0
        ts = max(timestamp or 0, self._last_ts + 1)
        if self.anvil:
            self._mine_anvil(queue, ts)
        elif self.url is not None:
            self._mine_pipelined(queue)
        else:
            self._mine_signed(queue, ts if timestamp else None)
        self.sent += len(queue)
        return len(queue)

    def _mine_anvil(self, queue: list[dict[str, Any]], ts: int) -> None:
        """Send in batches of 200 and mine each batch until the pool is empty (a bounded pool
        keeps anvil from dropping transactions)."""
        assert self.url is not None
        first = int(self._rpc("eth_blockNumber", []), 16) + 1
        for start in range(0, len(queue), 200):
            batch = []
            for k, tx in enumerate(queue[start : start + 200]):
                nonce = self._nonces[tx["from"]]
                self._nonces[tx["from"]] = nonce + 1
                params = {
                    "from": tx["from"],
                    "to": self.registry,
                    "data": "0x" + tx["data"].hex(),
                    "gas": hex(tx["gas"]),
                    "nonce": hex(nonce),
                }
                batch.append(
                    {"jsonrpc": "2.0", "id": k, "method": "eth_sendTransaction", "params": [params]}
                )
            answers = self._session.post(self.url, json=cast(Any, batch)).json()
            if not isinstance(answers, list):
                raise BulkError(f"node refused the batch: {answers}")
            bad = [a for a in answers if "error" in a]
            if bad:
                raise BulkError(f"node refused {len(bad)} transactions: {bad[0]['error']}")
            for a in answers:
                tag = queue[start + a["id"]]["tag"]
                if tag is not None:
                    self.hashes[tag] = a["result"]
            while True:
                self._rpc("evm_setNextBlockTimestamp", [ts])
                self._rpc("evm_mine", [])
                self._last_ts = ts
                ts += 1
                status = self._rpc("txpool_status", [])
                if int(status["pending"], 16) == 0:
                    if int(status["queued"], 16):
                        raise BulkError(
                            f"{int(status['queued'], 16)} transactions stuck behind a nonce gap"
                        )
                    break
        last = int(self._rpc("eth_blockNumber", []), 16)
        for n in range(first, last + 1):
            for receipt in self._rpc("eth_getBlockReceipts", [hex(n)]):
                self.gas_used += int(receipt["gasUsed"], 16)
                if int(receipt["status"], 16) != 1:
                    raise BulkError(f"transaction {receipt['transactionHash']} reverted")

    def _mine_signed(self, queue: list[dict[str, Any]], ts: int | None) -> None:
        w3 = self.w3
        tester = getattr(w3.provider, "ethereum_tester", None)
        if ts is not None and tester is not None and ts > self._last_ts:
            tester.time_travel(ts)
            self._last_ts = ts
        chain_id = w3.eth.chain_id
        for tx in queue:
            acc = self.accounts[tx["from"]]
            nonce = w3.eth.get_transaction_count(acc.address, "pending")
            signed = acc.sign_transaction(
                {
                    "to": self.registry,
                    "data": tx["data"],
                    "gas": tx["gas"],
                    "nonce": nonce,
                    "chainId": chain_id,
                    "maxFeePerGas": 2 * 10**9,
                    "maxPriorityFeePerGas": 10**9,
                }
            )
            h = w3.eth.send_raw_transaction(signed.raw_transaction)
            if tx["tag"] is not None:
                self.hashes[tx["tag"]] = "0x" + bytes(h).hex()
            receipt = w3.eth.wait_for_transaction_receipt(h)
            self.gas_used += receipt["gasUsed"]
            if receipt["status"] != 1:
                raise BulkError(f"transaction 0x{bytes(h).hex()} reverted")
        self._last_ts = max(self._last_ts, int(w3.eth.get_block("latest")["timestamp"]))

    def _batch(self, method: str, params: list[list[Any]]) -> list[Any]:
        """One JSON-RPC batch of ``method`` over ``params``; the results in order."""
        assert self.url is not None
        calls = [
            {"jsonrpc": "2.0", "id": k, "method": method, "params": p} for k, p in enumerate(params)
        ]
        answers = self._session.post(self.url, json=cast(Any, calls)).json()
        if not isinstance(answers, list):
            raise BulkError(f"node refused the batch of {method}: {answers}")
        bad = [a for a in answers if "error" in a]
        if bad:
            raise BulkError(f"node refused {len(bad)} of {len(calls)} {method}: {bad[0]['error']}")
        return [a["result"] for a in sorted(answers, key=lambda a: int(a["id"]))]

    def _sign(self, tx: dict[str, Any], chain_id: int) -> tuple[str, str]:
        """Sign ``tx`` with the next local nonce of its sender; return (raw hex, hash hex)."""
        sender = tx["from"]
        if sender not in self._nonces:
            self._nonces[sender] = self.w3.eth.get_transaction_count(sender, "pending")
        nonce = self._nonces[sender]
        self._nonces[sender] = nonce + 1
        signed = self.accounts[sender].sign_transaction(
            {
                "to": self.registry,
                "data": tx["data"],
                "gas": tx["gas"],
                "nonce": nonce,
                "chainId": chain_id,
                "maxFeePerGas": self.max_fee_per_gas,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()

    def _mine_pipelined(self, queue: list[dict[str, Any]], poll: float = 0.25) -> None:
        """Sign and send ``queue`` keeping up to :attr:`in_flight` transactions unmined; return
        once every receipt is in and succeeded."""
        chain_id = self.w3.eth.chain_id
        waiting: list[str] = []
        sent, progress = 0, time.monotonic()
        while sent < len(queue) or waiting:
            room = queue[sent : sent + max(0, self.in_flight - len(waiting))]
            if room:
                signed = [self._sign(tx, chain_id) for tx in room]
                self._batch("eth_sendRawTransaction", [[raw] for raw, _ in signed])
                for tx, (_, h) in zip(room, signed, strict=True):
                    if tx["tag"] is not None:
                        self.hashes[tx["tag"]] = h
                    waiting.append(h)
                sent += len(room)
            receipts = self._batch("eth_getTransactionReceipt", [[h] for h in waiting])
            for h, receipt in zip(waiting, receipts, strict=True):
                if receipt is None:
                    continue
                self.gas_used += int(receipt["gasUsed"], 16)
                if int(receipt["status"], 16) != 1:
                    raise BulkError(f"transaction {h} reverted")
            still = [h for h, r in zip(waiting, receipts, strict=True) if r is None]
            if len(still) < len(waiting):
                progress = time.monotonic()
            elif time.monotonic() - progress > self.stall_seconds:
                raise BulkError(
                    f"none of {len(waiting)} transactions mined in {self.stall_seconds:.0f} s:"
                    " the chain stalled"
                )
            else:
                time.sleep(poll)
            waiting = still
