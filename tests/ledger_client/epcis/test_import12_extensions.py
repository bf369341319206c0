"""EPCIS 1.2 import: extension content, nillable fields, EPCIS 2.0 content in 1.2 documents,
and what is kept with a warning or refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from epcis_event_hash_generator import hash_generator, xml_to_py
from lxml import etree

from ledger_client.epcis import (
    InvalidEPCISError,
    convert_12_xml,
    event_hash_uri,
    map_document,
    read_valid_document,
    to_epcis_12_xml,
)
from ledger_client.epcis._xml_json import Prefixes, element_json

_HEAD = (
    "<eventTime>2024-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
)
SGTIN = "urn:epc:id:sgtin:0614141.107346.2017"


def _document(events: str, namespaces: str = "") -> bytes:
    return (
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:ex="http://ex.example/ns/" {namespaces} schemaVersion="1.2" '
        'creationDate="2024-01-01T00:00:00Z">'
        f"<EPCISBody><EventList>{events}</EventList></EPCISBody></epcis:EPCISDocument>"
    ).encode()


def _object_event(inner: str) -> bytes:
    return _document(
        f"<ObjectEvent>{_HEAD}<epcList><epc>{SGTIN}</epc></epcList>"
        f"<action>ADD</action>{inner}</ObjectEvent>"
    )


def _only_event(xml: bytes) -> dict[str, Any]:
    (event,) = convert_12_xml(xml)["epcisBody"]["eventList"]
    return event


def _round_trips(xml: bytes) -> None:
    first = convert_12_xml(xml)
    assert convert_12_xml(to_epcis_12_xml(first)) == first


def test_repeated_extension_elements_become_a_list_at_every_level() -> None:
    xml = _object_event(
        "<readPoint><id>urn:epc:id:sgln:0614141.07346.1234</id>"
        "<ex:gate>1</ex:gate><ex:gate>2</ex:gate></readPoint>"
        "<extension><ilmd><ex:cert>A</ex:cert><ex:cert>B</ex:cert></ilmd></extension>"
        "<ex:leg><ex:stop>X</ex:stop><ex:stop>Y</ex:stop><ex:stop>Z</ex:stop></ex:leg>"
        "<ex:leg><ex:stop>W</ex:stop></ex:leg>"
    )
    event = _only_event(xml)
    assert event["readPoint"]["ex:gate"] == ["1", "2"]
    assert event["ilmd"] == {"ex:cert": ["A", "B"]}
    assert event["ex:leg"] == [{"ex:stop": ["X", "Y", "Z"]}, {"ex:stop": "W"}]
    _round_trips(xml)


def test_repeated_elements_change_the_event_hash() -> None:
    one = _only_event(_object_event("<ex:seal>1</ex:seal>"))
    three = _only_event(
        _object_event("<ex:seal>1</ex:seal><ex:seal>2</ex:seal><ex:seal>3</ex:seal>")
    )
    context = convert_12_xml(_object_event("<ex:seal>1</ex:seal>"))["@context"]
    assert three["ex:seal"] == ["1", "2", "3"]
    assert event_hash_uri(one, context) != event_hash_uri(three, context)


def test_attributes_and_mixed_content_are_kept_beside_the_text() -> None:
    xml = _object_event(
        '<extension><ilmd><ex:netWeight unit="KGM" ex:basis="dry">3.5</ex:netWeight>'
        "</ilmd></extension>"
        "<ex:note>before <ex:b>bold</ex:b> after</ex:note>"
    )
    event = _only_event(xml)
    assert event["ilmd"]["ex:netWeight"] == {"unit": "KGM", "ex:basis": "dry", "#text": "3.5"}
    assert event["ex:note"] == {"ex:b": "bold", "#text": "before after"}
    assert event_hash_uri(event, convert_12_xml(xml)["@context"]).startswith("ni:///sha-256;")
    _round_trips(xml)


def test_element_json_is_usable_on_its_own_and_names_new_namespaces() -> None:
    el = etree.fromstring(
        '<a:top xmlns:a="urn:a" xmlns:b="urn:b" b:flag="y"><a:x>1</a:x><a:x/><b:y>2</b:y></a:top>'
    )
    prefixes = Prefixes({"known": "urn:b"}, reserved={"a"})
    assert element_json(el, prefixes) == {"known:flag": "y", "a2:x": ["1", ""], "known:y": "2"}
    assert prefixes.context() == {"a2": "urn:a"}


def _quantity(inner: str) -> bytes:
    return _document(
        f"<ObjectEvent>{_HEAD}<epcList/><action>OBSERVE</action><extension><quantityList>"
        f"<quantityElement><epcClass>urn:epc:class:lgtin:4012345.012345.998877</epcClass>"
        f"{inner}</quantityElement></quantityList></extension></ObjectEvent>"
    )


def test_a_nil_quantity_is_accepted_as_a_quantity_not_stated() -> None:
    event = _only_event(_quantity('<quantity xsi:nil="true"/><uom>KGM</uom>'))
    assert event["quantityList"] == [
        {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "uom": "KGM"}
    ]
    _round_trips(_quantity('<quantity xsi:nil="true"/>'))


def test_a_nil_quantity_with_a_value_is_refused() -> None:
    with pytest.raises(InvalidEPCISError, match=r"<quantity> is xsi:nil but not empty"):
        convert_12_xml(_quantity('<quantity xsi:nil="true">4</quantity>'))


def test_nil_on_a_field_the_xsd_does_not_declare_nillable_is_refused() -> None:
    with pytest.raises(InvalidEPCISError, match=r"line 1: <bizStep> is not nillable"):
        convert_12_xml(_object_event('<bizStep xsi:nil="true"/>'))


def test_a_nil_extension_element_is_kept_with_its_nil_attribute() -> None:
    event = _only_event(_object_event('<ex:recall xsi:nil="true"/>'))
    assert event["ex:recall"] == {"xsi:nil": "true"}


def test_sensor_data_persistent_disposition_and_certification_in_12_extension_points() -> None:
    xml = _object_event(
        "<baseExtension><extension><certificationInfo>https://cert.example/1"
        "</certificationInfo></extension></baseExtension>"
        "<extension><extension>"
        "<sensorElementList><sensorElement>"
        '<sensorMetadata time="2024-01-01T00:00:00Z" ex:batch="7"/>'
        '<sensorReport type="gs1:Temperature" value="4.5" uom="CEL"/>'
        '<sensorReport type="gs1:Temperature" exception="gs1:ALARM_CONDITION" '
        'booleanValue="true" component="example:x"/>'
        "<ex:probe>P1</ex:probe>"
        "</sensorElement></sensorElementList>"
        "<persistentDisposition><set>urn:epcglobal:cbv:disp:completeness_verified</set>"
        "<unset>urn:epcglobal:cbv:disp:completeness_inferred</unset></persistentDisposition>"
        "</extension></extension>"
    )
    event = _only_event(xml)
    assert event["certificationInfo"] == "https://cert.example/1"
    assert event["sensorElementList"] == [
        {
            "sensorMetadata": {"time": "2024-01-01T00:00:00Z", "ex:batch": "7"},
            "sensorReport": [
                {"type": "Temperature", "value": 4.5, "uom": "CEL"},
                {
                    "type": "Temperature",
                    "exception": "ALARM_CONDITION",
                    "booleanValue": True,
                    "component": "example:x",
                },
            ],
            "ex:probe": "P1",
        }
    ]
    assert event["persistentDisposition"] == {
        "set": ["completeness_verified"],
        "unset": ["completeness_inferred"],
    }
    exported = to_epcis_12_xml(convert_12_xml(xml))
    assert b"<extension><extension><sensorElementList>" in exported.replace(b"\n", b"").replace(
        b" ", b""
    )
    _round_trips(xml)


def test_an_association_event_in_the_event_list_extension_is_stored_not_refused() -> None:
    xml = _document(
        f"<extension><extension><AssociationEvent>{_HEAD}"
        "<parentID>urn:epc:id:grai:4012345.55555.987</parentID>"
        "<childEPCs><epc>urn:epc:id:giai:4000001.12345</epc></childEPCs>"
        "<action>ADD</action></AssociationEvent></extension></extension>"
    )
    (report,) = map_document(convert_12_xml(xml)).events
    assert report.type == "AssociationEvent"
    assert report.stored_only is not None and report.event_hash is not None
    _round_trips(xml)


def _read(xml: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The only event of a received document and its warnings (as JSON)."""
    valid = read_valid_document(xml)
    (event,) = valid.events
    return event, [w.to_dict() for w in valid.warnings]


@pytest.mark.parametrize(
    ("inner", "attributes", "keys", "value", "message"),
    [
        ("<extension><extension><newField>7</newField></extension></extension>", "",
         ("newField",), "7", "'newField' is not an EPCIS 2.0 ObjectEvent field"),
        ("<bizstep>shipping</bizstep>", "", ("bizstep",), "shipping",
         "'bizstep' is not an EPCIS 2.0 ObjectEvent field"),
        ("", ' flag="1"', ("flag",), "1", "'flag' is not an EPCIS 2.0 ObjectEvent field"),
        ('<readPoint flag="1"><id>urn:epc:id:sgln:0614141.07346.1234</id></readPoint>', "",
         ("readPoint", "flag"), "1", "'flag' in readPoint has no namespace prefix"),
        ("<bizLocation><id>urn:epc:id:sgln:0614141.07346.1234</id><extension><dock>4</dock>"
         "</extension></bizLocation>", "", ("bizLocation", "dock"), "4",
         "'dock' in bizLocation has no namespace prefix"),
        ("<extension><ilmd><lot>L1</lot></ilmd></extension>", "", ("ilmd", "lot"), "L1",
         "ILMD field 'lot' has no namespace prefix"),
        ("<baseExtension><errorDeclaration><declarationTime>2024-01-02T00:00:00Z"
         "</declarationTime><note>typo</note></errorDeclaration></baseExtension>", "",
         ("errorDeclaration", "note"), "typo", "'note' in errorDeclaration has no namespace"),
        ("<extension><extension><sensorElementList><sensorElement>"
         '<sensorReport type="gs1:Temperature" value="4" probe="P1"/>'
         "</sensorElement></sensorElementList></extension></extension>", "",
         ("sensorElementList", 0, "sensorReport", 0, "probe"), "P1",
         "'probe' in sensorReport has no namespace prefix"),
    ],
    ids=["in-extension-point", "misspelt-field", "event-attribute", "readPoint-attribute",
         "bizLocation-extension", "ilmd", "error-declaration", "sensor-report-attribute"],
)  # fmt: skip
def test_an_unqualified_non_field_is_kept_under_its_own_name_with_a_warning(
    inner: str, attributes: str, keys: tuple[str | int, ...], value: str, message: str
) -> None:
    xml = _document(
        f"<ObjectEvent{attributes}>{_HEAD}<epcList><epc>{SGTIN}</epc></epcList>"
        f"<action>ADD</action>{inner}</ObjectEvent>"
    )
    event, warnings = _read(xml)
    held: Any = event
    for key in keys:
        held = held[key]
    assert held == value
    (warning,) = warnings
    field = "/" + "/".join(map(str, keys))
    assert (warning["field"], warning["kind"], warning["value"]) == (field, "extension", value)
    assert message in warning["message"]
    # GS1's hash generator reads the XML element or attribute as this same bare field
    from_xml = hash_generator.epcis_hashes_from_events(
        xml_to_py.event_list_from_epcis_document_str(xml.decode())
    )
    assert event_hash_uri(event, convert_12_xml(xml)["@context"]) == from_xml[0]
    # written back where 1.2 allows an unqualified element; read back the same, same warning
    assert _read(to_epcis_12_xml(convert_12_xml(xml))) == (event, warnings)


@pytest.mark.parametrize(
    ("inner", "field", "value", "message"),
    [
        ('<bizTransactionList><bizTransaction type="urn:epcglobal:cbv:btt:po" date="2024-01-01">'
         "urn:epcglobal:cbv:bt:0614141000012:PO1</bizTransaction></bizTransactionList>",
         "/bizTransactionList/0/date", "2024-01-01",
         "line 1: <bizTransaction> attribute 'date' has no place in EPCIS 2.0; kept in this"
         " warning, not in the event"),
        ('<bizStep ex:by="scanner">urn:epcglobal:cbv:bizstep:shipping</bizStep>',
         "/bizStep/ex:by", "scanner", "<bizStep> attribute 'ex:by' has no place"),
        ('<bizTransactionList batch="7"><bizTransaction>urn:epcglobal:cbv:bt:0614141000012:PO1'
         "</bizTransaction></bizTransactionList>",
         "/bizTransactionList/batch", "7", "<bizTransactionList> attribute 'batch'"),
        ('<extension><sourceList><source type="urn:epcglobal:cbv:sdt:owning_party">'
         "urn:epc:id:pgln:0614141.00001</source><ex:carrier>FedEx</ex:carrier>"
         "</sourceList></extension>",
         "/sourceList/ex:carrier", "FedEx", "<ex:carrier> in <sourceList> has no place"),
        ("<extension><extension><persistentDisposition><set>urn:epcglobal:cbv:disp:"
         "completeness_verified</set><reason>audit</reason><reason>recount</reason>"
         "</persistentDisposition></extension></extension>",
         "/persistentDisposition/reason", ["audit", "recount"],
         "<reason> in <persistentDisposition> has no place"),
        ("<baseExtension><errorDeclaration><declarationTime>2024-01-02T00:00:00Z"
         "</declarationTime><correctiveEventIDs><correctiveEventID>urn:uuid:"
         "1b6f6a2c-8f4e-4b8e-9c39-2f1c0b0c1d2e</correctiveEventID><note>see PO1</note>"
         "</correctiveEventIDs></errorDeclaration></baseExtension>",
         "/errorDeclaration/correctiveEventIDs/note", "see PO1",
         "<note> in <correctiveEventIDs> has no place"),
    ],
    ids=["transaction-date", "bizStep-attribute", "list-attribute", "list-element",
         "repeated-element", "corrective-ids-element"],
)  # fmt: skip
def test_content_epcis_2_has_no_place_for_is_kept_in_a_warning_of_its_event(
    inner: str, field: str, value: Any, message: str
) -> None:
    xml = _object_event(inner)
    event, warnings = _read(xml)
    (warning,) = warnings
    assert {k: v for k, v in warning.items() if k != "message"} == {
        "index": 0,
        "eventID": None,
        "path": "/epcisBody/eventList/0" + field,
        "field": field,
        "value": value,
        "kind": "extension",
    }
    assert message in warning["message"]
    assert json.dumps(value) not in json.dumps(event)  # the warning holds the only copy
    assert convert_12_xml(xml)["epcisBody"]["eventList"] == [event]


@pytest.mark.parametrize(
    ("inner", "message"),
    [
        ("<action>OBSERVE</action>", r"<action> appears twice in one event"),
        ("<readPoint><id>urn:epc:id:sgln:0614141.07346.1234</id>"
         "<id>urn:epc:id:sgln:0614141.07346.1235</id></readPoint>",
         r"<id> appears twice in one <readPoint>"),
        ("<baseExtension><errorDeclaration><declarationTime>2024-01-02T00:00:00Z"
         "</declarationTime><declarationTime>2024-01-03T00:00:00Z</declarationTime>"
         "</errorDeclaration></baseExtension>",
         r"<declarationTime> appears twice in one errorDeclaration"),
        ("<type>Object</type>", r"line 1: <type> is not an EPCIS 1.2 event field here"),
        ('<readPoint id="urn:epc:id:sgln:0614141.07346.1234"/>',
         r"<readPoint> attribute 'id' is an EPCIS field, written as an element"),
        ('<bizTransactionList><bizTransaction bizTransaction="urn:epcglobal:cbv:bt:0614141000012:'
         'PO2">urn:epcglobal:cbv:bt:0614141000012:PO1</bizTransaction></bizTransactionList>',
         r"<bizTransaction> attribute 'bizTransaction' is an EPCIS field, not read from here"),
        ("<bizStep><ex:step>shipping</ex:step></bizStep>",
         r"<bizStep> holds elements; EPCIS expects text here"),
        ("<extension><quantityList><quantityElement><epcClass>urn:epc:class:lgtin:"
         "4012345.012345.998877</epcClass><ex:q>1</ex:q></quantityElement></quantityList>"
         "</extension>", r"<q> is not a field of a quantityElement"),
        ("<extension><quantityList><quantityElement><epcClass>urn:epc:class:lgtin:"
         '4012345.012345.998877</epcClass><quantity ex:scale="12">2</quantity>'
         "</quantityElement></quantityList></extension>",
         r"<quantity> attribute 'scale' has no place in EPCIS 2.0; custody is not read"),
    ],
    ids=["field-twice", "id-twice", "declaration-time-twice", "named-like-a-field",
         "attribute-named-like-a-field", "attribute-named-like-its-value", "elements-in-text",
         "quantity-element-field",
         "quantity-attribute"],
)  # fmt: skip
def test_what_cannot_be_read_without_guessing_is_refused_with_its_line(
    inner: str, message: str
) -> None:
    with pytest.raises(InvalidEPCISError, match=message):
        convert_12_xml(_object_event(inner))


def test_an_attribute_on_an_epc_is_refused_the_objects_moved_carry_nothing_else() -> None:
    xml = _object_event("").replace(b"<epc>", b'<epc ex:grade="B">')
    with pytest.raises(InvalidEPCISError, match=r"<epc> attribute 'grade' has no place"):
        read_valid_document(xml)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (_document("<note>x</note>"), r"<note> is not an EPCIS event"),
        (_document("").replace(b"<EPCISBody>", b"<EPCISBody><note>x</note>"),
         r"<note> is not an EPCIS field here; the document's own fields take namespaced"),
        (_document("").replace(b"<EventList>", b'<EventList ex:batch="1">'),
         r"<EventList> attribute 'batch' has no place in EPCIS 2.0"),
    ],
    ids=["in-event-list", "in-body", "event-list-attribute"],
)  # fmt: skip
def test_unqualified_content_of_the_document_itself_is_refused(xml: bytes, message: str) -> None:
    with pytest.raises(InvalidEPCISError, match=message):
        convert_12_xml(xml)


def test_namespaced_attributes_of_events_become_extension_fields() -> None:
    xml = _document(
        f'<ObjectEvent ex:source="scanner-3">{_HEAD}<epcList/><action>OBSERVE</action>'
        "</ObjectEvent>"
    )
    assert _only_event(xml)["ex:source"] == "scanner-3"
    _round_trips(xml)


@pytest.mark.parametrize(
    "inner",
    [
        '<ex:w unit="KGM" ex:basis="dry">3.5</ex:w>',
        "<ex:v>1</ex:v><ex:v>2</ex:v><ex:v>3</ex:v>",
        "<ex:leg><ex:stop>X</ex:stop><ex:stop>Y</ex:stop></ex:leg>",
        "<ex:n>before <ex:b>x</ex:b></ex:n>",
        "<ex:empty/>",
    ],
)
def test_extension_content_hashes_as_gs1_hashes_the_original_xml(inner: str) -> None:
    xml = _document(
        f"<ObjectEvent>{_HEAD}<epcList><epc>{SGTIN}</epc></epcList>"
        f"<action>OBSERVE</action>{inner}</ObjectEvent>"
    )
    from_xml = hash_generator.epcis_hashes_from_events(
        xml_to_py.event_list_from_epcis_document_str(xml.decode())
    )
    doc = convert_12_xml(xml)
    assert event_hash_uri(doc["epcisBody"]["eventList"][0], doc["@context"]) == from_xml[0]
