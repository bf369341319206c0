"""RxLedger's exceptions: one root, domain subclasses, builtin twins."""

from __future__ import annotations


class RxLedgerError(Exception):
    """Raised when anything in RxLedger fails; the root of all its exceptions."""


class InvalidCodeError(RxLedgerError, ValueError):
    """Raised when a GS1 code or identifier is malformed or fails its checks."""


class ConfigurationError(RxLedgerError, ValueError):
    """Raised when a deployment file, key or setting is missing or unsafe."""


class CompileError(RxLedgerError, RuntimeError):
    """Raised when the Solidity sources do not compile or artifacts are stale."""


class InvalidInputError(RxLedgerError, ValueError):
    """Raised when a command's input (a file, an address, a member name, a choice) is missing,
    unreadable or malformed."""
