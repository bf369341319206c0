"""A gateway capture validates the document once, when the body is parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.services.capture import parse_body, rejected_errors
from ledger_client.epcis import validation

EXAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "epcis" / "examples"


def test_parse_and_rollback_check_validate_the_document_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[object] = []
    checked = validation.validate_document

    def counting(doc: dict[str, Any]) -> list[str]:
        seen.append(doc)
        return checked(doc)

    monkeypatch.setattr(validation, "validate_document", counting)
    body = (EXAMPLE / "Example_9.6.1-ObjectEvent.jsonld").read_bytes()
    valid = parse_body(body, "application/ld+json")
    assert rejected_errors(valid) == []
    assert len(seen) == 1
    assert len(valid.events) == len(valid.report.events) == 2
