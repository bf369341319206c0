"""Validate EPCIS 2.0 JSON-LD documents against GS1's JSON schema plus ledger checks: errors
refuse a document, warnings (:mod:`ledger_client.epcis.tolerated`) do not."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError

from ledger_client.epcis._schema import EVENT_TYPES, document_validator, json_pointer
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.tolerated import ValidationWarning, event_warnings, neutralise
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1.epc import is_gs1_identifier, parse_epc
from ledger_client.nesting import NestingTooDeepError, check_nesting

__all__ = [
    "Inspection",
    "inspect_document",
    "validate_document",
    "load_document",
    "check_document",
    "check_depth",
    "iter_events",
]

_TZ_OFFSET = re.compile(r"[+-](\d{2}):(\d{2})")
# Event fields holding the EPCs of the objects an event moves.
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def _describe(error: ValidationError) -> tuple[str, str, str]:
    """Return (pointer, validator keyword, message) of the innermost cause of ``error``."""
    # GS1's schema wraps event types in if/then and anyOf; the innermost error says most.
    leaf = error
    while leaf.context:
        leaf = min(leaf.context, key=lambda e: (-len(e.absolute_path), str(e.message)))
    pointer = json_pointer(leaf.absolute_path)
    if leaf.validator == "format":
        return pointer, "format", f"{leaf.instance!r} is not a valid {leaf.validator_value}"
    return pointer, str(leaf.validator), leaf.message


def _schema_problems(doc: dict[str, Any]) -> set[str]:
    found = {_describe(error) for error in document_validator().iter_errors(doc)}
    with_enum = {pointer for pointer, keyword, _ in found if keyword == "enum"}
    problems = set()
    for pointer, keyword, message in found:
        if keyword == "pattern" and (
            pointer in with_enum or pointer.endswith("/eventTimeZoneOffset")
        ):
            continue  # the enum message, or our offset message below, says it better
        problems.add(f"{pointer}: {message}")
    return problems


def iter_events(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (JSON pointer, event) for each event of a document, query document or bare event."""
    kind = doc.get("type")
    if kind in EVENT_TYPES:
        yield "", doc
        return
    body = doc.get("epcisBody")
    if not isinstance(body, dict):
        return
    if kind == "EPCISQueryDocument":
        results = body.get("queryResults", {})
        events = (
            results.get("resultsBody", {}).get("eventList", []) if isinstance(results, dict) else []
        )
        base = "/epcisBody/queryResults/resultsBody/eventList"
    else:
        events = body.get("eventList", [])
        base = "/epcisBody/eventList"
    if isinstance(events, list):
        for i, event in enumerate(events):
            if isinstance(event, dict):
                yield f"{base}/{i}", event


def _epc_values(event: dict[str, Any]) -> Iterator[tuple[str, object]]:
    for key in _EPC_LISTS:
        values = event.get(key)
        if isinstance(values, list):
            for i, value in enumerate(values):
                yield f"/{key}/{i}", value
    if "parentID" in event:
        yield "/parentID", event["parentID"]
    for key in _QUANTITY_LISTS:
        elements = event.get(key)
        if isinstance(elements, list):
            for i, element in enumerate(elements):
                if isinstance(element, dict):
                    yield f"/{key}/{i}/epcClass", element.get("epcClass")


def _ledger_checks(doc: dict[str, Any]) -> Iterator[str]:
    for base, event in iter_events(doc):
        offset = event.get("eventTimeZoneOffset")
        if isinstance(offset, str):
            match = _TZ_OFFSET.fullmatch(offset)
            if match is None or int(match.group(1)) > 14 or int(match.group(2)) > 59:
                yield (
                    f"{base}/eventTimeZoneOffset: {offset!r} is not a time zone offset"
                    " of the form +hh:mm or -hh:mm (at most 14:00)"
                )
        for where, value in _epc_values(event):
            if isinstance(value, str) and is_gs1_identifier(value):
                try:
                    parse_epc(value)
                except InvalidCodeError as exc:
                    yield f"{base}{where}: {exc}"


@dataclass(frozen=True)
class Inspection:
    """What is wrong with a document: ``errors`` refuse it (each ``<JSON pointer>: <what is
    wrong>``, sorted); ``warnings`` do not (see :mod:`ledger_client.epcis.tolerated`)."""

    errors: list[str]
    warnings: list[ValidationWarning]


def inspect_document(doc: dict[str, Any], found: Iterable[ValidationWarning] = ()) -> Inspection:
    """Return the errors and the warnings of an EPCIS 2.0 document or bare event.

    Warnings are the flaws a received document may have (a malformed location or party
    id, an unknown CBV vocabulary value, a non-standard extension); ``found`` are those a
    converter found in the document's source (XML content EPCIS 2.0 has no place for),
    merged in (by event, then path). Errors are what is left: the GS1 schema with RFC 3339
    timestamps enforced, checked on a copy with the tolerated values replaced, then what
    the schema cannot see: check digits and digit counts of the SGTIN/SSCC/LGTIN EPC URIs
    and GS1 Digital Link URIs of the objects an event moves, and the format of
    ``eventTimeZoneOffset``.
    """
    if not isinstance(doc, dict):
        return Inspection([f"/: expected a JSON object, got {type(doc).__name__}"], list(found))
    warnings = [
        warning
        for index, (base, event) in enumerate(iter_events(doc))
        for warning in event_warnings(event, index, base)
    ]
    checked = doc
    if warnings:
        checked = copy.deepcopy(doc)
        for _, event in iter_events(checked):
            neutralise(event)
    problems = _schema_problems(checked)
    problems.update(_ledger_checks(checked))
    merged = {(w.index, w.path): w for w in (*warnings, *found)}
    return Inspection(sorted(problems), [merged[key] for key in sorted(merged)])


def validate_document(doc: dict[str, Any]) -> list[str]:
    """Return the errors of an EPCIS 2.0 document or event, sorted; empty if it can be
    received (it may still have warnings: :func:`inspect_document`)."""
    return inspect_document(doc).errors


def check_document(doc: dict[str, Any], found: Iterable[ValidationWarning] = ()) -> dict[str, Any]:
    """Return ``doc`` if it has no errors, else raise :class:`InvalidEPCISError` listing them
    (and its warnings, ``found`` merged in: :func:`inspect_document`)."""
    inspection = inspect_document(doc, found)
    if inspection.errors:
        raise InvalidEPCISError(inspection.errors, inspection.warnings)
    return doc


def check_depth(data: str | bytes) -> None:
    """Raise :class:`InvalidEPCISError` if the JSON or XML text ``data`` nests deeper than
    ``ledger_client.nesting.MAX_DEPTH`` levels; call it before any parser reads ``data``."""
    try:
        check_nesting(data)
    except NestingTooDeepError as exc:
        raise InvalidEPCISError([f"/: {exc}"]) from None


def load_document(source: str | bytes | PathLike[str]) -> dict[str, Any]:
    """Parse and validate an EPCIS 2.0 JSON-LD document from text, bytes or a file path.

    A ``str`` that does not start with ``{`` is taken as a path. Raises
    :class:`InvalidEPCISError` if it nests too deep, is not JSON or is not valid.
    """
    if isinstance(source, PathLike) or (
        isinstance(source, str) and not source.lstrip().startswith("{")
    ):
        data: str | bytes = Path(source).read_bytes()
    else:
        data = source
    check_depth(data)
    try:
        doc = json.loads(data)
    except ValueError as exc:  # not JSON, not text, or a number of more than 4300 digits
        raise InvalidEPCISError([f"/: not JSON: {exc}"]) from exc
    return check_document(doc)
