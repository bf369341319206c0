"""EPCIS layer: validate, hash, classify, import and export EPCIS events."""

from __future__ import annotations

from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.hashing import event_hash, event_hash_uri
from ledger_client.epcis.mapping import EventReport, MappingReport, map_document, map_event
from ledger_client.epcis.validation import load_document, validate_document

__all__ = [
    "InvalidEPCISError",
    "validate_document",
    "load_document",
    "event_hash",
    "event_hash_uri",
    "map_document",
    "map_event",
    "MappingReport",
    "EventReport",
]
