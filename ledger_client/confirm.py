"""Confirming a write: waiting until its transaction is a number of blocks deep on the chain.

A receipt says a block took the transaction; on Clique that block can still leave the chain
when a fork is undone (a healed partition). :func:`confirm` waits until the transaction is
``depth`` blocks below the head of the chain the node follows, reading its receipt again
each time, so a reorg that moved it to another block is followed, and one that dropped it
is reported as :class:`WriteUndoneError`: then nothing of the write is done, and sending it
again is safe (a batch with ``skip_done`` resends only the items the chain does not show).
"""

from __future__ import annotations

import time
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound

from ledger_client.errors import RxLedgerError
from ledger_client.events import decode
from ledger_client.logs import raw_logs
from ledger_client.types import Receipt

__all__ = ["WriteUndoneError", "confirm"]

#: How often :func:`confirm` reads the chain again.
CONFIRM_POLL_SECONDS = 0.25


class WriteUndoneError(RxLedgerError, RuntimeError):
    """Raised when an acknowledged write is not on the chain and will not be there (its block
    left the chain and the transaction was dropped, replaced or reverted), or is still not
    there at the deadline. Retryable: send the write again."""

    def __init__(self, tx_hash: bytes, reason: str) -> None:
        self.tx_hash = tx_hash
        self.reason = reason
        super().__init__(f"write 0x{tx_hash.hex()} is not done: {reason}; send it again")


def _receipt(w3: Web3, tx_hash: bytes) -> Any | None:
    try:
        return w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return None


def _on_chain(w3: Web3, receipt: Any) -> bool:
    """True if the receipt's block is the chain's block at its height."""
    try:
        block = w3.eth.get_block(int(receipt["blockNumber"]))
    except BlockNotFound:
        return False
    return bytes(block["hash"]) == bytes(receipt["blockHash"])


def _why_not_pending(w3: Web3, tx_hash: bytes) -> str | None:
    """None while the node still holds the transaction to include; otherwise why it will not
    be included."""
    try:
        tx = w3.eth.get_transaction(HexBytes(tx_hash))
    except TransactionNotFound:
        return "its block left the chain and the node no longer knows the transaction"
    if tx.get("blockNumber") is not None:
        return None  # mined meanwhile: the receipt comes next
    taken = w3.eth.get_transaction_count(tx["from"], "latest") > int(tx["nonce"])
    # the block that took the nonce may be the one that took this transaction again, sealed
    # after the receipt was read: only the receipt's absence now says another one took it
    if taken and _receipt(w3, tx_hash) is None:
        return "its block left the chain and another transaction took its nonce"
    return None


def confirm(
    w3: Web3,
    receipt: Receipt,
    depth: int,
    timeout: float = 120.0,
    poll_seconds: float = CONFIRM_POLL_SECONDS,
) -> Receipt:
    """Wait until ``receipt``'s transaction is ``depth`` blocks below the head (0: in a block
    of the chain) and return its receipt there, which names another block if a reorg moved
    it. Raise :class:`WriteUndoneError` when it was dropped or reverted on the new chain, or
    is not ``depth`` deep within ``timeout`` seconds."""
    tx_hash = receipt.tx_hash
    deadline = time.monotonic() + timeout
    while True:
        found = _receipt(w3, tx_hash)
        if found is not None and _on_chain(w3, found):
            if found["status"] != 1:
                raise WriteUndoneError(
                    tx_hash, f"a reorg moved it to block {found['blockNumber']}, where it reverted"
                )
            if int(w3.eth.block_number) - int(found["blockNumber"]) >= depth:
                return Receipt(
                    tx_hash=tx_hash,
                    block_number=int(found["blockNumber"]),
                    gas_used=int(found["gasUsed"]),
                    events=tuple(decode(raw_logs(w3, found["logs"]))),
                )
        elif found is None:
            reason = _why_not_pending(w3, tx_hash)
            if reason is not None:
                raise WriteUndoneError(tx_hash, reason)
        if time.monotonic() > deadline:
            raise WriteUndoneError(
                tx_hash, f"not {depth} block(s) deep on the chain within {timeout} s"
            )
        time.sleep(poll_seconds)
