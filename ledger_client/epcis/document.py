"""The validated EPCIS document: what capture's steps after reading take."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from functools import cached_property
from typing import Any

from ledger_client.epcis.mapping import MappingReport, map_document
from ledger_client.epcis.validation import check_document, iter_events

__all__ = ["ValidDocument"]

_MINT = object()


@dataclass(frozen=True, eq=False)
class ValidDocument:
    """An EPCIS 2.0 document (or bare event) that passed :func:`check_document`, with its
    events; its mapping to ledger operations is computed once, when first asked for.

    Only :meth:`validate` makes one (``read_valid_document`` reads then calls it), so a
    step that takes a ``ValidDocument`` neither validates again nor skips validation.
    """

    doc: dict[str, Any]
    events: tuple[dict[str, Any], ...]
    mint: InitVar[object] = None

    def __post_init__(self, mint: object) -> None:
        if mint is not _MINT:
            raise TypeError("a ValidDocument comes from ValidDocument.validate")

    @classmethod
    def validate(cls, doc: dict[str, Any]) -> ValidDocument:
        """Validate ``doc`` once; raise :class:`InvalidEPCISError` listing its problems."""
        check_document(doc)
        return cls(doc, tuple(event for _, event in iter_events(doc)), _MINT)

    @cached_property
    def report(self) -> MappingReport:
        """The per-event ledger operations (mapped on first use, then kept)."""
        return map_document(self.doc, validate=False)
