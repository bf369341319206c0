"""GS1's EPCIS 2.0 JSON schema, with the formats RxLedger enforces, for the whole document or
one of its definitions; the field names it gives each event type and object; JSON pointers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

__all__ = [
    "EVENT_TYPES",
    "any_event_field",
    "document_validator",
    "definition_validator",
    "event_field_names",
    "is_uri",
    "json_pointer",
    "object_field_names",
]

#: The five standard event types.
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*")

_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # calendar check
    return True


@_formats.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or is_uri(value)


def json_pointer(keys: Iterable[object]) -> str:
    """The JSON pointer (RFC 6901) of a path of keys and indexes; ``/`` for the root."""
    parts = [str(k).replace("~", "~0").replace("/", "~1") for k in keys]
    return "/" + "/".join(parts) if parts else "/"


def is_uri(value: str) -> bool:
    """True if ``value`` is an absolute URI (a scheme, then no space or forbidden character)."""
    return _URI.fullmatch(value) is not None


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("ledger_client.epcis").joinpath("schema/EPCIS-JSON-Schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return schema


@cache
def document_validator() -> Draft7Validator:
    """The validator of a whole EPCIS 2.0 document (or bare event)."""
    return Draft7Validator(_schema(), format_checker=_formats)


@cache
def definition_validator(name: str) -> Draft7Validator:
    """The validator of the schema's definition ``name`` alone (``bizStep``, ``uri``, ...)."""
    schema = {"$ref": f"#/definitions/{name}", "definitions": _schema()["definitions"]}
    return Draft7Validator(schema, format_checker=_formats)


@cache
def event_field_names(kind: str) -> frozenset[str] | None:
    """The field names the schema allows in an event of type ``kind`` besides prefixed
    extensions, or None for a type the schema does not define."""
    if kind not in EVENT_TYPES:
        return None
    definition = _schema()["definitions"][kind]
    common = _schema()["definitions"]["common-event-properties"]["anyOf"][0]["enum"]
    names = set(common)
    for part in definition["allOf"]:
        for option in part.get("propertyNames", {}).get("anyOf", []):
            names.update(option.get("enum", []))
    return frozenset(names)


@cache
def any_event_field() -> frozenset[str]:
    """Every field name the schema gives an event of any type."""
    return frozenset().union(*(event_field_names(kind) or () for kind in EVENT_TYPES))


@cache
def object_field_names(definition: str) -> frozenset[str]:
    """The field names the schema defines for the object ``definition`` (``readPoint``,
    ``errorDeclaration``, ``sensorReport``...): its ``properties``, none for ``ilmd``."""
    return frozenset(_schema()["definitions"][definition].get("properties", ()))
