"""Exceptions of the EPCIS layer."""

from __future__ import annotations

from collections.abc import Iterable

from ledger_client.errors import RxLedgerError

__all__ = ["InvalidEPCISError"]


class InvalidEPCISError(RxLedgerError, ValueError):
    """Raised when an EPCIS document or event is malformed, invalid or cannot be converted."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors: list[str] = list(errors)
        shown = "; ".join(self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"invalid EPCIS: {shown}{more}")
