"""Capture an EPCIS document: validate, map, keep it in the owner's store, apply it on chain.

This is what ``rxledger epcis import`` and the gateway's capture endpoint call.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.apply import ImportResult, apply_report
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.import12 import convert_12_xml
from ledger_client.epcis.mapping import MappingReport, map_document
from ledger_client.epcis.store import EventStore
from ledger_client.epcis.validation import check_depth, check_document
from ledger_client.ledger import Ledger

__all__ = ["read_document", "capture_document"]


def read_document(source: str | bytes | PathLike[str] | dict[str, Any]) -> dict[str, Any]:
    """Return a valid EPCIS 2.0 document from JSON-LD or EPCIS 1.2 XML (text, bytes, path or
    an already parsed dict); raise :class:`InvalidEPCISError` saying what is wrong."""
    if isinstance(source, dict):
        return check_document(source)
    data: bytes
    if isinstance(source, PathLike):
        data = Path(source).read_bytes()
    elif isinstance(source, str):
        data = source.encode("utf-8")
    else:
        data = source
    check_depth(data)
    head = data.lstrip()[:1]
    if head == b"<":
        return convert_12_xml(data)
    try:
        doc = json.loads(data)
    except ValueError as exc:  # not JSON, not text, or a number of more than 4300 digits
        raise InvalidEPCISError([f"/: neither EPCIS 1.2 XML nor JSON: {exc}"]) from exc
    return check_document(doc)


def capture_document(
    ledger: Ledger,
    source: str | bytes | PathLike[str] | dict[str, Any],
    store: EventStore,
    *,
    anchors: AnchorIndex | None = None,
    name: str | None = None,
) -> tuple[MappingReport, ImportResult]:
    """Import one EPCIS document as ``ledger``'s member.

    Validates and maps it (an invalid document raises :class:`InvalidEPCISError` and
    nothing is stored or written), stores every event and its master data in ``store``,
    then applies the ledger operations (see :func:`apply_report`). Importing the same
    document again writes nothing on chain.
    """
    doc = read_document(source)
    report = map_document(doc)
    store.add_document(doc, report)
    result = apply_report(
        ledger, report, anchors=anchors, receiver=doc.get("receiver"), source=name
    )
    return report, result
