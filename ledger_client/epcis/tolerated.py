"""The flaws a received EPCIS document may have and still be received: warnings, not errors.

A partner's file is refused only when it cannot be trusted for custody (docs/epcis.md has
the table). A malformed location or party id, an unknown CBV vocabulary value or a
non-standard extension is a warning: the event is kept exactly as sent, the warning is
kept beside it, and the ledger acts on what it can read. :func:`event_warnings` finds them
in one event; :func:`neutralise` replaces them, in a copy, by values the schema accepts, so
that the error checks run on what is left. The EPCIS 1.2 XML import adds warnings of its
own, for XML content EPCIS 2.0 has no place for: there the warning's value is the only copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ledger_client.epcis._cbv import bare
from ledger_client.epcis._schema import (
    any_event_field,
    definition_validator,
    event_field_names,
    is_uri,
    json_pointer,
    object_field_names,
)
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1.epc import is_gs1_identifier, parse_epc

__all__ = ["ValidationWarning", "WarningKind", "event_warnings", "neutralise"]

WarningKind = Literal["location", "party", "vocabulary", "extension"]

#: What stands in for a tolerated value in the copy the error checks read (a URI of no
#: vocabulary, no GS1 identifier).
_PLACEHOLDER = "urn:rxledger:tolerated"
#: Schema definition, _cbv vocabulary and name of each CBV vocabulary an event uses.
_Vocabulary = tuple[str, str, str]
_BIZ_STEP: _Vocabulary = ("bizStep", "bizstep", "bizStep")
_DISPOSITION: _Vocabulary = ("disposition", "disp", "disposition")
_BTT: _Vocabulary = ("bizTransaction-type", "btt", "business transaction type")
_SDT: _Vocabulary = ("source-dest-type", "sdt", "source/destination type")
_ERROR_REASON: _Vocabulary = ("error-reason", "er", "error reason")


@dataclass(frozen=True)
class ValidationWarning:
    """A flaw that does not stop a document being received; its event is kept as sent
    (``value`` is what is at ``path``, or, for XML content EPCIS 2.0 has no place for, the
    only copy of it, ``path`` saying where it would be)."""

    index: int
    """the event's position in the document (0 for a bare event)"""
    event_id: str | None
    path: str
    """JSON pointer of the value in the document"""
    field: str
    """JSON pointer of the value in its event"""
    value: Any
    kind: WarningKind
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: index, eventID, path, field, value, kind, message."""
        return {
            "index": self.index,
            "eventID": self.event_id,
            "path": self.path,
            "field": self.field,
            "value": self.value,
            "kind": self.kind,
            "message": self.message,
        }


@dataclass(frozen=True)
class _Flaw:
    """A tolerated value: where it is in its event (as keys), what kind, why."""

    keys: tuple[str | int, ...]
    value: Any
    kind: WarningKind
    message: str
    drop: bool = False
    """True: a field name that is not allowed (removed from the copy), not a value"""


def _id_problem(value: str) -> str | None:
    """Why ``value`` is not a usable identifier URI, or None if it is one."""
    if not is_uri(value):
        return f"{value!r} is not a URI"
    if is_gs1_identifier(value):
        try:
            parse_epc(value)
        except InvalidCodeError as exc:
            return str(exc)
    return None


def _id_flaws(event: dict[str, Any]) -> Iterator[_Flaw]:
    for key in ("readPoint", "bizLocation"):
        place = event.get(key)
        if not isinstance(place, dict):
            continue
        value = place.get("id")
        problem = _id_problem(value) if isinstance(value, str) else None
        if problem is not None:
            yield _Flaw(
                (key, "id"), value, "location", f"malformed {key} id, kept as sent: {problem}"
            )
    for key, field in (("sourceList", "source"), ("destinationList", "destination")):
        entries = event.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            value = entry.get(field) if isinstance(entry, dict) else None
            problem = _id_problem(value) if isinstance(value, str) else None
            if problem is not None:
                yield _Flaw(
                    (key, i, field),
                    value,
                    "party",
                    f"malformed {field} id, kept as sent (no trading partner is read from it):"
                    f" {problem}",
                )


def _vocabulary_problem(value: str, vocabulary: _Vocabulary) -> str | None:
    """Why ``value`` is not a term or URI the schema allows in ``vocabulary``, or None."""
    definition, cbv, name = vocabulary
    if definition_validator(definition).is_valid(value):
        return None
    term = bare(value, cbv)
    if term != value and definition_validator(definition).is_valid(term):
        return (
            f"{value!r} is the EPCIS 1.2 spelling of CBV {name} {term!r}"
            f" (EPCIS 2.0 writes {term!r}); read as {term!r}"
        )
    return (
        f"{value!r} is not a CBV {name} nor the URI of another vocabulary;"
        " kept as sent, no ledger meaning is read from it"
    )


def _vocabulary_values(
    event: dict[str, Any],
) -> Iterator[tuple[tuple[str | int, ...], Any, _Vocabulary]]:
    """(keys, value, vocabulary) of each field of ``event`` holding a CBV term."""
    for key, vocabulary in (("bizStep", _BIZ_STEP), ("disposition", _DISPOSITION)):
        if key in event:
            yield (key,), event[key], vocabulary
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, dict):
        for key in ("set", "unset"):
            values = persistent.get(key)
            for i, value in enumerate(values if isinstance(values, list) else []):
                yield ("persistentDisposition", key, i), value, _DISPOSITION
    for key, vocabulary in (
        ("bizTransactionList", _BTT),
        ("sourceList", _SDT),
        ("destinationList", _SDT),
    ):
        entries = event.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and "type" in entry:
                yield (key, i, "type"), entry["type"], vocabulary
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, dict) and "reason" in declaration:
        yield ("errorDeclaration", "reason"), declaration["reason"], _ERROR_REASON


def _vocabulary_flaws(event: dict[str, Any]) -> Iterator[_Flaw]:
    for keys, value, vocabulary in _vocabulary_values(event):
        if isinstance(value, str):
            problem = _vocabulary_problem(value, vocabulary)
            if problem is not None:
                yield _Flaw(keys, value, "vocabulary", problem)


def _extension_holders(
    event: dict[str, Any],
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any], str]]:
    """(keys, object, schema definition) of each object inside ``event`` that takes
    extension fields beside the fields the schema gives it."""
    for key in ("readPoint", "bizLocation", "errorDeclaration"):
        if isinstance(event.get(key), dict):
            yield (key,), event[key], key
    elements = event.get("sensorElementList")
    for i, element in enumerate(elements if isinstance(elements, list) else []):
        if not isinstance(element, dict):
            continue
        yield ("sensorElementList", i), element, "sensorElement"
        metadata = element.get("sensorMetadata")
        if isinstance(metadata, dict):
            yield ("sensorElementList", i, "sensorMetadata"), metadata, "sensorMetadata"
        reports = element.get("sensorReport")
        for j, report in enumerate(reports if isinstance(reports, list) else []):
            if isinstance(report, dict):
                yield ("sensorElementList", i, "sensorReport", j), report, "sensorReport"


def _extension_flaws(event: dict[str, Any]) -> Iterator[_Flaw]:
    kind = event.get("type")
    allowed = event_field_names(kind) if isinstance(kind, str) else None
    if allowed is not None:
        for name, value in event.items():
            # a field EPCIS defines for other event types is a mistake, not an extension
            if name not in allowed and name not in any_event_field() and _extension_name(name):
                yield _Flaw(
                    (name,),
                    value,
                    "extension",
                    f"{name!r} is not an EPCIS 2.0 {kind} field and has no namespace prefix:"
                    " a non-standard extension, kept as sent",
                    drop=True,
                )
    for keys, holder, definition in _extension_holders(event):
        for name, value in holder.items():
            if name not in object_field_names(definition) and _extension_name(name):
                yield _Flaw(
                    (*keys, name),
                    value,
                    "extension",
                    f"{name!r} in {definition} has no namespace prefix: a non-standard"
                    " extension, kept as sent",
                    drop=True,
                )
    ilmd = event.get("ilmd")
    if isinstance(ilmd, dict):
        for name, value in ilmd.items():
            if _extension_name(name):
                yield _Flaw(
                    ("ilmd", name),
                    value,
                    "extension",
                    f"ILMD field {name!r} has no namespace prefix: a non-standard extension,"
                    " kept as sent (the ledger reads cbvmda:lotNumber and"
                    " cbvmda:itemExpirationDate only)",
                    drop=True,
                )


def _extension_name(name: str) -> bool:
    """True if ``name`` can only be a non-standard extension: no namespace prefix, and no
    JSON-LD keyword (``@type``: it changes what the event means, and its hash)."""
    return not is_uri(name) and not name.startswith("@")


def _flaws(event: dict[str, Any]) -> list[_Flaw]:
    return [*_id_flaws(event), *_vocabulary_flaws(event), *_extension_flaws(event)]


def event_warnings(event: dict[str, Any], index: int, base: str) -> list[ValidationWarning]:
    """The warnings of the event at JSON pointer ``base`` (index ``index``) of a document."""
    event_id = event.get("eventID")
    found = [
        ValidationWarning(
            index=index,
            event_id=event_id if isinstance(event_id, str) else None,
            path=base + json_pointer(flaw.keys),
            field=json_pointer(flaw.keys),
            value=flaw.value,
            kind=flaw.kind,
            message=flaw.message,
        )
        for flaw in _flaws(event)
    ]
    return sorted(found, key=lambda w: w.path)


def neutralise(event: dict[str, Any]) -> None:
    """Replace, in place, every tolerated value of ``event`` (a copy) by one the schema
    accepts, and remove its non-standard fields; what the error checks then find is an
    error."""
    for flaw in _flaws(event):
        *parents, last = flaw.keys
        holder: Any = event
        for key in parents:
            holder = holder[key]
        if flaw.drop:
            del holder[last]
        else:
            holder[last] = _PLACEHOLDER
