"""Exceptions of the EPCIS layer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ledger_client.errors import RxLedgerError

if TYPE_CHECKING:
    from ledger_client.epcis.tolerated import ValidationWarning

__all__ = ["InvalidEPCISError"]


class InvalidEPCISError(RxLedgerError, ValueError):
    """Raised when an EPCIS document or event is malformed, invalid or cannot be converted.

    ``errors`` say why; ``warnings`` are the document's tolerated flaws, if it was read far
    enough to find them (they alone would not have refused it).
    """

    def __init__(self, errors: Iterable[str], warnings: Iterable[ValidationWarning] = ()) -> None:
        self.errors: list[str] = list(errors)
        self.warnings: list[ValidationWarning] = list(warnings)
        shown = "; ".join(self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"invalid EPCIS: {shown}{more}")
