"""The validated EPCIS document: what capture's steps after reading take."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import InitVar, dataclass
from functools import cached_property
from typing import Any

from ledger_client.epcis import validation
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.mapping import MappingReport, map_document
from ledger_client.epcis.tolerated import ValidationWarning

__all__ = ["ValidDocument"]

_MINT = object()


@dataclass(frozen=True, eq=False)
class ValidDocument:
    """An EPCIS 2.0 document (or bare event) without errors, with its events and its
    warnings (flaws it is received with, :mod:`ledger_client.epcis.tolerated`); its mapping
    to ledger operations is computed once, when first asked for.

    Only :meth:`validate` makes one (``read_valid_document`` reads then calls it), so a
    step that takes a ``ValidDocument`` neither validates again nor skips validation.
    """

    doc: dict[str, Any]
    events: tuple[dict[str, Any], ...]
    warnings: tuple[ValidationWarning, ...] = ()
    mint: InitVar[object] = None

    def __post_init__(self, mint: object) -> None:
        if mint is not _MINT:
            raise TypeError("a ValidDocument comes from ValidDocument.validate")

    @classmethod
    def validate(
        cls, doc: dict[str, Any], found: Iterable[ValidationWarning] = ()
    ) -> ValidDocument:
        """Validate ``doc`` once; raise :class:`InvalidEPCISError` listing its errors.
        ``found`` are warnings its source's converter found (EPCIS 1.2 XML content with no
        place in EPCIS 2.0), kept with the others."""
        inspection = validation.inspect_document(doc, found)
        if inspection.errors:
            raise InvalidEPCISError(inspection.errors, inspection.warnings)
        events = tuple(event for _, event in validation.iter_events(doc))
        return cls(doc, events, tuple(inspection.warnings), _MINT)

    @cached_property
    def report(self) -> MappingReport:
        """The per-event ledger operations (mapped on first use, then kept)."""
        return map_document(self.doc, validate=False)
