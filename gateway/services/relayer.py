"""Relay a member-signed ERC-2771 forward request with the operator's key.

The forwarder checks the signature, nonce and deadline, and the target contract sees the
signer as the caller: the relaying gateway can neither forge nor alter what it submits.
Before paying for it, the gateway checks its own policy: only to this deployment's contracts,
only for an active member, only up to a gas cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.services.oplock import OperatorLock
from gateway.services.standing import Standing, refusal
from ledger_client.errors import RxLedgerError
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


class RelayPolicyError(RxLedgerError, ValueError):
    """Raised when this gateway will not pay for a request (HTTP 400), before it is sent."""


@dataclass(frozen=True)
class RelayPolicy:
    """What this gateway relays: calls to ``targets`` (address -> contract name) asking for
    at most ``max_gas``, with no ether, signed by an active member."""

    targets: dict[str, str]
    max_gas: int

    def check(self, request: ForwardRequest, signer: Standing) -> None:
        """Raise RelayPolicyError naming the first rule ``request`` breaks."""
        if request.to not in self.targets:
            names = ", ".join(f"{n} {a}" for a, n in self.targets.items())
            raise RelayPolicyError(
                f"this gateway relays only to RxLedger's contracts ({names}), not to {request.to}"
            )
        if request.gas > self.max_gas:
            raise RelayPolicyError(
                f"forward request asks for {request.gas} gas, more than this gateway's cap of"
                f" {self.max_gas}"
            )
        if request.value:
            raise RelayPolicyError("forward request sends ether: value must be 0")
        refused = refusal(request.sender, signer)
        if refused:
            raise RelayPolicyError(f"forward request signer: {refused}")


@dataclass(frozen=True)
class Relayed:
    """A forward request the chain executed."""

    tx_hash: str
    block_number: int
    sender: str
    target: str
    events: list[str]


def submit(relayer: Ledger, lock: OperatorLock, request: ForwardRequest) -> Relayed:
    """Submit ``request`` paid by ``relayer`` (after :meth:`RelayPolicy.check`).

    Raises RelayRefusedError (the forwarder's error) or LedgerRevertError (the target
    contract's error, e.g. ``SerialRegistryNotCustodian``).
    """
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
