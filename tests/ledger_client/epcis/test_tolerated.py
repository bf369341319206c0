"""Errors refuse a document; warnings (a malformed location or party id, an unknown CBV
vocabulary value, a non-standard extension) are reported and the document is received."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from epcis_files import PARTNER_FILES
from lxml import etree

from ledger_client.epcis import (
    InvalidEPCISError,
    inspect_document,
    load_document,
    map_document,
    read_valid_document,
    to_epcis_12_xml,
    validate_document,
)
from ledger_client.epcis.operations import Commission, Pack, RegisterLot, Ship
from ledger_client.epcis.store import EventStore, event_key

Mutation = Callable[[dict[str, Any]], object]
DOTLESS_SGLN = "urn:epc:id:sgln:5813513247221"


def _first(doc: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = doc["epcisBody"]["eventList"][0]
    return event


@pytest.mark.parametrize(
    ("mutate", "field", "kind", "message"),
    [
        (
            lambda e: e["readPoint"].update(id=DOTLESS_SGLN),
            "/readPoint/id",
            "location",
            f"malformed readPoint id, kept as sent: {DOTLESS_SGLN}:"
            " expected CompanyPrefix.LocationReference.Extension"
            " (3 fields separated by '.', e.g. urn:epc:id:sgln:0614141.12345.0), got 1; 13 digits"
            " look like a GLN with its check digit, which the URN gives as company prefix and"
            " reference, without the check digit",
        ),
        (
            lambda e: e.update(bizLocation={"id": "dock 4"}),
            "/bizLocation/id",
            "location",
            "malformed bizLocation id, kept as sent: 'dock 4' is not a URI",
        ),
        (
            lambda e: e["readPoint"].update(name="Dock 4"),
            "/readPoint/name",
            "extension",
            "'name' in readPoint has no namespace prefix",
        ),
        (
            lambda e: e.update(
                sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:5813513247221"}]
            ),
            "/sourceList/0/source",
            "party",
            "malformed source id, kept as sent (no trading partner is read from it):"
            " urn:epc:id:pgln:5813513247221: expected CompanyPrefix.PartyReference"
            " (2 fields separated by '.', e.g. urn:epc:id:pgln:0614141.12345), got 1; 13 digits"
            " look like a GLN with its check digit, which the URN gives as company prefix and"
            " reference, without the check digit",
        ),
        (
            lambda e: e.update(
                destinationList=[
                    {"type": "location", "destination": "urn:epc:id:sgln:0614141.00001"}
                ]
            ),
            "/destinationList/0/destination",
            "party",
            "urn:epc:id:sgln:0614141.00001: expected CompanyPrefix.LocationReference.Extension"
            " (3 fields separated by '.', e.g. urn:epc:id:sgln:0614141.12345.0), got 2",
        ),
        (
            lambda e: e.update(bizStep="urn:epcglobal:cbv:bizstep:shipping"),
            "/bizStep",
            "vocabulary",
            "'urn:epcglobal:cbv:bizstep:shipping' is the EPCIS 1.2 spelling of CBV bizStep"
            " 'shipping' (EPCIS 2.0 writes 'shipping'); read as 'shipping'",
        ),
        (
            lambda e: e.update(bizStep="shipped"),
            "/bizStep",
            "vocabulary",
            "'shipped' is not a CBV bizStep nor the URI of another vocabulary",
        ),
        (
            lambda e: e.update(disposition="urn:epcglobal:cbv:disp:gone"),
            "/disposition",
            "vocabulary",
            "'urn:epcglobal:cbv:disp:gone' is not a CBV disposition",
        ),
        (
            lambda e: e["bizTransactionList"][0].update(type="asn"),
            "/bizTransactionList/0/type",
            "vocabulary",
            "'asn' is not a CBV business transaction type",
        ),
        (
            lambda e: e.update(
                destinationList=[
                    {"type": "owner", "destination": "https://id.gs1.org/417/4012345000016"}
                ]
            ),
            "/destinationList/0/type",
            "vocabulary",
            "'owner' is not a CBV source/destination type",
        ),
        (
            lambda e: e.update(persistentDisposition={"set": ["completeness_verified", "ok"]}),
            "/persistentDisposition/set/1",
            "vocabulary",
            "'ok' is not a CBV disposition",
        ),
        (
            lambda e: e.update(
                errorDeclaration={"declarationTime": "2005-04-05T10:00:00Z", "reason": "typo"}
            ),
            "/errorDeclaration/reason",
            "vocabulary",
            "'typo' is not a CBV error reason",
        ),
        (
            lambda e: e.update(packingSlip="PS-1"),
            "/packingSlip",
            "extension",
            "'packingSlip' is not an EPCIS 2.0 ObjectEvent field and has no namespace prefix:"
            " a non-standard extension, kept as sent",
        ),
        (
            lambda e: e.update(action="ADD", ilmd={"lotNumber": "L1"}),
            "/ilmd/lotNumber",
            "extension",
            "ILMD field 'lotNumber' has no namespace prefix",
        ),
        (
            lambda e: e.update(
                errorDeclaration={"declarationTime": "2005-04-05T10:00:00Z", "note": "typo"}
            ),
            "/errorDeclaration/note",
            "extension",
            "'note' in errorDeclaration has no namespace prefix",
        ),
        (
            lambda e: e.update(
                sensorElementList=[
                    {"sensorReport": [{"type": "Temperature", "value": 4, "probe": "P1"}]}
                ]
            ),
            "/sensorElementList/0/sensorReport/0/probe",
            "extension",
            "'probe' in sensorReport has no namespace prefix",
        ),
    ],
    ids=[
        "dotless-sgln-readPoint",
        "bizLocation-not-a-uri",
        "readPoint-field-without-prefix",
        "dotless-pgln-source",
        "sgln-without-extension-destination",
        "cbv-urn-spelling-in-2.0-json",
        "unknown-bizStep",
        "unknown-disposition",
        "unknown-business-transaction-type",
        "unknown-source-destination-type",
        "unknown-persistent-disposition",
        "unknown-error-reason",
        "event-field-without-prefix",
        "ilmd-field-without-prefix",
        "error-declaration-field-without-prefix",
        "sensor-report-field-without-prefix",
    ],
)
def test_a_tolerated_flaw_is_a_warning_and_the_document_is_received_as_sent(
    shipping_doc: dict[str, Any], mutate: Mutation, field: str, kind: str, message: str
) -> None:
    mutate(_first(shipping_doc))
    sent = copy.deepcopy(shipping_doc)
    inspection = inspect_document(shipping_doc)
    assert inspection.errors == []
    (warning,) = inspection.warnings
    assert (warning.index, warning.field, warning.kind) == (0, field, kind)
    assert warning.path == "/epcisBody/eventList/0" + field
    assert message in warning.message
    assert warning.event_id == _first(shipping_doc)["eventID"]
    assert warning.to_dict()["value"] == _pointer_get(sent, warning.path)
    # received unchanged: the value as sent, not what the error checks read instead
    assert load_document(json.dumps(shipping_doc)) == sent
    assert shipping_doc == sent
    assert validate_document(shipping_doc) == []


def _pointer_get(doc: Any, pointer: str) -> Any:
    for key in pointer.split("/")[1:]:
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (
            lambda e: e["epcList"].__setitem__(0, "urn:epc:id:sgtin:0614141.10734.2017"),
            "/epcisBody/eventList/0/epcList/0: urn:epc:id:sgtin:0614141.10734.2017:"
            " urn:epc:id:sgtin: company prefix + reference must have 13 digits",
        ),
        (
            lambda e: e["epcList"].__setitem__(0, "pack 1"),
            "/epcisBody/eventList/0/epcList/0: 'pack 1' is not a valid uri",
        ),
        (
            lambda e: e.update(
                quantityList=[{"epcClass": "urn:epc:class:lgtin:0614141.10734.L1", "quantity": 2}]
            ),
            "/epcisBody/eventList/0/quantityList/0/epcClass: urn:epc:class:lgtin:0614141.10734.L1",
        ),
        (
            lambda e: e.update(
                quantityList=[
                    {"epcClass": "urn:epc:class:lgtin:0614141.107346.L1", "quantity": "ten"}
                ]
            ),
            "/epcisBody/eventList/0/quantityList/0/quantity: 'ten' is not of type 'number'",
        ),
        (
            lambda e: e["readPoint"].pop("id"),
            "/epcisBody/eventList/0/readPoint: 'id' is a required property",
        ),
        (
            lambda e: e.update(bizStep=7),
            "/epcisBody/eventList/0/bizStep: 7 is not of type 'string'",
        ),
        (
            # a misspelt epcList is a non-standard field (warning), and then no epcList (error)
            lambda e: e.update(epclist=e.pop("epcList")),
            "/epcisBody/eventList/0: 'epcList' is a required property",
        ),
        (
            lambda e: e.update({"@type": "Thing"}),  # a JSON-LD keyword is no extension
            "/epcisBody/eventList/0: '@type' is not one of ['action'",
        ),
    ],
    ids=[
        "sgtin-digit-count",
        "epc-not-a-uri",
        "quantity-class-digit-count",
        "quantity-not-a-number",
        "readPoint-without-id",
        "bizStep-not-a-string",
        "misspelt-epcList",
        "json-ld-keyword",
    ],
)
def test_what_custody_needs_is_still_an_error_that_refuses_the_document(
    shipping_doc: dict[str, Any], mutate: Mutation, error: str
) -> None:
    mutate(_first(shipping_doc))
    with pytest.raises(InvalidEPCISError) as raised:
        load_document(json.dumps(shipping_doc))
    assert any(e.startswith(error) for e in raised.value.errors), raised.value.errors


def test_a_warning_never_hides_an_error_of_the_same_event(shipping_doc: dict[str, Any]) -> None:
    event = _first(shipping_doc)
    event["readPoint"]["id"] = DOTLESS_SGLN
    event["epcList"][1] = "urn:epc:id:sgtin:0614141.107346"
    # a field of another event type is a mistake, not an extension: checked, and refused
    event["parentID"] = "urn:epc:id:sscc:0614141.123456789"
    with pytest.raises(InvalidEPCISError) as raised:
        read_valid_document(shipping_doc)
    first, second, third = raised.value.errors
    assert first.startswith(
        "/epcisBody/eventList/0/epcList/1: urn:epc:id:sgtin:0614141.107346:"
        " urn:epc:id:sgtin needs CompanyPrefix.IndicatorItemReference.Serial"
    )
    assert second == (
        "/epcisBody/eventList/0/parentID: urn:epc:id:sscc:0614141.123456789:"
        " urn:epc:id:sscc: company prefix + reference must have 17 digits (the SSCC without"
        " its check digit), got 16"
    )
    assert third.startswith("/epcisBody/eventList/0: 'parentID' is not one of ['action'")
    assert [w.field for w in raised.value.warnings] == ["/readPoint/id"]


def test_the_1_2_urn_spelling_of_a_bizstep_maps_once_validated(
    shipping_doc: dict[str, Any],
) -> None:
    _first(shipping_doc)["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
    report = map_document(shipping_doc)  # validates: a warning, not an error
    assert [type(op) for op in report.events[0].operations] == [Ship]


def test_an_unknown_bizstep_is_stored_only_with_the_reason(shipping_doc: dict[str, Any]) -> None:
    _first(shipping_doc)["bizStep"] = "shipped"
    (entry, _) = map_document(shipping_doc).events
    assert entry.operations == ()
    assert entry.stored_only == "OBSERVE with bizStep 'shipped' and disposition 'in_transit'" \
        " has no ledger meaning"  # fmt: skip


def test_a_shipment_goes_to_the_first_party_that_can_be_read(
    shipping_doc: dict[str, Any],
) -> None:
    event = _first(shipping_doc)
    event["destinationList"] = [
        {"type": "owning_party", "destination": "urn:epc:id:pgln:4012345000016"},
        {"type": "location", "destination": "urn:epc:id:sgln:4012345.00001.0"},
    ]
    (ship,) = map_document(shipping_doc).events[0].operations
    assert isinstance(ship, Ship) and ship.to_party == "4012345000016"
    # no readable party: the one sent, which the executor refuses as no GLN of a member
    event["destinationList"] = event["destinationList"][:1]
    (ship,) = map_document(shipping_doc).events[0].operations
    assert isinstance(ship, Ship) and ship.to_party == "urn:epc:id:pgln:4012345000016"


def _transaction_date(index: int, position: int, date: str, line: int) -> dict[str, Any]:
    field = f"/bizTransactionList/{position}/date"
    return {
        "index": index,
        "eventID": None,
        "path": f"/epcisBody/eventList/{index}{field}",
        "field": field,
        "value": date,
        "kind": "extension",
        "message": f"line {line}: <bizTransaction> attribute 'date' has no place in EPCIS 2.0;"
        " kept in this warning, not in the event",
    }


def test_the_tracelink_sample_is_received_with_its_dotless_sgln_and_dates_as_warnings() -> None:
    valid = read_valid_document(PARTNER_FILES / "tracelink_sample.xml")
    assert [w.to_dict() for w in valid.warnings] == [
        _transaction_date(3, 0, "2018-06-12", 211),
        _transaction_date(3, 1, "2018-06-12", 212),
        {
            "index": 4,
            "eventID": None,
            "path": "/epcisBody/eventList/4/readPoint/id",
            "field": "/readPoint/id",
            "value": DOTLESS_SGLN,
            "kind": "location",
            "message": f"malformed readPoint id, kept as sent: {DOTLESS_SGLN}:"
            " expected CompanyPrefix.LocationReference.Extension"
            " (3 fields separated by '.', e.g. urn:epc:id:sgln:0614141.12345.0), got 1; 13 digits"
            " look like a GLN with its check digit, which the URN gives as company prefix and"
            " reference, without the check digit",
        },
    ]
    assert valid.events[4]["readPoint"] == {"id": DOTLESS_SGLN}
    # EPCIS 2.0 has no place for the date of a business transaction: the warning holds it
    assert valid.events[3]["bizTransactionList"] == [
        {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:8779891013658:H9022413"},
        {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:8811891013778:PO654321"},
    ]
    assert len(valid.events) == 5


def test_the_tracelink_style_shipment_keeps_its_custody_and_warns_eight_times() -> None:
    valid = read_valid_document(PARTNER_FILES / "tracelink_style_shipment.xml")
    assert [(w.index, w.field, w.kind) for w in valid.warnings] == [
        (0, "/disposition", "vocabulary"),
        (2, "/bizTransactionList/0/date", "extension"),
        (2, "/bizTransactionList/1/date", "extension"),
        (2, "/bizTransactionList/2/type", "vocabulary"),
        (2, "/packingSlipNumber", "extension"),
        (2, "/readPoint/id", "location"),
        (2, "/sourceList/1/source", "party"),
        (3, "/readPoint/id", "location"),
    ]
    assert valid.events[2]["packingSlipNumber"] == "PS-7731"
    assert [w.value for w in valid.warnings if w.field.endswith("/date")] == [
        "2025-03-03",
        "2025-03-01",
    ]
    commissioning, packing, shipping, transaction = valid.report.events
    assert [type(op) for op in commissioning.operations] == [RegisterLot, Commission]
    assert [type(op) for op in packing.operations] == [Pack]
    (ship,) = shipping.operations
    assert isinstance(ship, Ship)
    assert (ship.to_party, ship.from_party) == ("4012345000016", "0614141000012")
    assert transaction.stored_only is not None


def test_an_element_without_namespace_that_names_an_epcis_field_is_still_refused() -> None:
    xml = (PARTNER_FILES / "tracelink_style_shipment.xml").read_bytes()
    xml = xml.replace(b"<packingSlipNumber>PS-7731</packingSlipNumber>", b"<type>Object</type>")
    with pytest.raises(InvalidEPCISError, match=r"line \d+: <type> is not an EPCIS 1.2 event"):
        read_valid_document(xml)


def test_a_field_without_namespace_survives_export_to_1_2_and_back(
    shipping_doc: dict[str, Any],
) -> None:
    _first(shipping_doc)["packingSlip"] = "PS-1"
    xml = to_epcis_12_xml(shipping_doc)
    # in the event's ##local extension slot, where the 1.2 XSD allows an unqualified element
    (slip,) = etree.fromstring(xml).iterfind("EPCISBody/EventList/*/extension/extension/*")
    assert (slip.tag, slip.text) == ("packingSlip", "PS-1")
    back = read_valid_document(xml)
    assert _first(back.doc)["packingSlip"] == "PS-1"
    sent = read_valid_document(shipping_doc)
    assert [w.to_dict() for w in back.warnings] == [w.to_dict() for w in sent.warnings]
    assert back.report.events[0].event_hash == sent.report.events[0].event_hash


def test_the_store_keeps_each_warning_beside_its_event_once() -> None:
    valid = read_valid_document(PARTNER_FILES / "tracelink_style_shipment.xml")
    with EventStore() as store:
        for _ in range(2):  # stored again: nothing doubles
            store.add_document(valid.doc, valid.report, valid.warnings)
        shipping = valid.report.events[2]
        key = event_key(shipping.event_hash, valid.events[2])
        assert store.warnings(key) == [
            {
                "field": w.field,
                "kind": w.kind,
                "value": w.value,
                "message": w.message,
            }
            for w in valid.warnings
            if w.index == 2
        ]
        stored = store.event(shipping.event_hash or b"")
        assert stored is not None and stored.event["readPoint"] == {"id": DOTLESS_SGLN}
        assert store.count() == 4
