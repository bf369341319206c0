"""ValidDocument: made only by validating, validated once, mapped once."""

from __future__ import annotations

from typing import Any

import pytest
from epcis_files import dscsa_xml

from ledger_client.epcis import (
    InvalidEPCISError,
    ValidDocument,
    map_document,
    read_valid_document,
)


def test_a_valid_document_cannot_be_made_without_validating(shipping_doc: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="ValidDocument.validate"):
        ValidDocument(shipping_doc, ())


def test_an_invalid_document_raises_its_problems(shipping_doc: dict[str, Any]) -> None:
    del shipping_doc["schemaVersion"]
    with pytest.raises(InvalidEPCISError, match="schemaVersion"):
        ValidDocument.validate(shipping_doc)


def test_xml_is_validated_once_and_mapped_once(validations: list[object]) -> None:
    valid = read_valid_document(dscsa_xml("cardinal_health"))
    assert len(validations) == 1
    assert valid.events == tuple(valid.doc["epcisBody"]["eventList"])
    assert valid.report is valid.report
    assert valid.report == map_document(valid.doc)
