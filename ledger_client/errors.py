"""RxLedger's exceptions: one root, domain subclasses, builtin twins."""

from __future__ import annotations

from typing import Any


class RxLedgerError(Exception):
    """Raised when anything in RxLedger fails; the root of all its exceptions."""


class InvalidCodeError(RxLedgerError, ValueError):
    """Raised when a GS1 code or identifier is malformed or fails its checks."""


class UnknownPrefixError(InvalidCodeError):
    """Raised when no member owns the GS1 company prefix of a GTIN or SSCC, so the code names
    no record of the network."""


class ConfigurationError(RxLedgerError, ValueError):
    """Raised when a deployment file, key or setting is missing or unsafe."""


class CompileError(RxLedgerError, RuntimeError):
    """Raised when the Solidity sources do not compile or artifacts are stale."""


class InvalidInputError(RxLedgerError, ValueError):
    """Raised when a command's input (a file, an address, a member name, a choice) is missing,
    unreadable or malformed."""


class DuplicateInBatchError(RxLedgerError, ValueError):
    """Raised when a batch names the same pack or unit twice, before anything is sent.

    A client-side check, not a contract revert; like :class:`LedgerRevertError` it names
    its ``error`` and ``args_by_name`` so that ``explain`` words it in the user's codes.
    """

    error = "DuplicateInBatch"

    def __init__(self, what: str, item: bytes) -> None:
        self.args_by_name: dict[str, Any] = {"what": what, "id": item}
        #: ledger id -> the caller's own code for it, for messages (as LedgerRevertError's)
        self.codes: dict[bytes, str] = {}
        super().__init__(f"{self.error}(what={what!r}, id=0x{item.hex()})")


class WeakSerialsWarning(UserWarning):
    """Warned when serials being commissioned follow a counter or carry too little entropy
    for their pack ids to resist an observer who enumerates serials of a public GTIN."""
