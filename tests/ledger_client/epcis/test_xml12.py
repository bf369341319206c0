from __future__ import annotations

from datetime import date

import pytest
from epcis_files import dscsa_xml

from ledger_client.epcis import (
    InvalidEPCISError,
    convert_12_xml,
    map_document,
    master_data,
    to_epcis_12_xml,
    validate_document,
)
from ledger_client.epcis.operations import Commission, Pack, RegisterLot, Ship

CASE = ("30355154944955", "40072894693743")
ITEM_GTIN = "00355154944954"


@pytest.mark.parametrize("name", ["cardinal_health", "sample_hospital"])
def test_dscsa_sample_converts_to_a_valid_epcis_2_document(name: str) -> None:
    doc = convert_12_xml(dscsa_xml(name))
    assert validate_document(doc) == []
    assert doc["schemaVersion"] == "2.0"


def test_cardinal_health_keeps_header_extension_with_its_namespace() -> None:
    doc = convert_12_xml(dscsa_xml("cardinal_health"))
    assert {"gs1ushc": "http://epcis.gs1us.org/hc/ns"} in doc["@context"]
    statement = doc["epcisHeader"]["gs1ushc:dscsaTransactionStatement"]
    assert statement["gs1ushc:affirmTransactionStatement"] == "true"
    assert doc["sender"] == "urn:epc:id:sgln:030001.111124.0"
    first = doc["epcisBody"]["eventList"][0]
    assert first["bizStep"] == "commissioning" and first["disposition"] == "active"
    assert first["ilmd"] == {
        "cbvmda:lotNumber": "PR456",
        "cbvmda:itemExpirationDate": "2015-03-15",
    }
    shipping = doc["epcisBody"]["eventList"][2]
    assert shipping["bizTransactionList"][0]["type"] == "inv"
    assert shipping["sourceList"] == [
        {"type": "owning_party", "source": "urn:epc:id:sgln:030001.111124.0"}
    ]


def test_cardinal_health_classifies_commissioning_packing_and_shipping() -> None:
    commissioning, packing, shipping = map_document(
        convert_12_xml(dscsa_xml("cardinal_health"))
    ).events
    ops = commissioning.operations
    assert [type(op) for op in ops] == [RegisterLot, RegisterLot, Commission, Commission]
    assert ops[0] == RegisterLot(
        ITEM_GTIN, "PR456", date(2015, 3, 15), event_hash=commissioning.event_hash or b""
    )
    assert isinstance(ops[2], Commission) and len(ops[2].serials) == 4
    (pack,) = packing.operations
    assert isinstance(pack, Pack)
    assert pack.parent_pack == CASE and pack.parent_sscc is None and len(pack.packs) == 4
    (ship,) = shipping.operations
    assert isinstance(ship, Ship) and ship.packs == (CASE,) and ship.from_party == "0300011111246"


def test_sample_hospital_registers_lots_from_master_data_and_ships_the_sscc() -> None:
    report = map_document(convert_12_xml(dscsa_xml("sample_hospital")))
    sscc_commissioning, commissioning, packing, shipping = report.events
    assert sscc_commissioning.stored_only is not None
    lots = [op for op in commissioning.operations if isinstance(op, RegisterLot)]
    assert [(op.lot, op.expiry) for op in lots] == [
        ("L1", date(2022, 12, 31)),
        ("L4", date(2024, 5, 31)),
    ]
    # the sample's ILMD expiry "2020-12-12T11" is no date: lot 00123 is commissioned only
    assert "'2020-12-12T11' is not a date" in commissioning.warnings[0]
    assert isinstance(packing.operations[0], Pack)
    (ship,) = shipping.operations
    assert isinstance(ship, Ship)
    assert ship.units == ("409876506700001010",)
    assert (ship.from_party, ship.to_party) == ("4098765000010", "5412341237772")


def test_master_data_lists_products_with_name_and_ndc() -> None:
    data = master_data(dscsa_xml("cardinal_health"))
    item = data["products"][0]
    assert item["name"] == "EpcistraiTEM"
    assert item["ndc"] == "05515494495"
    assert item["gtin"] == ITEM_GTIN
    assert item["attributes"]["strengthDescription"] == "100mg"
    names = {loc["gln"]: loc["name"] for loc in data["locations"]}
    assert names["0399999999298"] == "GS1 Drug Distro LLC"


def test_master_data_keeps_foreign_attributes_by_full_id() -> None:
    data = master_data(dscsa_xml("sample_hospital"))
    hospital = next(loc for loc in data["locations"] if loc["name"] == "Healthy Hospital")
    assert hospital["attributes"]["http://epcis.wg4.fr/mda/additionalIdentification"] == "8646362"


def test_malformed_master_data_sample_is_rejected_naming_line_and_column() -> None:
    with pytest.raises(InvalidEPCISError) as raised:
        convert_12_xml(dscsa_xml("master_data_sample"))
    assert raised.value.errors == [
        "line 17, column 32: Opening and ending tag mismatch: Address line 11 and Address"
    ]
    with pytest.raises(InvalidEPCISError):
        master_data(dscsa_xml("master_data_sample"))


def test_external_entities_are_not_resolved() -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1">&x;</epcis:EPCISDocument>'
    )
    with pytest.raises(InvalidEPCISError, match="DOCTYPE is not allowed"):
        convert_12_xml(xml)


def test_wrong_root_element_is_rejected() -> None:
    with pytest.raises(InvalidEPCISError, match="is not an epcis:EPCISDocument"):
        convert_12_xml(b"<EPCISMasterDataBody/>")


@pytest.mark.parametrize("name", ["cardinal_health", "sample_hospital"])
def test_round_trip_12_20_12_20_keeps_events_and_hashes(name: str) -> None:
    first = convert_12_xml(dscsa_xml(name))
    second = convert_12_xml(to_epcis_12_xml(first))
    assert second == first
    hashes = [e.event_hash for e in map_document(first).events]
    assert [e.event_hash for e in map_document(second).events] == hashes
    assert all(h is not None for h in hashes)


def test_gs1_shipping_example_exports_to_12_and_back(shipping_doc: dict) -> None:  # type: ignore[type-arg]
    xml = to_epcis_12_xml(shipping_doc)
    assert b"<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>" in xml
    assert b"<baseExtension>" in xml
    back = convert_12_xml(xml)
    assert back["epcisBody"]["eventList"] == shipping_doc["epcisBody"]["eventList"]


def _quantity_event_xml(quantity: str) -> bytes:
    return f"""<?xml version="1.0"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2"
    creationDate="2024-01-01T00:00:00Z">
<EPCISBody><EventList><ObjectEvent>
<eventTime>2024-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
<epcList/><action>OBSERVE</action>
<extension><quantityList><quantityElement>
<epcClass>urn:epc:class:lgtin:4012345.012345.998877</epcClass>
<quantity>{quantity}</quantity><uom>KGM</uom>
</quantityElement></quantityList></extension>
</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>""".encode()


@pytest.mark.parametrize(("text", "number"), [("12", 12), ("1.5", 1.5)])
def test_a_quantity_is_read_as_a_number(text: str, number: float) -> None:
    (event,) = convert_12_xml(_quantity_event_xml(text))["epcisBody"]["eventList"]
    assert event["quantityList"] == [
        {
            "epcClass": "urn:epc:class:lgtin:4012345.012345.998877",
            "quantity": number,
            "uom": "KGM",
        }
    ]
    assert type(event["quantityList"][0]["quantity"]) is type(number)


def test_a_quantity_that_is_not_a_number_is_named_with_its_line() -> None:
    with pytest.raises(InvalidEPCISError, match=r"line 9: <quantity> 'x' is not a number"):
        convert_12_xml(_quantity_event_xml("x"))
