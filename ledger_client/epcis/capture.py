"""Capture an EPCIS document: validate, map, keep it in the owner's store, apply it on chain.

This is what ``rxledger epcis import`` and the gateway's capture endpoint call. The
document is validated once, at the edge (:func:`read_valid_document`); later steps take
the :class:`ValidDocument` and its mapping, computed once.
"""

from __future__ import annotations

import dataclasses
import json
from os import PathLike
from pathlib import Path
from typing import Any

from ledger_client.epcis._xml12 import parse_xml
from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.apply import ImportResult, apply_report
from ledger_client.epcis.document import ValidDocument
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.import12 import translate_12_xml
from ledger_client.epcis.mapping import MappingReport
from ledger_client.epcis.store import EventStore
from ledger_client.epcis.tolerated import ValidationWarning
from ledger_client.epcis.validation import check_depth
from ledger_client.epcis.xml2_read import from_20_root, is_20_xml
from ledger_client.ledger import Ledger

__all__ = ["read_valid_document", "read_document", "capture_document"]

Source = str | bytes | PathLike[str] | dict[str, Any]
"""An EPCIS document as JSON-LD, EPCIS 2.0 XML or EPCIS 1.2 XML text, bytes, a path, or a
parsed dict."""


def _translate_xml(data: bytes) -> tuple[dict[str, Any], list[ValidationWarning]]:
    """An XML document as EPCIS 2.0 JSON-LD (EPCIS 2.0 XML by its namespace, else 1.2),
    with the warnings of its content that EPCIS 2.0 has no place for."""
    root = parse_xml(data)
    return (from_20_root(root), []) if is_20_xml(root) else translate_12_xml(data)


def read_valid_document(source: Source) -> ValidDocument:
    """Read and validate an EPCIS 2.0 document from JSON-LD, EPCIS 2.0 XML or EPCIS 1.2 XML
    (text, bytes, path or an already parsed dict); raise :class:`InvalidEPCISError` saying
    what is wrong. The document's warnings (flaws it is received with) are in the result's
    ``warnings``."""
    if isinstance(source, dict):
        return ValidDocument.validate(source)
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
        return ValidDocument.validate(*_translate_xml(data))
    try:
        doc = json.loads(data)
    except ValueError as exc:  # not JSON, not text, or a number of more than 4300 digits
        raise InvalidEPCISError([f"/: neither EPCIS XML nor JSON: {exc}"]) from exc
    return ValidDocument.validate(doc)


def read_document(source: Source) -> dict[str, Any]:
    """Return the valid EPCIS 2.0 document :func:`read_valid_document` reads."""
    return read_valid_document(source).doc


def capture_document(
    ledger: Ledger,
    source: Source | ValidDocument,
    store: EventStore,
    *,
    anchors: AnchorIndex | None = None,
    name: str | None = None,
) -> tuple[MappingReport, ImportResult]:
    """Import one EPCIS document as ``ledger``'s member.

    Validates ``source`` unless it is a :class:`ValidDocument` already (a document with
    errors raises :class:`InvalidEPCISError` and nothing is stored or written; one with
    warnings only is received), maps it, stores every event, its warnings and the master
    data in ``store``, then applies the ledger operations (see :func:`apply_report`); the
    result carries the warnings. Importing the same document again writes nothing on chain.
    """
    valid = source if isinstance(source, ValidDocument) else read_valid_document(source)
    report = valid.report
    store.add_document(valid.doc, report, valid.warnings)
    result = apply_report(
        ledger, report, anchors=anchors, receiver=valid.doc.get("receiver"), source=name
    )
    return report, dataclasses.replace(result, warnings=valid.warnings)
