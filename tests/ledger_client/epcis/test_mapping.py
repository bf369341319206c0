from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from epcis_files import EXAMPLE_FILES, load_example

from ledger_client.epcis import InvalidEPCISError, map_document
from ledger_client.epcis.operations import (
    Decommission,
    DecommissionReason,
    FlagPacks,
    LotStatus,
    Receive,
    RegisterLot,
    SetLotStatus,
    Ship,
    UndoDecommission,
)
from ledger_client.types import FlagReason, PackFlag

PACK_2017 = ("10614141073464", "2017")
PACK_2018 = ("10614141073464", "2018")

# file -> expected (operation type names or "stored_only") per event
EXPECTED: dict[str, list[str]] = {
    "Example_9.6.1-ObjectEvent.jsonld": ["Ship", "Receive"],
    "Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld": ["Ship", "Receive"],
    "Example_9.6.1-with-comment.jsonld": ["Ship", "Receive"],
    "EPCISQueryDocument.jsonld": ["Ship", "Receive"],
    # class-level quantities only: nothing the ledger tracks per pack
    "Example_9.6.2-ObjectEvent.jsonld": ["stored_only"],
    # an OBSERVE aggregation at receiving: the parent SSCC is received (not packed)
    "Example_9.6.3-AggregationEvent.jsonld": ["Receive"],
    "Example_9.6.4-TransformationEvent.jsonld": ["stored_only"],
    "PersistentDisposition-example.jsonld": ["Receive", "stored_only"],
    "WithErrorDeclaration__Example_9.6.1-ObjectEvent-with-error-declaration.jsonld": [
        "stored_only",
        "Receive",
    ],
    "WithErrorDeclaration__ErrorDeclarationAndCorrectiveEvent.jsonld": [
        "stored_only",
        "stored_only",
    ],
}


def _kinds(doc: dict[str, Any]) -> list[str]:
    report = map_document(doc)
    return [
        "stored_only"
        if e.stored_only is not None
        else "+".join(type(op).__name__ for op in e.operations)
        for e in report.events
    ]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_gs1_example_is_classified_without_dropping_events(path: Any) -> None:
    doc = load_example(path.name)
    report = map_document(doc)
    events = (
        doc["epcisBody"].get("eventList")
        or doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    )
    assert [e.index for e in report.events] == list(range(len(events)))
    for entry in report.events:
        assert (entry.stored_only is None) == bool(entry.operations)
        assert all(op.event_hash == entry.event_hash for op in entry.operations)
    assert report.ledger_operations == len(report.operations)
    name = path.name
    if name in EXPECTED:
        assert _kinds(doc) == EXPECTED[name]
    elif name.startswith(("WithSensorData", "AssociationEvent", "WithFullCombination")):
        assert set(_kinds(doc)) == {"stored_only"}


def test_shipping_maps_to_ship_and_receiving_to_receive(shipping_doc: dict[str, Any]) -> None:
    ship, receive = map_document(shipping_doc).events
    assert ship.operations == (
        Ship((PACK_2017, PACK_2018), (), None, None, event_hash=ship.event_hash or b""),
    )
    assert receive.operations == (Receive((PACK_2018,), (), event_hash=receive.event_hash or b""),)
    assert ship.biz_step == "shipping" and ship.disposition == "in_transit"
    assert ship.event_hash is not None and len(ship.event_hash) == 32


def test_sensor_readings_are_stored_only_with_a_reason() -> None:
    (entry,) = map_document(load_example("WithSensorData__SensorDataExample1.jsonld")).events
    assert entry.stored_only == "sensor readings are kept in the owner's store, not on chain"


def test_transaction_events_are_stored_only_even_when_unhashable() -> None:
    report = map_document(load_example("Example-TransactionEvents-2020_07_03y.jsonld"))
    assert all(e.stored_only and e.event_hash is None for e in report.events)
    assert all("event hash cannot be computed" in e.warnings[0] for e in report.events)
    assert report.ledger_operations == 0


def _event(doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    event = doc["epcisBody"]["eventList"][0]
    doc["epcisBody"]["eventList"] = [event]
    for key, value in fields.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return doc


@pytest.mark.parametrize(
    "spelling",
    ["shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping"],
)
def test_all_cbv_spellings_of_a_bizstep_classify_alike(
    shipping_doc: dict[str, Any], spelling: str
) -> None:
    doc = _event(shipping_doc, bizStep=spelling)
    (entry,) = map_document(doc, validate=False).events
    assert entry.biz_step == "shipping"
    assert type(entry.operations[0]) is Ship


def test_ship_takes_parties_from_owning_party_as_glns(shipping_doc: dict[str, Any]) -> None:
    doc = _event(
        shipping_doc,
        sourceList=[
            {"type": "location", "source": "urn:epc:id:sgln:4012345.00225.0"},
            {"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00001"},
        ],
        destinationList=[
            {"type": "owning_party", "destination": "https://id.gs1.org/417/0614141000012"}
        ],
    )
    (op,) = map_document(doc).operations
    assert isinstance(op, Ship)
    assert (op.from_party, op.to_party) == ("4012345000016", "0614141000012")


def test_shipping_with_disposition_returned_and_no_bizstep_is_a_ship(
    shipping_doc: dict[str, Any],
) -> None:
    doc = _event(shipping_doc, bizStep=None, disposition="returned")
    assert [type(op) for op in map_document(doc).operations] == [Ship]


@pytest.mark.parametrize(
    ("step", "disposition", "expected"),
    [
        ("void_shipping", "in_progress", "CancelShipment"),
        ("void_shipping", None, "CancelShipment"),
        ("arriving", "returned", "Refuse"),
        ("arriving", "in_progress", "Receive"),
        ("receiving", "returned", "Receive"),
        ("transporting", "unknown", "ReportLost"),
        ("transporting", "in_transit", "ReportFound"),
        ("transporting", "in_progress", "stored_only"),
        (None, "unknown", "stored_only"),
    ],
)
def test_custody_steps_on_a_shipment_under_way_are_told_by_bizstep_and_disposition(
    shipping_doc: dict[str, Any], step: str | None, disposition: str | None, expected: str
) -> None:
    doc = _event(shipping_doc, bizStep=step, disposition=disposition)
    (report,) = map_document(doc).events
    assert [type(op).__name__ for op in report.operations] == (
        [] if expected == "stored_only" else [expected]
    )
    assert (report.stored_only is not None) == (expected == "stored_only")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"bizStep": "dispensing", "disposition": "dispensed"}, DecommissionReason.DISPENSED),
        ({"bizStep": "retail_selling", "disposition": "retail_sold"}, DecommissionReason.DISPENSED),
        ({"bizStep": "destroying", "disposition": "destroyed"}, DecommissionReason.DESTROYED),
        ({"bizStep": None, "disposition": "stolen"}, DecommissionReason.STOLEN),
        ({"bizStep": "sampling", "disposition": "inactive"}, DecommissionReason.SAMPLE),
        (
            {
                "bizStep": "decommissioning",
                "disposition": "inactive",
                "action": "DELETE",
                "rxl:decommissionReason": "EXPORTED",
            },
            DecommissionReason.EXPORTED,
        ),
    ],
)
def test_decommissioning_reason_follows_cbv(
    shipping_doc: dict[str, Any], fields: dict[str, Any], reason: DecommissionReason
) -> None:
    doc = _event(shipping_doc, **fields)
    (op,) = map_document(doc).operations
    assert isinstance(op, Decommission)
    assert (op.packs, op.reason) == ((PACK_2017, PACK_2018), reason)


@pytest.mark.parametrize("reason", ["FREE_SAMPLE", "LOCKED"])
def test_decommissioning_reason_extension_names_reasons_cbv_lacks(
    shipping_doc: dict[str, Any], reason: str
) -> None:
    doc = _event(
        shipping_doc,
        bizStep="decommissioning",
        disposition="inactive",
        action="DELETE",
        **{"rxl:decommissionReason": reason},
    )
    (op,) = map_document(doc, validate=False).operations
    assert isinstance(op, Decommission) and op.reason is DecommissionReason[reason]


@pytest.mark.parametrize(
    "fields",
    [
        {"bizStep": "decommissioning", "disposition": "inactive", "action": "DELETE"},
        {"bizStep": None, "disposition": None, "action": "DELETE"},
    ],
)
def test_decommissioning_without_a_reason_is_rejected_not_guessed(
    shipping_doc: dict[str, Any], fields: dict[str, Any]
) -> None:
    (report,) = map_document(_event(shipping_doc, **fields)).events
    assert report.operations == () and report.stored_only is None
    assert report.rejected is not None
    assert "does not say why" in report.rejected
    assert "rxl:decommissionReason" in report.rejected and "dispensed" in report.rejected


def test_unknown_decommission_reason_extension_is_rejected(shipping_doc: dict[str, Any]) -> None:
    doc = _event(
        shipping_doc,
        bizStep="decommissioning",
        action="DELETE",
        **{"rxl:decommissionReason": "LOST"},
    )
    (report,) = map_document(doc, validate=False).events
    assert report.rejected == (
        "rxl:decommissionReason 'LOST' is not one of DISPENSED, DESTROYED, SAMPLE,"
        " FREE_SAMPLE, EXPORTED, STOLEN, LOCKED"
    )


def test_error_declaration_of_a_decommission_undoes_it(shipping_doc: dict[str, Any]) -> None:
    doc = _event(
        shipping_doc,
        bizStep="dispensing",
        disposition="dispensed",
        errorDeclaration={"declarationTime": "2005-04-05T00:00:00Z", "reason": "incorrect_data"},
    )
    (op,) = map_document(doc).operations
    assert isinstance(op, UndoDecommission) and op.packs == (PACK_2017, PACK_2018)


def _lot_doc(shipping_doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return _event(
        shipping_doc,
        epcList=[],
        quantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877"}],
        **fields,
    )


@pytest.mark.parametrize(
    ("step", "disp", "status"),
    [
        (None, "recalled", LotStatus.RECALLED),
        ("holding", "non_sellable_other", LotStatus.QUARANTINED),
        ("inspecting", "active", LotStatus.ACTIVE),
    ],
)
def test_lot_status_from_class_level_disposition(
    shipping_doc: dict[str, Any], step: str | None, disp: str, status: LotStatus
) -> None:
    (op,) = map_document(_lot_doc(shipping_doc, bizStep=step, disposition=disp)).operations
    assert isinstance(op, SetLotStatus)
    assert (op.gtin, op.lot, op.status) == ("04012345123456", "998877", status)


def test_recall_of_instance_epcs_is_stored_only_with_advice(shipping_doc: dict[str, Any]) -> None:
    doc = _event(shipping_doc, bizStep=None, disposition="recalled")
    (entry,) = map_document(doc).events
    assert entry.stored_only is not None and "lgtin" in entry.stored_only


def test_no_pedigree_match_flags_packs_suspect(shipping_doc: dict[str, Any]) -> None:
    doc = _event(shipping_doc, bizStep="inspecting", disposition="no_pedigree_match")
    assert map_document(doc).operations == (
        FlagPacks((PACK_2017, PACK_2018), event_hash=map_document(doc).events[0].event_hash or b""),
    )


def test_an_inspection_with_rxledger_flags_sets_them_with_the_3911_classification(
    shipping_doc: dict[str, Any],
) -> None:
    doc = _event(
        shipping_doc,
        bizStep="inspecting",
        disposition="no_pedigree_match",
        **{"rxl:packFlags": "ILLEGITIMATE", "rxl:flagReason": "COUNTERFEIT"},
    )
    (operation,) = map_document(doc, validate=False).operations
    assert isinstance(operation, FlagPacks)
    assert (operation.flags, operation.reason) == (PackFlag.ILLEGITIMATE, FlagReason.COUNTERFEIT)


def test_an_inspection_with_no_rxledger_flags_clears_them(shipping_doc: dict[str, Any]) -> None:
    doc = _event(
        shipping_doc,
        bizStep="inspecting",
        disposition="sellable_accessible",
        **{"rxl:packFlags": "NONE"},
    )
    (operation,) = map_document(doc, validate=False).operations
    assert isinstance(operation, FlagPacks) and operation.flags == PackFlag(0)


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ({"rxl:packFlags": "FAKE"}, "rxl:packFlags 'FAKE' is not NONE or names of SUSPECT"),
        ({"rxl:packFlags": ["SUSPECT"]}, "is not NONE or names of"),
        ({"rxl:packFlags": ""}, "is not NONE or names of"),
        ({"rxl:packFlags": "NONE", "rxl:flagReason": "LOST"}, "rxl:flagReason 'LOST' is not"),
    ],
)
def test_bad_rxledger_flags_are_rejected_with_the_reason(
    shipping_doc: dict[str, Any], extension: dict[str, Any], message: str
) -> None:
    doc = _event(shipping_doc, bizStep="inspecting", disposition="no_pedigree_match", **extension)
    (entry,) = map_document(doc, validate=False).events
    assert entry.rejected is not None and message in entry.rejected
    assert map_document(doc, validate=False).operations == ()


def test_commissioning_registers_the_lot_from_ilmd(shipping_doc: dict[str, Any]) -> None:
    doc = _event(
        shipping_doc,
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        ilmd={"cbvmda:lotNumber": "LOT1", "cbvmda:itemExpirationDate": "2027-05-31"},
    )
    register, commission = map_document(doc).operations
    assert isinstance(register, RegisterLot)
    assert (register.gtin, register.lot, register.expiry) == (
        PACK_2017[0],
        "LOT1",
        date(2027, 5, 31),
    )
    assert commission.serials == ("2017", "2018")  # type: ignore[union-attr]


def test_commissioning_without_a_lot_is_stored_only(shipping_doc: dict[str, Any]) -> None:
    doc = _event(shipping_doc, action="ADD", bizStep="commissioning", disposition="active")
    (entry,) = map_document(doc).events
    assert entry.stored_only == (
        "commissioning without cbvmda:lotNumber in ilmd: the ledger needs a lot"
    )


def test_map_document_rejects_invalid_documents(shipping_doc: dict[str, Any]) -> None:
    doc = _event(shipping_doc, eventTime=None)
    with pytest.raises(InvalidEPCISError, match="'eventTime' is a required property"):
        map_document(doc)


def test_digital_links_on_a_custom_domain_under_a_path_prefix_are_mapped(
    shipping_doc: dict[str, Any],
) -> None:
    doc = _event(
        shipping_doc,
        epcList=[
            "https://brand.example/food/frozen/01/10614141073464/21/2017",
            "https://brand.example/00/faux/00/106141410000000002",
        ],
        destinationList=[
            {"type": "owning_party", "destination": "https://brand.example/p/417/0614141000012"}
        ],
    )
    (op,) = map_document(doc).operations
    assert op == Ship(
        (PACK_2017,), ("106141410000000002",), "0614141000012", None, event_hash=op.event_hash
    )
