from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from epcis_files import EXAMPLE_FILES

from ledger_client.epcis import InvalidEPCISError, load_document, validate_document


def _first_event(doc: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = doc["epcisBody"]["eventList"][0]
    return event


def assert_rejected(doc: dict[str, Any], expected: str) -> None:
    """``doc``'s problems, sorted, include one starting ``expected``; loading it raises them."""
    problems = validate_document(doc)
    assert any(p.startswith(expected) for p in problems), problems
    assert problems == sorted(problems)
    with pytest.raises(InvalidEPCISError) as raised:
        load_document(json.dumps(doc))
    assert raised.value.errors == problems


def test_shared_examples_are_found() -> None:
    assert len(EXAMPLE_FILES) >= 40


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_gs1_example_validates(path: Path) -> None:
    assert validate_document(json.loads(path.read_text(encoding="utf-8"))) == []


def test_load_document_reads_path_text_and_bytes() -> None:
    path = EXAMPLE_FILES[0]
    assert (
        load_document(path) == load_document(path.read_text()) == load_document(path.read_bytes())
    )


def test_load_document_rejects_non_json() -> None:
    with pytest.raises(InvalidEPCISError, match="not JSON"):
        load_document(b"{not json")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda e: e.pop("eventTime"),
            "/epcisBody/eventList/0: 'eventTime' is a required property",
        ),
        (lambda e: e.pop("action"), "/epcisBody/eventList/0: 'action' is a required property"),
        (
            lambda e: e.update(action="MOVE"),
            "/epcisBody/eventList/0/action: 'MOVE' is not one of ['OBSERVE', 'ADD', 'DELETE']",
        ),
        (
            lambda e: e.update(epcList="urn:epc:id:sgtin:0614141.107346.2017"),
            "/epcisBody/eventList/0/epcList: 'urn:epc:id:sgtin:0614141.107346.2017'"
            " is not of type 'array'",
        ),
        (
            lambda e: e.update(eventTime="2005-04-03 20:33:31"),
            "/epcisBody/eventList/0/eventTime: '2005-04-03 20:33:31' is not a valid date-time",
        ),
        (
            lambda e: e.update(eventTime="2005-04-03T20:33:31"),
            "/epcisBody/eventList/0/eventTime: '2005-04-03T20:33:31' is not a valid date-time",
        ),
        (
            lambda e: e.update(eventTime="2005-02-30T20:33:31Z"),
            "/epcisBody/eventList/0/eventTime: '2005-02-30T20:33:31Z' is not a valid date-time",
        ),
        (
            lambda e: e.update(eventTimeZoneOffset="6:00"),
            "/epcisBody/eventList/0/eventTimeZoneOffset: '6:00' is not a time zone offset"
            " of the form +hh:mm or -hh:mm (at most 14:00)",
        ),
    ],
    ids=[
        "missing-eventTime",
        "missing-action",
        "unknown-action",
        "epcList-not-array",
        "timestamp-with-space",
        "timestamp-without-offset",
        "timestamp-impossible-date",
        "bad-offset",
    ],
)
def test_invalid_variation_is_rejected_with_pointer_and_reason(
    shipping_doc: dict[str, Any], mutate: Any, expected: str
) -> None:
    mutate(_first_event(shipping_doc))
    assert_rejected(shipping_doc, expected)


@pytest.mark.parametrize(
    ("epc", "reason"),
    [
        (
            "urn:epc:id:sgtin:0614141.107346",
            "urn:epc:id:sgtin needs CompanyPrefix.IndicatorItemReference.Serial",
        ),
        (
            "urn:epc:id:sgtin:0614141.10734.2017",
            "urn:epc:id:sgtin: company prefix + reference must have 13 digits"
            " (the GTIN without its check digit), got 12",
        ),
        (
            "https://id.gs1.org/01/10614141073465/21/2017",
            "GTIN (01) 10614141073465 has a wrong check digit: expected 4, found 5",
        ),
        (
            "https://id.gs1.org/00/106141410000000001",
            "SSCC (00) 106141410000000001 has a wrong check digit: expected 2, found 1",
        ),
        (
            "https://brand.example/food/frozen/01/10614141073465/21/2017",
            "GTIN (01) 10614141073465 has a wrong check digit: expected 4, found 5",
        ),
        (
            "https://id.gs1.org/01/10614141073464/21/2017/10/L1",
            "Digital Link key qualifiers out of order (21, 10)",
        ),
        (
            "https://id.gs1.org/01/10614141073464/21/2017?10=L1",
            "AI (10) belongs in the Digital Link path, found it in the query",
        ),
        (
            "https://id.gs1.org/01/10614141073464/21/2017?21=2017",
            "AI (21) appears twice in the Digital Link",
        ),
        (
            "https://id.gs1.org/01/10614141073464/17/261231/21/2017",
            "expiry date (17) is not a key qualifier of GTIN (01)",
        ),
        (
            "https://id.gs1.org/01/10614141073464/21/2017?999=x",
            "AI (999) in the Digital Link query is not a GS1 Application Identifier",
        ),
        (
            "https://id.gs1.org/01/10614141073464/21/2017?02=10614141073464",
            "AI (02) CONTENT and GTIN (01) cannot be in the same code",
        ),
    ],
    ids=[
        "sgtin-missing-serial",
        "sgtin-wrong-digit-count",
        "digital-link-wrong-gtin-check-digit",
        "digital-link-wrong-sscc-check-digit",
        "digital-link-with-path-prefix-wrong-check-digit",
        "digital-link-qualifiers-out-of-order",
        "digital-link-qualifier-in-query",
        "digital-link-duplicate-ai",
        "digital-link-non-qualifier-in-path",
        "digital-link-unknown-ai",
        "digital-link-invalid-pair",
    ],
)
def test_invalid_epc_is_rejected_naming_it_and_the_reason(
    shipping_doc: dict[str, Any], epc: str, reason: str
) -> None:
    _first_event(shipping_doc)["epcList"][0] = epc
    assert_rejected(shipping_doc, f"/epcisBody/eventList/0/epcList/0: {epc}: {reason}")


def test_wrong_check_digit_in_sscc_urn_is_rejected(shipping_doc: dict[str, Any]) -> None:
    # SSCC URNs carry no check digit; a wrong digit count is what can be wrong.
    _first_event(shipping_doc)["epcList"] = ["urn:epc:id:sscc:0614141.123456789"]
    assert validate_document(shipping_doc) == [
        "/epcisBody/eventList/0/epcList/0: urn:epc:id:sscc:0614141.123456789:"
        " urn:epc:id:sscc: company prefix + reference must have 17 digits"
        " (the SSCC without its check digit), got 16"
    ]


def test_bare_event_is_validated_like_a_document(shipping_doc: dict[str, Any]) -> None:
    event = dict(_first_event(shipping_doc), **{"@context": shipping_doc["@context"]})
    assert validate_document(event) == []
    del event["eventTime"]
    assert validate_document(event) == ["/: 'eventTime' is a required property"]


@pytest.mark.parametrize(
    "location",
    [
        "urn:epc:id:sgln:859839494502..0",
        "urn:epc:id:sgln:0614141.07346.A.B",
        "urn:epc:id:sgln:0614141.07346.A%2FB",
        "https://brand.example/sites/414/0614141073467/254/A%2FB",
    ],
)
def test_every_location_form_of_the_tag_data_standard_is_valid(
    shipping_doc: dict[str, Any], location: str
) -> None:
    _first_event(shipping_doc)["readPoint"]["id"] = location
    _first_event(shipping_doc)["sourceList"] = [
        {"type": "owning_party", "source": "urn:epc:id:pgln:859839494502."}
    ]
    assert validate_document(shipping_doc) == []
