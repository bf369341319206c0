"""EPCIS layer: validate, hash, classify, import and export EPCIS events.

Validation, hashing, mapping and conversion (EPCIS 2.0 JSON-LD, 2.0 XML, 1.2 XML) are pure
Python; ``capture_document`` (map, store, apply on chain), ``export_history`` and
``transaction_information`` read or write a chain. See docs/epcis.md.
"""

from __future__ import annotations

from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.apply import EventResult, ImportResult, OperationResult, apply_report
from ledger_client.epcis.capture import capture_document, read_document, read_valid_document
from ledger_client.epcis.document import ValidDocument
from ledger_client.epcis.dscsa import transaction_information
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.export import operations_to_events, to_epcis_json
from ledger_client.epcis.export12 import to_epcis_12_xml
from ledger_client.epcis.hashing import event_hash, event_hash_uri
from ledger_client.epcis.history import export_history
from ledger_client.epcis.import12 import convert_12_xml, master_data, master_data_of
from ledger_client.epcis.mapping import EventReport, MappingReport, map_document, map_event
from ledger_client.epcis.store import EventStore
from ledger_client.epcis.tolerated import ValidationWarning
from ledger_client.epcis.validation import (
    Inspection,
    check_document,
    inspect_document,
    load_document,
    validate_document,
)
from ledger_client.epcis.xml2_read import convert_20_xml
from ledger_client.epcis.xml2_write import to_epcis_20_xml

__all__ = [
    "InvalidEPCISError",
    "Inspection",
    "ValidationWarning",
    "inspect_document",
    "validate_document",
    "check_document",
    "load_document",
    "event_hash",
    "event_hash_uri",
    "map_document",
    "map_event",
    "MappingReport",
    "EventReport",
    "convert_12_xml",
    "convert_20_xml",
    "master_data",
    "master_data_of",
    "to_epcis_json",
    "to_epcis_12_xml",
    "to_epcis_20_xml",
    "operations_to_events",
    "read_document",
    "read_valid_document",
    "ValidDocument",
    "capture_document",
    "apply_report",
    "AnchorIndex",
    "ImportResult",
    "EventResult",
    "OperationResult",
    "EventStore",
    "export_history",
    "transaction_information",
]
