"""A gateway capture validates the document once, when the body is parsed."""

from __future__ import annotations

from pathlib import Path

from gateway.services.capture import parse_body, rejected_errors

EXAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "epcis" / "examples"


def test_parse_and_rollback_check_validate_the_document_once(validations: list[object]) -> None:
    body = (EXAMPLE / "Example_9.6.1-ObjectEvent.jsonld").read_bytes()
    valid = parse_body(body, "application/ld+json")
    assert rejected_errors(valid) == []
    assert len(validations) == 1
    assert len(valid.events) == len(valid.report.events) == 2
