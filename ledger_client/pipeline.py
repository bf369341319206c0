"""Pipelined batch writes: one member's chunks signed here, with nonces it counts, many in flight.

:class:`Pipeline` sends a batch's chunks as transactions numbered from the account's pending
nonce, up to ``window`` of them unconfirmed at once, and collects their receipts as blocks
come: on a chain sealing every two seconds one member fills blocks instead of one chunk a
block. What can go wrong, and what it does:

- a chunk's gas estimate reverts: nothing is sent for it; the others are written, and the
  batch then raises :class:`BatchRevertError` naming the failed chunks' items and reverts;
- a chunk is mined but fails (status 0): a call of the same data tells a revert (reported as
  above) from running out of gas or a state that has changed since (sent again, at most
  ``retries`` times);
- the node fails (refused connection, timeout) or nothing lands for ``resend_after`` seconds:
  the first node that answers, the member's own or one of its ``fallback`` nodes, is asked for
  each unconfirmed transaction's receipt and for the account's nonce. A transaction not on chain
  is sent again exactly as signed (same nonce, same hash: it can land once only), re-signed at
  its nonce with higher fees if the base fee has passed its cap. A nonce the chain has used for
  another transaction puts its chunk back in the queue, less the items the chain shows done;
- ``retries`` failures in a row without progress raise :class:`BatchInterruptedError` (a
  ``ConnectionError``); the unconfirmed transactions are kept and settled before this
  pipeline's next batch, so writing the rest again with ``skip_done`` sends each item once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)

from ledger_client.contracts import revert_decoder
from ledger_client.errors import RxLedgerError
from ledger_client.events import decode
from ledger_client.logs import raw_logs
from ledger_client.reverts import LedgerRevertError, revert_data
from ledger_client.types import Receipt

#: Transport failures after which unconfirmed transactions are looked up and resent.
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, TimeExhausted, ConnectionError)
#: Exceptions that carry a contract's revert data (JSON-RPC nodes; the in-process chain).
REVERT_ERRORS: tuple[type[Exception], ...] = (ContractLogicError,)
try:
    from eth_tester.exceptions import TransactionFailed

    REVERT_ERRORS += (TransactionFailed,)
except ImportError:  # eth-tester is only needed for the in-process chain
    pass

#: Transactions one member keeps unconfirmed at once: four blocks of 100 M gas in chunks of 500
#: packs, so that a block sealed while the client is busy still finds a full block waiting.
DEFAULT_WINDOW = 32
#: A transaction's fee cap, in base fees of the block it is signed at (plus its tip): full
#: blocks raise the base fee by 12.5 % each, so a cap of 4 holds through 11 full blocks, while
#: a window of transactions waits a few blocks to land (web3's default of 2 held through 5, and
#: long batches on Clique stalled until emptier blocks brought the base fee down again).
FEE_CAP_BASE_FEES = 4
#: How often receipts are polled: web3's 0.1 s added ~100 ms to half the gateway's dispenses
#: on a dev chain that mines at once (measured by scripts/soak.py).
RECEIPT_POLL_SECONDS = 0.025

Done = Callable[[list[bytes]], list[bool]]
"""Says, for each item of a chunk, whether the chain already shows it written."""
ProgressCallback = Callable[[int], None]
"""Told how many items of a batch each chunk covered, as the chunks are done."""


class BatchRevertError(LedgerRevertError):
    """Raised when chunks of a batch reverted while the others were written: ``failures``
    holds each failed chunk's items with its revert, ``receipts`` the written chunks'.

    Its ``error`` and ``args_by_name`` are the first failure's, as a single revert's are.
    """

    def __init__(self, failures: list[ChunkFailure], receipts: list[Receipt]) -> None:
        first = failures[0].error
        super().__init__(first.error, first.args_by_name, first.data)
        self.failures = failures
        self.receipts = receipts
        items = sum(len(f.items) for f in failures)
        self.args = (
            f"{len(failures)} chunk(s) of {items} item(s) not written, the first {first}; "
            f"{len(receipts)} chunk(s) written",
        )


class BatchInterruptedError(RxLedgerError, ConnectionError):
    """Raised when a batch loses every node it may use for longer than its retries allow:
    ``receipts`` holds what was written; write the rest again (``skip_done``) once a node
    answers."""

    def __init__(self, cause: BaseException, receipts: list[Receipt], unconfirmed: int) -> None:
        self.receipts = receipts
        self.unconfirmed = unconfirmed
        super().__init__(
            f"no node answers ({cause!r}): {len(receipts)} chunk(s) written,"
            f" {unconfirmed} sent and not yet confirmed, the rest not sent"
        )


@dataclass(frozen=True)
class ChunkFailure:
    """A chunk that was not written: its items and the revert that refused them."""

    items: tuple[bytes, ...]
    error: LedgerRevertError


@dataclass(frozen=True)
class Chunk:
    """One transaction's worth of a batch: its items, how many items of the batch it stands
    for (progress), and the contract call that writes them."""

    items: list[bytes]
    size: int
    call: Callable[[list[bytes]], ContractFunction]


@dataclass(eq=False)
class _Tx:
    """A chunk on its way: its call data, nonce and every signature made at that nonce."""

    chunk: Chunk
    to: str
    data: HexBytes
    gas: int = 0
    nonce: int = -1
    signed: list[tuple[bytes, bytes, int]] = field(default_factory=list)  # hash, raw, fee cap
    attempts: int = 0

    @property
    def raw(self) -> bytes:
        return self.signed[-1][1]


def to_receipt(w3: Web3, receipt: Any) -> Receipt:
    """Our :class:`Receipt` of a web3 receipt, with its decoded events."""
    return Receipt(
        tx_hash=bytes(receipt["transactionHash"]),
        block_number=receipt["blockNumber"],
        gas_used=receipt["gasUsed"],
        events=tuple(decode(raw_logs(w3, receipt["logs"]))),
    )


def gas_with_margin(estimate: int, block_gas_limit: int) -> int:
    """The gas a transaction is given: its estimate plus a quarter and 20,000, within a block."""
    return min(estimate * 5 // 4 + 20_000, block_gas_limit)


def revert_of(exc: Exception) -> LedgerRevertError | None:
    """The decoded revert an estimate or call raised, or None when it carries no revert data."""
    data = revert_data(exc)
    return None if data is None else revert_decoder().decode(data)


def _is_nonce_too_low(exc: Exception) -> bool:
    return "nonce too low" in str(exc).lower()


class Pipeline:
    """Writes batches from ``account`` through ``endpoints`` (the member's node first, then the
    nodes it trusts to fail over to), ``window`` transactions in flight; see the module."""

    def __init__(
        self,
        endpoints: Sequence[Web3],
        account: LocalAccount,
        window: int = DEFAULT_WINDOW,
        retries: int = 3,
        retry_delay: float = 1.0,
        resend_after: float = 30.0,
        poll: float = RECEIPT_POLL_SECONDS,
    ) -> None:
        self.endpoints = list(endpoints)
        self.account = account
        self.window = window
        self.retries = retries
        self.retry_delay = retry_delay
        self.resend_after = resend_after
        self.poll = poll
        self._current = 0
        self._lock = threading.Lock()
        #: transactions of an interrupted batch, settled before the next one is sent
        self._unconfirmed: list[_Tx] = []

    @property
    def w3(self) -> Web3:
        """The node the pipeline writes through now."""
        return self.endpoints[self._current]

    def run(
        self,
        chunks: Iterable[Chunk],
        done: Done,
        skip_done: bool,
        progress: ProgressCallback | None = None,
    ) -> list[Receipt]:
        """Write ``chunks`` (in order; chunks whose items ``done`` already shows are skipped
        when ``skip_done``); return the written chunks' receipts in the order they landed."""
        with self._lock:
            return _Run(self, done, skip_done, progress).write(chunks)


class _Run:
    """One batch through a :class:`Pipeline`: its queue, transactions in flight and results."""

    def __init__(
        self, pipe: Pipeline, done: Done, skip_done: bool, progress: ProgressCallback | None
    ) -> None:
        self.pipe = pipe
        self.done = done
        self.skip_done = skip_done
        self.progress = progress
        self.queue: deque[_Tx] = deque()
        self.inflight: list[_Tx] = pipe._unconfirmed  # nonce order
        self.settling = set(self.inflight)  # not this batch's: settled, not reported
        self.receipts: list[Receipt] = []
        self.failures: list[ChunkFailure] = []
        self.nonce: int | None = None
        self.tip: int | None = None
        self.chain_id: int | None = None
        self.failed_in_a_row = 0
        self.last_progress = time.monotonic()

    # ------------------------------------------------------------ the loop

    def write(self, chunks: Iterable[Chunk]) -> list[Receipt]:
        pipe = self.pipe
        for chunk in chunks:
            self.queue.append(_Tx(chunk, "", HexBytes(b"")))
        refused: Exception | None = None  # the node refused a chunk: send no more
        resume = bool(self.inflight)
        try:
            while (self.queue and refused is None) or self.inflight:
                try:
                    if resume:  # an interrupted batch's transactions come first
                        resume = False
                        self._recover(switch=False)
                    while self.queue and refused is None and len(self.inflight) < pipe.window:
                        try:
                            self._send_next()
                        except Web3RPCError as exc:
                            refused = exc
                    if self.inflight and not self._collect():
                        if time.monotonic() - self.last_progress > pipe.resend_after:
                            self._recover(switch=False)
                        else:
                            time.sleep(pipe.poll)
                except TRANSIENT_ERRORS as exc:
                    self._fail_over(exc)
        finally:
            pipe._unconfirmed = list(self.inflight)  # settled first by the next batch
        if refused is not None:
            raise refused
        if self.failures:
            raise BatchRevertError(self.failures, self.receipts)
        return self.receipts

    def _fail_over(self, exc: BaseException) -> None:
        """After a transport failure: wait, take the first node that answers, and recover."""
        pipe = self.pipe
        self.failed_in_a_row += 1
        if self.failed_in_a_row > pipe.retries:
            raise BatchInterruptedError(exc, self.receipts, len(self.inflight)) from exc
        time.sleep(pipe.retry_delay * self.failed_in_a_row)
        try:
            self._recover(switch=True)
        except TRANSIENT_ERRORS as again:
            self._fail_over(again)

    def _progressed(self) -> None:
        self.failed_in_a_row = 0
        self.last_progress = time.monotonic()

    # ------------------------------------------------------------ sending

    def _send_next(self) -> None:
        """Estimate, sign and send the next chunk of the queue at the next nonce."""
        tx = self.queue[0]
        block = self._block()
        if not tx.signed and not self._prepare(tx, block):
            self.queue.popleft()
            return
        if self.nonce is None:
            self.nonce = self._chain_nonce("pending")
        self._sign(tx, self.nonce, block)
        self.queue.popleft()
        self.inflight.append(tx)  # before sending: a lost answer may still have landed
        try:
            self.pipe.w3.eth.send_raw_transaction(tx.raw)
        except Web3RPCError as exc:
            self.inflight.remove(tx)
            tx.signed.clear()
            self.queue.appendleft(tx)
            if not _is_nonce_too_low(exc):
                raise
            self.nonce = self._chain_nonce("pending")  # another writer used this account
            return
        self.nonce += 1

    def _prepare(self, tx: _Tx, block: Any) -> bool:
        """Drop the items already done (``skip_done``), encode the call and estimate its gas;
        False when nothing is left to send (all done, or the estimate reverted)."""
        chunk = tx.chunk
        if self.skip_done:
            todo = self._not_done(chunk.items)
            if not todo:
                self._report(chunk.size)
                return False
            chunk = tx.chunk = Chunk(todo, chunk.size, chunk.call)
        fn = chunk.call(chunk.items)
        tx.to, tx.data = fn.address, HexBytes(fn._encode_transaction_data())
        try:
            estimate = self.pipe.w3.eth.estimate_gas(
                {"from": self.pipe.account.address, "to": tx.to, "data": tx.data}
            )
        except REVERT_ERRORS as exc:
            error = revert_of(exc)
            if error is None:
                raise
            self.failures.append(ChunkFailure(tuple(chunk.items), error))
            return False
        tx.gas = gas_with_margin(estimate, int(block["gasLimit"]))
        return True

    def _not_done(self, items: list[bytes]) -> list[bytes]:
        return [i for i, ok in zip(items, self.done(items), strict=True) if not ok]

    def _sign(self, tx: _Tx, nonce: int, block: Any, bump: int = 0) -> None:
        """Sign ``tx`` at ``nonce`` with the fees of ``block`` (the latest), raised by ``bump``
        per cent to replace an earlier signature at that nonce."""
        w3 = self.pipe.w3
        if self.chain_id is None:
            self.chain_id = int(w3.eth.chain_id)
        base_fee = block.get("baseFeePerGas")
        fields: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": tx.to,
            "data": tx.data,
            "gas": tx.gas,
            "value": 0,
        }
        if base_fee is None:  # a chain without EIP-1559
            cap = int(w3.eth.gas_price) * (100 + bump) // 100
            fields["gasPrice"] = cap
        else:
            if self.tip is None:
                self.tip = int(w3.eth.max_priority_fee)
            tip = self.tip * (100 + bump) // 100 + (1 if bump else 0)
            cap = FEE_CAP_BASE_FEES * int(base_fee) + tip
            fields |= {"maxPriorityFeePerGas": tip, "maxFeePerGas": cap}
        signed = self.pipe.account.sign_transaction(fields)
        tx.nonce = nonce
        tx.signed.append((bytes(signed.hash), bytes(signed.raw_transaction), cap))

    # ------------------------------------------------------------ receipts

    def _collect(self) -> bool:
        """Take the receipts that have come, oldest nonce first; True if any came."""
        came = False
        while self.inflight:
            tx = self.inflight[0]
            receipt = self._receipt(tx)
            if receipt is None:
                break
            try:
                self._settle(tx, receipt)
            except BlockNotFound:  # its block was replaced (a short fork): look again
                break
            self.inflight.pop(0)
            came = True
        return came

    def _receipt(self, tx: _Tx) -> Any | None:
        for tx_hash, _, _ in reversed(tx.signed):
            try:
                return self.pipe.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                continue
            except Web3RPCError:  # geth while it indexes transactions after a restart
                continue
        return None

    def _settle(self, tx: _Tx, receipt: Any) -> None:
        self._progressed()
        if tx in self.settling:
            self.settling.discard(tx)
            return
        if receipt["status"] == 1:
            self.receipts.append(to_receipt(self.pipe.w3, receipt))
            self._report(tx.chunk.size)
            return
        error = self._why_failed(tx, receipt)
        if error is not None:
            self.failures.append(ChunkFailure(tuple(tx.chunk.items), error))
            return
        tx.signed.clear()
        self.queue.appendleft(tx)  # out of gas, or a state that changed: estimate and send again

    def _why_failed(self, tx: _Tx, receipt: Any) -> LedgerRevertError | None:
        """The revert of a failed transaction, by a call of its data now; None when the call
        passes and ``tx`` may be sent again."""
        tx.attempts += 1
        try:
            self.pipe.w3.eth.call(
                {"from": self.pipe.account.address, "to": tx.to, "data": tx.data, "gas": tx.gas}
            )
        except REVERT_ERRORS as exc:
            error = revert_of(exc)
            if error is not None:
                return error
        if tx.attempts > self.pipe.retries:
            return LedgerRevertError(
                "TransactionFailed", {"tx": bytes(receipt["transactionHash"])}, b""
            )
        return None

    def _report(self, size: int) -> None:
        if self.progress is not None:
            self.progress(size)

    # ------------------------------------------------------------ recovery

    def _recover(self, switch: bool) -> None:
        """Find what landed of the transactions in flight and resend the rest (see the module);
        with ``switch``, through the first node that answers, the current one first."""
        pipe = self.pipe
        if switch:
            self._answering_node()
        landed = self._chain_nonce("latest")
        for tx in list(self.inflight):
            receipt = self._receipt(tx)
            if receipt is not None:
                try:
                    self._settle(tx, receipt)
                except BlockNotFound:  # its block was replaced: send it again below
                    continue
            elif tx.nonce < landed:  # another transaction took its nonce
                self._progressed()
                if tx not in self.settling:
                    self._re_derive(tx)
                self.settling.discard(tx)
            else:
                continue
            self.inflight.remove(tx)
        waiting = self.inflight
        block = self._block()
        base_fee = block.get("baseFeePerGas")
        for tx in waiting:
            if base_fee is not None and tx.signed[-1][2] < int(base_fee):
                self._sign(tx, tx.nonce, block, bump=25)
            with suppress(Web3RPCError):  # already known, or landed meanwhile: see its receipt
                pipe.w3.eth.send_raw_transaction(tx.raw)
        self.nonce = waiting[-1].nonce + 1 if waiting else landed
        self.last_progress = time.monotonic()

    def _re_derive(self, tx: _Tx) -> None:
        """Queue again, at a new nonce, the items of ``tx`` that the chain does not show done."""
        todo = self._not_done(tx.chunk.items)
        if todo:
            self.queue.appendleft(_Tx(Chunk(todo, tx.chunk.size, tx.chunk.call), "", HexBytes(b"")))
        else:
            self._report(tx.chunk.size)

    def _answering_node(self) -> None:
        pipe = self.pipe
        count = len(pipe.endpoints)
        for step in range(count):
            index = (pipe._current + step) % count
            try:
                if pipe.endpoints[index].eth.block_number >= 0:
                    pipe._current = index
                    return
            except TRANSIENT_ERRORS:
                continue
        raise requests.ConnectionError("none of the member's nodes answers")

    # ------------------------------------------------------------ chain reads

    def _chain_nonce(self, block: str) -> int:
        address = self.pipe.account.address
        return int(self.pipe.w3.eth.get_transaction_count(address, block))  # type: ignore[arg-type]

    def _block(self) -> Any:
        return self.pipe.w3.eth.get_block("latest")
