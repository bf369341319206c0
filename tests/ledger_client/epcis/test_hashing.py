from __future__ import annotations

import copy
import logging
import socket
from typing import Any

import pytest
from epcis_files import EXAMPLE_FILES, load_example

from ledger_client.epcis import InvalidEPCISError, event_hash, event_hash_uri
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
