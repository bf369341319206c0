"""Relay a member-signed ERC-2771 forward request with the operator's key.

The forwarder checks the signature, nonce and deadline, and the target contract sees the
signer as the caller: the relaying gateway can neither forge nor alter what it submits.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.services.oplock import OperatorLock
from ledger_client.ledger import REVERT_ERRORS, Ledger
from ledger_client.relay import ForwardRequest, relay
from ledger_client.reverts import LedgerRevertError

#: Errors about the request itself (the forwarder refused it) rather than about what it asks.
FORWARDER_ERRORS = frozenset(
    {
        "ERC2771ForwarderInvalidSigner",
        "ERC2771ForwarderExpiredRequest",
        "ERC2771ForwarderMismatchedValue",
        "ERC2771UntrustfulTarget",
        "FailedCall",
    }
)


class RelayRefusedError(LedgerRevertError):
    """Raised when the forwarder refuses a request (bad signature, replay, expired, gas)."""


@dataclass(frozen=True)
class Relayed:
    """A forward request the chain executed."""

    tx_hash: str
    block_number: int
    sender: str
    target: str
    events: list[str]


def submit(relayer: Ledger, lock: OperatorLock, text: bytes) -> Relayed:
    """Parse ``text`` (ForwardRequest JSON) and submit it paid by ``relayer``.

    Raises ForwardRequestError (malformed), RelayRefusedError (the forwarder's error) or
    LedgerRevertError (the target contract's error, e.g. ``ConsortiumNotMember``).
    """
    request = ForwardRequest.from_json(text)
    try:
        with lock.hold():
            receipt = relay(relayer, request)
    except LedgerRevertError as exc:
        if exc.error in FORWARDER_ERRORS:
            raise RelayRefusedError(exc.error, exc.args_by_name, exc.data) from None
        raise
    except REVERT_ERRORS as exc:  # a revert without decodable data
        raise RelayRefusedError("Reverted", {"reason": str(exc)}, b"") from None
    return Relayed(
        tx_hash="0x" + receipt.tx_hash.hex(),
        block_number=receipt.block_number,
        sender=request.sender,
        target=request.to,
        events=[e.name for e in receipt.events],
    )
