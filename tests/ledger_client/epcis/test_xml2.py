"""EPCIS 2.0 XML: GS1's XML examples read as their JSON-LD counterparts (same event hashes),
JSON-LD written as XML that GS1's XSD accepts and that reads back to the same events."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from epcis_files import EXAMPLE_FILES, load_example
from lxml import etree

from ledger_client.epcis import InvalidEPCISError, event_hash_uri, map_document
from ledger_client.epcis._xml2 import REQUIRED_LISTS, schema_problems
from ledger_client.epcis.capture import read_valid_document
from ledger_client.epcis.export import operations_to_events, to_epcis_json
from ledger_client.epcis.operations import Commission, Pack, RegisterLot, Ship
from ledger_client.epcis.validation import iter_events
from ledger_client.epcis.xml2_read import convert_20_xml, translate_20_xml
from ledger_client.epcis.xml2_write import to_epcis_20_xml

GS1_XML = Path(__file__).resolve().parents[2] / "data" / "gs1-epcis-2.0"
XML_FILES = sorted(GS1_XML.glob("*.xml"))
# (XML file, event index) -> the GS1 JSON-LD example holding the same event (SOURCE.md).
SAME_EVENT = {
    **{
        ("AssociationEventExamples.xml", i): (f"AssociationEvent__AssociationEvent-{c}.jsonld", 0)
        for i, c in enumerate("abcdefgh")
    },
    **{
        ("SensorDataExamples.xml", i): (f"WithSensorData__SensorDataExample{n}.jsonld", 0)
        for i, n in ((0, 1), (1, 2), (2, 3), (4, 5))
    },
    ("Example_9.6.1-ObjectEvent.xml", 0): ("Example_9.6.1-ObjectEvent.jsonld", 0),
}
# Not hashed, and illustrative in GS1's JSON examples.
UNHASHED = ("eventID", "errorDeclaration")
# GS1's all-fields transformation example redefines the protected prefix cbvmda (JSON-LD
# refuses it, so the generator cannot hash it); read from XML, that namespace gets the
# prefix cbvmda2.
REDEFINES_CBVMDA = "WithFullCombinationOfFields__transformation_event_all_possible_fields.jsonld"
PLAIN_PREFIXES = [p for p in EXAMPLE_FILES if p.name != REDEFINES_CBVMDA]
# Example-TransactionEvents has a bizTransaction the generator cannot read, as JSON-LD too.
HASHABLE = [p for p in PLAIN_PREFIXES if p.name != "Example-TransactionEvents-2020_07_03y.jsonld"]


def _hashes(doc: dict[str, Any]) -> list[str]:
    return [event_hash_uri(e, e.get("@context", doc.get("@context"))) for _, e in iter_events(doc)]


def _events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Events as the XML binding gives them back: lists the XSD requires are always there."""
    out = []
    for _, event in iter_events(doc):
        event = {k: v for k, v in event.items() if k != "@context"}
        for name in REQUIRED_LISTS.get(event["type"], ()):
            event.setdefault(name, [])
        out.append(event)
    return out


def _read(name: str) -> dict[str, Any]:
    return translate_20_xml((GS1_XML / name).read_bytes())


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.name)
def test_gs1_xml_examples_are_valid_against_the_epcis_2_xsd(path: Path) -> None:
    assert schema_problems(etree.fromstring(path.read_bytes())) == []


@pytest.mark.parametrize("key", sorted(SAME_EVENT), ids=lambda k: f"{k[0]}-{k[1]}")
def test_gs1_xml_event_is_its_json_ld_example_with_the_same_hash(key: tuple[str, int]) -> None:
    doc = _read(key[0])
    event = doc["epcisBody"]["eventList"][key[1]]
    name, index = SAME_EVENT[key]
    example = load_example(name)
    expected = example["epcisBody"]["eventList"][index]
    assert event_hash_uri(event, doc["@context"]) == event_hash_uri(expected, example["@context"])
    assert _instants(event) == _instants(expected)


def _instants(event: dict[str, Any]) -> dict[str, Any]:
    """The hashed fields of an event, its times as instants (``.116`` = ``.116000``)."""
    out = {k: v for k, v in event.items() if k not in UNHASHED}
    for key in ("eventTime", "recordTime"):
        if key in out:
            out[key] = datetime.fromisoformat(out[key].replace("Z", "+00:00"))
    return out


def test_gs1_sensor_examples_read_typed_values_and_bare_terms() -> None:
    events = _read("SensorDataExamples.xml")["epcisBody"]["eventList"]
    report = events[6]["sensorElementList"][0]["sensorReport"]
    assert report[0] == {"type": "Temperature", "value": 26, "uom": "CEL",
                         "deviceID": "urn:epc:id:giai:4000001.111"}  # fmt: skip
    assert report[2]["booleanValue"] is True
    assert events[8]["sensorElementList"][0]["sensorReport"][0]["exception"] == "ERROR_CONDITION"
    latitude = events[12]["sensorElementList"][0]["sensorReport"][0]
    assert latitude["component"] == "latitude" and latitude["value"] == 42.698334
    transformation = events[11]
    assert transformation["errorDeclaration"]["example3:errorCodes"] == {
        "example3:value1": "34",
        "example3:value44": "66",
    }
    assert transformation["readPoint"]["example:gs1ES"] == "(414)4023333000000"
    assert transformation["ilmd"]["example2:userMasterData"] == {"example2:sizeCode": "B-2"}
    assert transformation["example2:furtherData"] == {
        "example2:assemblyLine": "2",
        "example2:workingShift": "1",
    }


def test_xsi_types_become_json_numbers_and_booleans_and_a_bare_doctype_is_read() -> None:
    doc = _read("transaction_event_all_possible_fields.xml")  # starts with <!DOCTYPE project>
    (event,) = doc["epcisBody"]["eventList"]
    assert (event["ext1:int"], event["ext1:float"], event["ext1:boolean"]) == (10, 20, True)
    assert event["ext1:time"] == "2013-06-08T14:58:56.591Z"
    assert event["ext1:array"][:5] == [12, 22, "2013-06-08T14:58:56.591Z", True, "stringInArray"]
    assert {"ext1": "http://example.com/ext1/"}.items() <= doc["@context"][1].items()
    assert event["bizTransactionList"][1] == {
        "type": "pedigree",
        "bizTransaction": "urn:epc:id:gsrn:0614141.0000010253",
    }


def test_json_ld_validation_still_applies_to_what_the_xsd_accepts() -> None:
    with pytest.raises(InvalidEPCISError) as caught:
        convert_20_xml((GS1_XML / "Example-PersistentDisposition.xml").read_bytes())
    assert caught.value.errors[0].startswith(
        "/epcisBody/eventList/0: 'persistentDisposition' is not one of"
    )


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.name)
def test_gs1_xml_read_written_and_read_again_gives_the_same_events(path: Path) -> None:
    doc = translate_20_xml(path.read_bytes())
    doc.pop("epcisHeader", None)
    # some of GS1's XML examples are not valid against its JSON schema (SOURCE.md)
    again = translate_20_xml(to_epcis_20_xml(doc, validate=False))
    assert again["epcisBody"] == doc["epcisBody"]


@pytest.mark.parametrize("path", PLAIN_PREFIXES, ids=lambda p: p.name)
def test_json_ld_example_to_xml_and_back_keeps_every_event(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    xml = to_epcis_20_xml(doc)
    assert schema_problems(etree.fromstring(xml)) == []
    back = convert_20_xml(xml)
    assert back["epcisBody"]["eventList"] == _events(doc)
    for key in ("sender", "receiver", "instanceIdentifier", "id"):
        if doc.get("type") == "EPCISDocument":
            assert back.get(key) == doc.get(key)
    assert back.get("epcisHeader") == doc.get("epcisHeader")


@pytest.mark.parametrize("path", HASHABLE, ids=lambda p: p.name)
def test_json_ld_example_to_xml_and_back_keeps_every_event_hash(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert _hashes(convert_20_xml(to_epcis_20_xml(doc))) == _hashes(doc)


def test_ledger_history_as_xml_maps_to_the_same_operations_with_the_same_hashes() -> None:
    ops = [
        RegisterLot("09506000134352", "L1", date(2030, 1, 31)),
        Commission("09506000134352", "L1", ("A1", "A2")),
        Pack("095060000000000046", (("09506000134352", "A1"), ("09506000134352", "A2")), ()),
        Ship((), ("095060000000000046",), to_party="4012345000016"),
    ]
    doc = to_epcis_json(operations_to_events(ops, event_time="2025-03-01T10:00:00Z"))
    back = read_valid_document(to_epcis_20_xml(doc))
    assert back.report.events == map_document(doc).events
    assert _hashes(back.doc) == _hashes(doc)


def test_a_redefined_gs1_prefix_gets_a_prefix_of_its_own() -> None:
    doc = json.loads((EXAMPLE_FILES[0].parent / REDEFINES_CBVMDA).read_text(encoding="utf-8"))
    back = convert_20_xml(to_epcis_20_xml(doc))
    assert back["@context"][1]["cbvmda2"] == "http://example.com/cbvmda/"
    (event,) = back["epcisBody"]["eventList"]
    assert "cbvmda2:netWeight" in event["ilmd"] and "cbvmda:lotNumber" not in event["ilmd"]


def test_read_valid_document_tells_2_0_from_1_2_xml_by_namespace(tmp_path: Path) -> None:
    path = tmp_path / "events.xml"
    path.write_bytes((GS1_XML / "AssociationEventExamples.xml").read_bytes())
    assert len(read_valid_document(path).events) == 8


def _xml(events: str, header: str = "") -> bytes:
    return (
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" schemaVersion="2.0" '
        f'creationDate="2025-01-01T00:00:00Z">{header}<EPCISBody><EventList>{events}'
        "</EventList></EPCISBody></epcis:EPCISDocument>"
    ).encode()


OBJECT = (
    "<ObjectEvent><eventTime>2025-01-01T00:00:00Z</eventTime>"
    "<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>{fields}</ObjectEvent>"
)


def test_a_document_the_xsd_refuses_is_refused_with_line_and_reason() -> None:
    xml = _xml(OBJECT.format(fields="<action>OBSERVE</action>"))  # no <epcList>
    with pytest.raises(InvalidEPCISError) as caught:
        translate_20_xml(xml)
    (error,) = caught.value.errors
    assert error.startswith("line 1: Element 'action': This element is not expected.")
    assert "epcList" in error


def test_a_nil_quantity_is_left_out() -> None:
    fields = (
        "<epcList/><action>OBSERVE</action><quantityList><quantityElement>"
        "<epcClass>urn:epc:class:lgtin:4012345.012345.998877</epcClass>"
        '<quantity xsi:nil="true"/></quantityElement></quantityList>'
    )
    (event,) = convert_20_xml(_xml(OBJECT.format(fields=fields)))["epcisBody"]["eventList"]
    assert event["quantityList"] == [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877"}]


def test_a_doctype_declaring_entities_is_refused() -> None:
    xml = b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _xml("")
    with pytest.raises(InvalidEPCISError, match="DOCTYPE is not allowed"):
        translate_20_xml(xml)


def test_an_epcis_1_2_document_is_not_read_as_2_0() -> None:
    with pytest.raises(InvalidEPCISError, match="is not an {urn:epcglobal:epcis:xsd:2}"):
        translate_20_xml(b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1"/>')


def _one_event(**fields: Any) -> dict[str, Any]:
    doc = load_example("Example_9.6.1-ObjectEvent.jsonld")
    doc["epcisBody"]["eventList"] = doc["epcisBody"]["eventList"][:1]
    doc["epcisBody"]["eventList"][0].update(fields)
    return doc


def test_what_the_xml_binding_cannot_hold_is_refused_by_name() -> None:
    two = _one_event(certificationInfo=["https://a.example/1", "https://a.example/2"])
    with pytest.raises(InvalidEPCISError, match="certificationInfo: EPCIS 2.0 XML holds one"):
        to_epcis_20_xml(two)
    sender_only = {**_one_event(), "sender": "urn:epc:id:pgln:0614141.00001"}
    with pytest.raises(InvalidEPCISError, match="with a sender needs a receiver"):
        to_epcis_20_xml(sender_only)
    header = {**_one_event(), "epcisHeader": {"example:note": "x"}}
    with pytest.raises(InvalidEPCISError, match="no place for header extensions"):
        to_epcis_20_xml(header)


def test_one_certification_info_in_a_list_is_written() -> None:
    doc = _one_event(certificationInfo=["https://a.example/1"])
    (event,) = convert_20_xml(to_epcis_20_xml(doc))["epcisBody"]["eventList"]
    assert event["certificationInfo"] == "https://a.example/1"
    assert _hashes(convert_20_xml(to_epcis_20_xml(doc))) == _hashes(doc)


def test_extension_values_keep_their_json_types_and_attributes_through_xml() -> None:
    ext = {
        "example:n": 7,
        "example:x": 0.5,
        "example:ok": False,
        "example:none": None,
        "example:weight": {"#text": "3.5", "measurementUnitCode": "KGM"},
        "example:list": ["a", {"example:deep": 1}],
    }
    (event,) = convert_20_xml(to_epcis_20_xml(_one_event(**ext)))["epcisBody"]["eventList"]
    assert {k: event[k] for k in ext} == ext


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"example:note": "bell \x07"}, "cannot be written as XML: All strings must be XML"),
        ({"example:1st": "x"}, "cannot be written as XML: Invalid tag name"),
        ({"nope:x": "x"}, "'nope:x' has no namespace in @context"),
    ],
)
def test_what_xml_cannot_hold_is_refused_not_raised_raw(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidEPCISError) as caught:
        to_epcis_20_xml(_one_event(**fields), validate=False)
    assert message in caught.value.errors[0]


def test_a_sensor_value_that_is_not_finite_is_refused() -> None:
    fields = (
        "<epcList/><action>OBSERVE</action><sensorElementList><sensorElement>"
        '<sensorReport type="gs1:Temperature" value="INF"/></sensorElement></sensorElementList>'
    )
    with pytest.raises(InvalidEPCISError, match="'INF' is not a finite number"):
        translate_20_xml(_xml(OBJECT.format(fields=fields)))
