from __future__ import annotations

import copy
import logging
import socket
from typing import Any

import pytest
from epcis_files import EXAMPLE_FILES, load_example
from hypothesis import given
from hypothesis import strategies as st
from json_mutations import json_paths, parent_of
from reference_hashes import xml_event_hashes

from ledger_client.epcis import InvalidEPCISError, event_hash, event_hash_uri
from ledger_client.epcis.hashing import GS1_CONTEXT, GS1_CONTEXTS, hash_uri_digest
from ledger_client.epcis.validation import iter_events

# GS1's examples carry ni:///sha-256 eventIDs, but none equals the CBV 2.0 hash that GS1's
# reference generator (epcis-event-hash-generator 1.9.3) computes from the event. They are
# illustrative: the same eventID is reused for different events (5f7c... in
# AssociationEvent-f and Example-Type-sourceOrDestination...; e1f6... in SensorDataExample13
# and 17), and the same event gets different eventIDs (Example_9.6.1-ObjectEvent vs
# Example_9.6.1-with-comment), while the generator gives one hash per distinct event.
# Two examples cannot be hashed by the generator at all:
UNHASHABLE = {
    # its @context gives rail:* terms expanded definitions ({"@type": ...}); the generator
    # only understands prefix -> IRI strings.
    "Example-TransactionEvents-2020_07_03y.jsonld": "can only concatenate str",
    # its @context redefines cbvmda, a protected term of GS1's context; JSON-LD forbids it.
    "WithFullCombinationOfFields__transformation_event_all_possible_fields.jsonld": (
        "tried to redefine a protected term"
    ),
}


def _hashed_examples() -> list[tuple[str, str, dict[str, Any], object]]:
    out = []
    for path in EXAMPLE_FILES:
        doc = load_example(path.name)
        for pointer, event in iter_events(doc):
            if str(event.get("eventID", "")).startswith("ni:///sha-256;"):
                out.append((path.name, pointer, event, doc.get("@context")))
    return out


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the event hash must be computed offline")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_no_gs1_example_event_id_equals_the_reference_hash() -> None:
    examples = [e for e in _hashed_examples() if e[0] not in UNHASHABLE]
    assert len(examples) >= 35
    matching = [
        (name, pointer)
        for name, pointer, event, context in examples
        if event_hash_uri(event, context) == event["eventID"]
    ]
    assert matching == []


def test_identical_events_with_different_gs1_event_ids_hash_the_same() -> None:
    plain = load_example("Example_9.6.1-ObjectEvent.jsonld")
    commented = load_example("Example_9.6.1-with-comment.jsonld")
    for a, b in zip(
        plain["epcisBody"]["eventList"], commented["epcisBody"]["eventList"], strict=True
    ):
        assert a["eventID"] != b["eventID"]
        assert event_hash_uri(a, plain["@context"]) == event_hash_uri(b, commented["@context"])


@pytest.mark.parametrize(("name", "reason"), sorted(UNHASHABLE.items()))
def test_examples_the_generator_cannot_hash_raise_with_its_reason(name: str, reason: str) -> None:
    doc = load_example(name)
    _, event = next(iter_events(doc))
    with pytest.raises(InvalidEPCISError, match=reason):
        event_hash_uri(event, doc["@context"])


def test_event_hash_is_pinned_for_the_installed_generator(shipping_doc: dict[str, Any]) -> None:
    event = shipping_doc["epcisBody"]["eventList"][0]
    uri = event_hash_uri(event, shipping_doc["@context"])
    assert uri == (
        "ni:///sha-256;df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6?ver=CBV2.0"
    )
    assert event_hash(event, shipping_doc["@context"]) == bytes.fromhex(uri[14:78])
    assert len(event_hash(event)) == 32


def test_event_id_record_time_and_error_declaration_do_not_change_the_hash(
    shipping_doc: dict[str, Any],
) -> None:
    event = shipping_doc["epcisBody"]["eventList"][0]
    changed = copy.deepcopy(event)
    changed["eventID"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    changed["recordTime"] = "2030-01-01T00:00:00Z"
    changed["errorDeclaration"] = {"declarationTime": "2030-01-01T00:00:00Z"}
    assert event_hash(changed) == event_hash(event)


def test_cbv_spellings_and_time_zones_hash_the_same(shipping_doc: dict[str, Any]) -> None:
    event = shipping_doc["epcisBody"]["eventList"][0]
    other = dict(event, bizStep="urn:epcglobal:cbv:bizstep:shipping")
    other["eventTime"] = "2005-04-04T02:33:31.116Z"
    assert event_hash(other) == event_hash(event)


def test_any_field_change_changes_the_hash(shipping_doc: dict[str, Any]) -> None:
    event = shipping_doc["epcisBody"]["eventList"][0]
    assert event_hash(dict(event, disposition="in_progress")) != event_hash(event)


def test_event_with_unknown_remote_context_is_refused_not_fetched(
    shipping_doc: dict[str, Any],
) -> None:
    event = dict(shipping_doc["epcisBody"]["eventList"][0])
    event["@context"] = ["https://example.com/other-context.jsonld"]
    with pytest.raises(InvalidEPCISError, match="not available offline"):
        event_hash(event)


def test_hashing_does_not_modify_the_event() -> None:
    doc = load_example("WithSensorData__SensorDataExample1.jsonld")
    before = copy.deepcopy(doc)
    _, event = next(iter_events(doc))
    event_hash(event, doc["@context"])
    assert doc == before


def test_hashing_logs_no_serial_even_at_debug_level(caplog: pytest.LogCaptureFixture) -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-12-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "epcList": ["https://id.gs1.org/01/09506000134352/21/SECRET0042"],
        "bizStep": "commissioning",
        "ilmd": {"cbvmda:lotNumber": "LOTSECRET"},
    }
    caplog.set_level(logging.DEBUG)
    logging.getLogger("rxledger.test").info("other records pass")
    event_hash(event)
    assert "SECRET" not in caplog.text
    assert [r.getMessage() for r in caplog.records] == ["other records pass"]


def test_a_failed_hash_names_the_reason_without_logging_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = load_example("Example-TransactionEvents-2020_07_03y.jsonld")
    _, event = next(iter_events(doc))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InvalidEPCISError, match="can only concatenate str"):
        event_hash_uri(event, doc["@context"])
    assert caplog.records == []


SHIPPING_12 = b"""<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1"
    xmlns:example="http://ns.example.com/epcis/" schemaVersion="1.2"
    creationDate="2024-05-01T08:00:00Z"><EPCISBody><EventList><ObjectEvent>
  <eventTime>2024-05-01T08:00:00.000Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
  <epcList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></epcList>
  <action>OBSERVE</action><bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
  <bizTransactionList>%s</bizTransactionList>
  <example:sealed>true</example:sealed><example:note/>
</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>"""
PO = {"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.7"}
UNTYPED = {"bizTransaction": "urn:epc:id:gdti:0614141.00001.42"}


def _shipping(*entries: dict[str, str], **extension: object) -> dict[str, Any]:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2024-05-01T08:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "bizTransactionList": list(entries),
        "example:sealed": "true",
        "example:note": "",
    }
    return event | {f"example:{k}": v for k, v in extension.items()}


EXAMPLE_CONTEXT = [GS1_CONTEXT, {"example": "http://ns.example.com/epcis/"}]


@pytest.mark.parametrize("url", sorted(GS1_CONTEXTS))
def test_every_gs1_spelling_of_the_2_0_context_hashes_offline_as_the_versioned_one(
    url: str, shipping_doc: dict[str, Any]
) -> None:
    event = shipping_doc["epcisBody"]["eventList"][1]  # with an example: extension
    context = [url, *shipping_doc["@context"][1:]]
    assert event_hash_uri(event, context) == event_hash_uri(event, shipping_doc["@context"])


def test_a_business_transaction_without_type_hashes_with_the_type_left_out() -> None:
    """The generator raises IndexError on it; CBV leaves an omitted field out."""
    xml = SHIPPING_12 % b"<bizTransaction>urn:epc:id:gdti:0614141.00001.42</bizTransaction>"
    assert event_hash_uri(_shipping(UNTYPED), EXAMPLE_CONTEXT) == xml_event_hashes(xml)[0]
    assert event_hash_uri(_shipping(UNTYPED), EXAMPLE_CONTEXT) != event_hash_uri(
        _shipping({"type": "po", **UNTYPED}), EXAMPLE_CONTEXT
    )


def test_typed_and_untyped_business_transactions_hash_in_any_order() -> None:
    both = event_hash_uri(_shipping(PO, UNTYPED), EXAMPLE_CONTEXT)
    assert event_hash_uri(_shipping(UNTYPED, PO), EXAMPLE_CONTEXT) == both
    xml = SHIPPING_12 % (
        b'<bizTransaction type="urn:epcglobal:cbv:btt:po">urn:epc:id:gdti:0614141.00001.7'
        b"</bizTransaction><bizTransaction>urn:epc:id:gdti:0614141.00001.42</bizTransaction>"
    )
    assert both == xml_event_hashes(xml)[0]


def test_member_order_of_a_business_transaction_does_not_change_the_hash() -> None:
    """JSON objects are unordered; the generator pairs members in the order it reads them."""
    reversed_po = {"bizTransaction": PO["bizTransaction"], "type": "po"}
    assert event_hash_uri(_shipping(reversed_po), EXAMPLE_CONTEXT) == event_hash_uri(
        _shipping(PO), EXAMPLE_CONTEXT
    )


def test_json_true_and_null_hash_as_xml_writes_them() -> None:
    xml = SHIPPING_12 % (
        b'<bizTransaction type="urn:epcglobal:cbv:btt:po">urn:epc:id:gdti:0614141.00001.7'
        b"</bizTransaction>"
    )
    as_json = _shipping(PO, sealed=True, note=None)
    assert event_hash_uri(as_json, EXAMPLE_CONTEXT) == xml_event_hashes(xml)[0]
    assert event_hash_uri(_shipping(PO, sealed=False), EXAMPLE_CONTEXT) != xml_event_hashes(xml)[0]


def test_a_generator_failure_of_any_kind_is_an_invalid_epcis_error_naming_it() -> None:
    no_identifier = _shipping({"type": "po"})
    with pytest.raises(InvalidEPCISError) as raised:
        event_hash_uri(no_identifier, EXAMPLE_CONTEXT)
    assert raised.value.errors == [
        "event hash cannot be computed: IndexError: list index out of range"
    ]


def test_a_malformed_hash_uri_is_refused_with_an_epcis_error() -> None:
    with pytest.raises(InvalidEPCISError, match="does not hold a hexadecimal digest"):
        hash_uri_digest("ni:///sha-256;zz?ver=CBV2.0")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)


@given(st.data())
def test_an_event_with_anything_anywhere_hashes_or_raises_an_epcis_error(data: Any) -> None:
    doc = load_example("Example_9.6.1-ObjectEvent.jsonld")
    event = doc["epcisBody"]["eventList"][1]
    path = data.draw(st.sampled_from(list(json_paths(event))[1:]))
    parent_of(event, path)[path[-1]] = data.draw(JSON)
    try:
        uri = event_hash_uri(event, doc["@context"])
    except InvalidEPCISError as exc:
        assert exc.errors[0].startswith("event hash cannot be computed: ")
    else:
        assert len(hash_uri_digest(uri)) == 32
