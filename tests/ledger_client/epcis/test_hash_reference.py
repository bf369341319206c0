"""RxLedger's event hash against the expected hashes of GS1's reference generator
(``RalphTro/epcis-event-hash-generator``, tests/data/epcis-event-hash-generator/SOURCE.md).

The expectations come from the generator's development head, which changed the algorithm
after release 1.9.3, the version RxLedger pins: where the two differ, RxLedger keeps the
released algorithm on purpose (anchored hashes must not change with a library upgrade)
and the case is listed in NEWER_ALGORITHM with what changed (docs/epcis.md).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from reference_hashes import xml_event_hashes

from ledger_client.epcis import event_hash_uri, validate_document
from ledger_client.epcis.validation import iter_events

DATA = Path(__file__).resolve().parents[2] / "data" / "epcis-event-hash-generator"
DOCUMENTS = sorted([*DATA.glob("*.json"), *DATA.glob("*.jsonld")])
_SOURCE_DEST = "sourceList before destinationList, entries in document order"
_SENSORS = "no sensorElementList level; GS1 Web Vocabulary terms under ref.gs1.org/voc/"
# (document, event index) -> what the generator's head does that release 1.9.3 does not
NEWER_ALGORITHM = {
    ("ReferenceEventHashAlgorithm2.jsonld", 0): _SENSORS,
    ("ReferenceEventHashAlgorithm3.jsonld", 0): f"{_SOURCE_DEST}; readPoint extension last",
    ("TimeStampRoundOff.jsonld", 2): f"certificationInfo left out; {_SENSORS}",
    ("epcisDocWithVariousEventTypes.jsonld", 0): _SOURCE_DEST,
    ("epcisDocWithVariousEventTypes.jsonld", 1): _SOURCE_DEST,
    ("ObjectEvent_all_possible_fields.json", 0): (
        f"certificationInfo left out; {_SOURCE_DEST}; {_SENSORS}; extensions placed anew"
    ),
}


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def _cases() -> list[Any]:
    cases = []
    for path in DOCUMENTS:
        expected = (DATA / f"{path.stem}.hashes").read_text().split()
        doc = _load(path)
        for index, (_, event) in enumerate(iter_events(doc)):
            newer = (path.name, index) in NEWER_ALGORITHM
            case = (event, doc["@context"], expected[index], newer)
            cases.append(pytest.param(*case, id=f"{path.name}[{index}]"))
    return cases


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the event hash must be computed offline")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_every_reference_document_is_valid_epcis_with_one_expected_hash_per_event() -> None:
    assert len(DOCUMENTS) == 8
    for path in DOCUMENTS:
        doc = _load(path)
        assert validate_document(doc) == [], path.name
        expected = (DATA / f"{path.stem}.hashes").read_text().split()
        assert len(expected) == len(list(iter_events(doc))), path.name
    assert {name for name, _ in NEWER_ALGORITHM} <= {p.name for p in DOCUMENTS}


@pytest.mark.parametrize(("event", "context", "expected", "newer"), _cases())
def test_rxledger_reproduces_the_reference_hash_unless_the_algorithm_changed_since(
    event: dict[str, Any], context: object, expected: str, newer: bool
) -> None:
    ours = event_hash_uri(event, context)
    if newer:
        assert ours != expected, "the reference now agrees: drop the NEWER_ALGORITHM entry"
    else:
        assert ours == expected


@pytest.mark.parametrize("path", sorted(DATA.glob("*.xml")), ids=lambda p: p.name)
def test_the_xml_twin_hashes_as_rxledger_hashes_the_json_ld(path: Path) -> None:
    """Every event, those of NEWER_ALGORITHM included: the pinned generator reading the XML
    agrees with RxLedger reading the JSON-LD of the same events."""
    doc = _load(path.with_suffix(".jsonld"))
    ours = [event_hash_uri(event, doc["@context"]) for _, event in iter_events(doc)]
    assert xml_event_hashes(path.read_bytes()) == ours
