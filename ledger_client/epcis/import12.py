"""Import EPCIS 1.2 XML (DSCSA style) as EPCIS 2.0 JSON-LD, following GS1's 1.2 to 2.0 mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from ledger_client.epcis._cbv import bare
from ledger_client.epcis._schema import (
    EVENT_TYPES,
    any_event_field,
    json_pointer,
    object_field_names,
)
from ledger_client.epcis._xml12 import (
    EPC_LISTS,
    EPCIS_NS,
    MDA_NS,
    PREDEFINED,
    QUANTITY_LISTS,
    RESERVED_PREFIXES,
    SBDH_NS,
    SENSOR_METADATA,
    SENSOR_NUMBERS,
    SENSOR_REPORT,
    SENSOR_TERMS,
    SIMPLE,
    parse_xml,
    sbdh_fields,
)
from ledger_client.epcis._xml_json import (
    XSI_NS,
    Prefixes,
    add_property,
    attribute_prefix,
    element_json,
)
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.hashing import GS1_CONTEXT
from ledger_client.epcis.tolerated import ValidationWarning
from ledger_client.epcis.validation import check_document
from ledger_client.gs1.epc import parse_epc_or_none

__all__ = ["convert_12_xml", "translate_12_xml", "master_data", "master_data_of"]

_NIL = f"{{{XSI_NS}}}nil"
_SCHEMA_HINTS = (f"{{{XSI_NS}}}schemaLocation", f"{{{XSI_NS}}}noNamespaceSchemaLocation")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DOUBLE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
# The 1.2 spelling of GS1's first sensor drafts, read as its 2.0 name.
_SENSOR_METADATA_TAGS = ("sensorMetadata", "sensorMetaData")
# Where a value is in its event, as keys and list indexes.
Keys = tuple[str | int, ...]


@cache
def _bare_terms(definition: str) -> frozenset[str]:
    """The bare terms GS1's JSON schema lists for a sensor vocabulary (``measurementType``)."""
    text = resources.files("ledger_client.epcis").joinpath("schema/EPCIS-JSON-Schema.json")
    anyof = json.loads(text.read_text(encoding="utf-8"))["definitions"][definition]["anyOf"]
    return frozenset(term for option in anyof for term in option.get("enum", ()))


def _children(el: etree._Element) -> list[etree._Element]:
    return [child for child in el if isinstance(child.tag, str)]


def _local(el: etree._Element) -> str | None:
    """The name of an unqualified element (EPCIS's own), None for a namespaced one."""
    qname = etree.QName(el)
    return qname.localname if qname.namespace is None else None


class _Converter:
    """Reads one EPCIS 1.2 document. Inside an event, XML content that EPCIS 2.0 can hold is
    kept (a non-standard field as its own key: validation warns about it); content EPCIS
    2.0 has no place for is kept in a warning of the event (``warnings``), except in the
    fields of the objects and amounts moved, where it is an error."""

    def __init__(self) -> None:
        self.prefixes = Prefixes(PREDEFINED, RESERVED_PREFIXES)
        self.warnings: list[ValidationWarning] = []
        # the current event's content with no place in EPCIS 2.0: keys -> (values, message)
        self.homeless_content: dict[Keys, tuple[list[Any], str]] = {}
        self.fields_of: dict[str, Callable[[etree._Element, Keys], Any]] = {
            **dict.fromkeys(SIMPLE, self.text),
            "parentID": lambda el, _: self.text(el, None),
            "bizStep": lambda el, at: bare(self.text(el, at), "bizstep"),
            "disposition": lambda el, at: bare(self.text(el, at), "disp"),
            **dict.fromkeys(EPC_LISTS, lambda el, _: self.epc_list(el)),
            **dict.fromkeys(QUANTITY_LISTS, lambda el, _: self.quantity_list(el)),
            "readPoint": self.place,
            "bizLocation": self.place,
            "bizTransactionList": lambda el, at: self.typed_list(el, at, "bizTransaction", "btt"),
            "sourceList": lambda el, at: self.typed_list(el, at, "source", "sdt"),
            "destinationList": lambda el, at: self.typed_list(el, at, "destination", "sdt"),
            "ilmd": self.ilmd,
            "errorDeclaration": self.error_declaration,
            "persistentDisposition": self.persistent_disposition,
            "sensorElementList": self.sensor_element_list,
        }

    @staticmethod
    def where(el: etree._Element) -> str:
        return f"line {el.sourceline}: <{etree.QName(el).localname}>"

    def fail(self, el: etree._Element, problem: str) -> InvalidEPCISError:
        return InvalidEPCISError([f"{self.where(el)} {problem}"])

    def key(self, el: etree._Element) -> str:
        return self.prefixes.key(el.tag, el.prefix)

    def attribute_key(self, el: etree._Element, name: str) -> str:
        return self.prefixes.key(name, attribute_prefix(el, name))

    def value(self, el: etree._Element) -> Any:
        return element_json(el, self.prefixes)

    def check_xsi(self, el: etree._Element, name: str) -> None:
        """Refuse an ``xsi:`` attribute of a standard element (``xsi:nil`` where the 1.2
        XSD does not declare it nillable)."""
        qname = etree.QName(name)
        if qname.namespace == XSI_NS:
            what = "is not nillable" if name == _NIL else f"cannot have xsi:{qname.localname}"
            raise self.fail(el, f"{what} in the EPCIS 1.2 XSD")

    def attributes(
        self, el: etree._Element, target: dict[str, Any], standard: frozenset[str]
    ) -> None:
        """Put the attributes of ``el`` into ``target``, the object it is in EPCIS 2.0 (whose
        fields are ``standard``): a namespaced one as ``prefix:name``, an unqualified one as
        ``name`` (a non-standard extension). One named like a field is refused: EPCIS
        writes that field as an element."""
        for name, value in el.attrib.items():
            self.check_xsi(el, name)
            key = self.attribute_key(el, name)
            if key in standard:
                raise self.fail(el, f"attribute {key!r} is an EPCIS field, written as an element")
            add_property(target, key, value)

    def strict_attributes(self, el: etree._Element, allowed: tuple[str, ...] = ()) -> None:
        """Refuse any attribute of ``el``, part of the objects or amounts an event moves."""
        for name in el.attrib:
            if name not in allowed:
                self.check_xsi(el, name)
                raise self.fail(
                    el,
                    f"attribute {etree.QName(name).localname!r} has no place in EPCIS 2.0;"
                    " custody is not read from a field that carries what cannot be kept",
                )

    def document_attributes(
        self, el: etree._Element, target: dict[str, Any] | None, allowed: tuple[str, ...] = ()
    ) -> None:
        """Put the namespaced attributes of the document-level element ``el`` into
        ``target``; refuse an unqualified one, or any where EPCIS 2.0 has no object
        (``target`` None): the document's own fields take namespaced extensions only."""
        for name, value in el.attrib.items():
            if name in allowed:
                continue
            self.check_xsi(el, name)
            if etree.QName(name).namespace is None or target is None:
                local = etree.QName(name).localname
                raise self.fail(el, f"attribute {local!r} has no place in EPCIS 2.0")
            add_property(target, self.attribute_key(el, name), value)

    def homeless(self, keys: Keys, value: Any, message: str) -> None:
        """Keep ``value``, content of the current event EPCIS 2.0 has no place for, in a
        warning at ``keys`` (where it would be); a name met again there gives a list."""
        if keys in self.homeless_content:
            self.homeless_content[keys][0].append(value)
        else:
            self.homeless_content[keys] = ([value], message)

    def homeless_attributes(
        self,
        el: etree._Element,
        at: Keys,
        allowed: tuple[str, ...] = (),
        standard: frozenset[str] = frozenset(),
    ) -> None:
        """Keep the attributes of ``el``, whose EPCIS 2.0 form (at ``at``, an object with the
        fields ``standard``, or a value) has no room for them, in warnings; one named like
        a field is refused."""
        for name, value in el.attrib.items():
            if name not in allowed:
                self.check_xsi(el, name)
                key = self.attribute_key(el, name)
                if key in standard:
                    raise self.fail(el, f"attribute {key!r} is an EPCIS field, not read from here")
                self.homeless(
                    (*at, key),
                    value,
                    f"{self.where(el)} attribute {key!r} has no place in EPCIS 2.0;"
                    " kept in this warning, not in the event",
                )

    def homeless_element(self, el: etree._Element, at: Keys) -> None:
        """Keep ``el``, a child its parent (at ``at`` in EPCIS 2.0) has no room for, in a
        warning."""
        key = self.key(el)
        parent = etree.QName(el.getparent()).localname  # type: ignore[arg-type]
        self.homeless(
            (*at, key),
            self.value(el),
            f"line {el.sourceline}: <{key}> in <{parent}> has no place in EPCIS 2.0;"
            " kept in this warning, not in the event",
        )

    def text(self, el: etree._Element, at: Keys | None, allowed: tuple[str, ...] = ()) -> str:
        """The text of a standard element that holds only text, stripped; its attributes
        are kept in warnings at ``at``, or refused if ``at`` is None (the objects or
        amounts moved)."""
        if at is None:
            self.strict_attributes(el, allowed)
        else:
            self.homeless_attributes(el, at, allowed)
        return self.plain_text(el)

    def plain_text(self, el: etree._Element) -> str:
        if _children(el):
            raise self.fail(el, "holds elements; EPCIS expects text here")
        return (el.text or "").strip()

    def extra(
        self, el: etree._Element, target: dict[str, Any], standard: frozenset[str], what: str
    ) -> None:
        """Keep ``el``, a child that is not a field of its parent's object ``target`` (a
        ``what``, whose fields are ``standard``), in ``target``: a namespaced element as
        ``prefix:name``, an ``extension`` wrapper flattened, an unqualified element as
        ``name`` (a non-standard extension) unless named like a field, which is refused."""
        name = _local(el)
        if name is None:
            add_property(target, self.key(el), self.value(el))
        elif name == "extension":
            self.attributes(el, target, standard)
            for child in _children(el):
                self.extra(child, target, standard, what)
        elif name in standard:
            raise self.fail(
                el,
                f"is not an EPCIS 1.2 {what} field here; named like an EPCIS field, it is not"
                " kept as an extension",
            )
        else:
            add_property(target, name, self.value(el))

    def fields(self, el: etree._Element, event: dict[str, Any]) -> None:
        """Read the fields of an event from ``el`` (the event or one of its wrappers)."""
        for child in _children(el):
            name = _local(child)
            if name in ("extension", "baseExtension"):
                self.attributes(child, event, any_event_field())
                self.fields(child, event)
            elif name == "certificationInfo":
                add_property(event, name, self.text(child, (name,)))
            elif name in self.fields_of:
                if name in event:
                    raise self.fail(child, "appears twice in one event")
                event[name] = self.fields_of[name](child, (name,))
            else:
                self.extra(child, event, any_event_field(), "event")

    def epc_list(self, el: etree._Element) -> list[str]:
        self.strict_attributes(el)
        epcs = []
        for child in _children(el):
            if _local(child) != "epc":
                raise self.fail(child, "is not an <epc>")
            epcs.append(self.text(child, None))
        return epcs

    def place(self, el: etree._Element, at: Keys) -> dict[str, Any]:
        place: dict[str, Any] = {}
        standard = object_field_names("readPoint")
        self.attributes(el, place, standard)
        for child in _children(el):
            if _local(child) == "id":
                if "id" in place:
                    raise self.fail(child, f"appears twice in one <{etree.QName(el).localname}>")
                place["id"] = self.text(child, (*at, "id"))
            else:
                self.extra(child, place, standard, str(at[-1]))
        return place

    def typed_list(
        self, el: etree._Element, at: Keys, item: str, vocabulary: str
    ) -> list[dict[str, Any]]:
        self.homeless_attributes(el, at)
        entries: list[dict[str, Any]] = []
        for child in _children(el):
            if _local(child) != item:
                self.homeless_element(child, at)
                continue
            entry: dict[str, Any] = {}
            kind = child.get("type")
            if kind:
                entry["type"] = bare(kind, vocabulary)
            self.homeless_attributes(
                child, (*at, len(entries)), allowed=("type",), standard=frozenset({item})
            )
            entry[item] = self.plain_text(child)
            entries.append(entry)
        return entries

    def quantity_list(self, el: etree._Element) -> list[dict[str, Any]]:
        self.strict_attributes(el)
        elements = []
        for child in _children(el):
            if _local(child) != "quantityElement":
                raise self.fail(child, "is not a <quantityElement>")
            self.strict_attributes(child)
            elements.append(self.quantity_element(child))
        return elements

    def quantity_element(self, el: etree._Element) -> dict[str, Any]:
        element: dict[str, Any] = {}
        for child in _children(el):
            name = _local(child)
            if name not in ("epcClass", "quantity", "uom"):
                raise self.fail(child, "is not a field of a quantityElement")
            if name in element:
                raise self.fail(child, "appears twice in one quantityElement")
            if name == "quantity" and child.get(_NIL) in ("true", "1"):
                # nillable in the 1.2 XSD: a quantity not stated, as EPCIS 2.0 omits it
                self.strict_attributes(child, allowed=(_NIL,))
                if _children(child) or (child.text or "").strip():
                    raise self.fail(child, "is xsi:nil but not empty")
                continue
            allowed = (_NIL,) if name == "quantity" else ()
            text = self.text(child, None, allowed)
            element[name] = self.number(child, text, _DECIMAL) if name == "quantity" else text
        return element

    def number(self, el: etree._Element, text: str, form: re.Pattern[str]) -> int | float:
        if not form.fullmatch(text):
            raise self.fail(el, f"{text!r} is not a number")
        number = Decimal(text)
        return int(number) if number == number.to_integral_value() else float(number)

    def ilmd(self, el: etree._Element, _: Keys) -> dict[str, Any]:
        ilmd: dict[str, Any] = {}
        self.attributes(el, ilmd, frozenset())
        for child in _children(el):
            self.extra(child, ilmd, frozenset(), "ILMD")
        return ilmd

    def error_declaration(self, el: etree._Element, at: Keys) -> dict[str, Any]:
        out: dict[str, Any] = {}
        standard = object_field_names("errorDeclaration")
        self.attributes(el, out, standard)
        for child in _children(el):
            name = _local(child)
            if name is None or name not in standard:
                self.extra(child, out, standard, "errorDeclaration")
                continue
            if name in out:
                raise self.fail(child, "appears twice in one errorDeclaration")
            if name == "correctiveEventIDs":
                out[name] = self.corrective_ids(child, (*at, name))
            else:
                text = self.text(child, (*at, name))
                out[name] = bare(text, "er") if name == "reason" else text
        return out

    def corrective_ids(self, el: etree._Element, at: Keys) -> list[str]:
        self.homeless_attributes(el, at)
        ids: list[str] = []
        for child in _children(el):
            if _local(child) == "correctiveEventID":
                ids.append(self.text(child, (*at, len(ids))))
            else:
                self.homeless_element(child, at)
        return ids

    def persistent_disposition(self, el: etree._Element, at: Keys) -> dict[str, list[str | None]]:
        self.homeless_attributes(el, at, standard=frozenset({"set", "unset"}))
        out: dict[str, list[str | None]] = {}
        for child in _children(el):
            name = _local(child)
            if name is not None and name in ("set", "unset"):
                values = out.setdefault(name, [])
                values.append(bare(self.text(child, (*at, name, len(values))), "disp"))
            else:
                self.homeless_element(child, at)
        return out

    def sensor_element_list(self, el: etree._Element, at: Keys) -> list[dict[str, Any]]:
        self.homeless_attributes(el, at)
        elements: list[dict[str, Any]] = []
        for child in _children(el):
            if _local(child) == "sensorElement":
                elements.append(self.sensor_element(child))
            else:
                self.homeless_element(child, at)
        return elements

    def sensor_element(self, el: etree._Element) -> dict[str, Any]:
        element: dict[str, Any] = {}
        standard = object_field_names("sensorElement")
        self.attributes(el, element, standard)
        for child in _children(el):
            name = _local(child)
            if name in _SENSOR_METADATA_TAGS:
                if "sensorMetadata" in element:
                    raise self.fail(child, "appears twice in one sensorElement")
                element["sensorMetadata"] = self.sensor_fields(child, SENSOR_METADATA)
            elif name == "sensorReport":
                report = self.sensor_fields(child, SENSOR_REPORT)
                element.setdefault("sensorReport", []).append(report)
            else:
                self.extra(child, element, standard, "sensorElement")
        return element

    def sensor_fields(self, el: etree._Element, fields: tuple[str, ...]) -> dict[str, Any]:
        """The attributes of a sensorMetadata or sensorReport (its ``fields``), typed as in
        EPCIS 2.0, and its extension content."""
        known = frozenset(fields)
        out: dict[str, Any] = {}
        for name, value in el.attrib.items():
            self.check_xsi(el, name)
            key = self.attribute_key(el, name)
            if key in known:
                out[key] = self.sensor_value(el, key, value.strip())
            else:
                add_property(out, key, value)
        for child in _children(el):
            self.extra(child, out, known, etree.QName(el).localname)
        return out

    def sensor_value(self, el: etree._Element, name: str, text: str) -> Any:
        if name in SENSOR_NUMBERS:
            return self.number(el, text, _DOUBLE)
        if name == "booleanValue":
            if text not in _BOOLEANS:
                raise self.fail(el, f"booleanValue {text!r} is not a boolean")
            return _BOOLEANS[text]
        if name in SENSOR_TERMS:
            definition, prefixes = SENSOR_TERMS[name]
            for prefix in prefixes:
                term = text[len(prefix) :]
                if text.startswith(prefix) and term in _bare_terms(definition):
                    return term
        return text

    def events(self, event_list: etree._Element, out: list[dict[str, Any]]) -> None:
        """Append the events of ``event_list`` (or of one of its wrappers) to ``out``, the
        document's event list."""
        self.document_attributes(event_list, None)
        for el in _children(event_list):
            name = _local(el)
            if name == "extension":
                self.events(el, out)
                continue
            if name == "QuantityEvent":
                raise self.fail(el, "QuantityEvent was withdrawn; send an ObjectEvent")
            if name not in EVENT_TYPES:
                raise self.fail(el, "is not an EPCIS event")
            event: dict[str, Any] = {"type": name}
            self.attributes(el, event, any_event_field())
            self.fields(el, event)
            self.keep_homeless(len(out), event)
            out.append(event)

    def keep_homeless(self, index: int, event: dict[str, Any]) -> None:
        """Turn the content of ``event`` (the document's ``index``-th) that EPCIS 2.0 has no
        place for into its warnings."""
        event_id = event.get("eventID")
        for keys, (values, message) in self.homeless_content.items():
            field = json_pointer(keys)
            self.warnings.append(
                ValidationWarning(
                    index=index,
                    event_id=event_id if isinstance(event_id, str) else None,
                    path=f"/epcisBody/eventList/{index}{field}",
                    field=field,
                    value=values[0] if len(values) == 1 else values,
                    kind="extension",
                    message=message,
                )
            )
        self.homeless_content = {}

    def vocabularies(self, vocabulary_list: etree._Element) -> list[dict[str, Any]]:
        out = []
        for vocabulary in vocabulary_list:
            elements = []
            for element in vocabulary.iterfind("VocabularyElementList/VocabularyElement"):
                entry: dict[str, Any] = {"id": element.get("id")}
                attributes = []
                for attribute in element.iterfind("attribute"):
                    item: dict[str, Any] = {"id": attribute.get("id")}
                    value = element_json(attribute, self.prefixes, skip=("id",))
                    if value not in ("", {}):
                        item["attribute"] = value
                    attributes.append(item)
                if attributes:
                    entry["attributes"] = attributes
                children = [(c.text or "").strip() for c in element.iterfind("children/id")]
                if children:
                    entry["children"] = children
                elements.append(entry)
            out.append({"type": vocabulary.get("type"), "vocabularyElementList": elements})
        return out

    def document_extra(self, el: etree._Element, target: dict[str, Any]) -> None:
        """Keep ``el``, a document-level child that is not a field, in ``target``: a
        namespaced element as ``prefix:name``, an ``extension`` wrapper flattened; an
        unqualified one is refused (no event to keep a warning beside)."""
        name = _local(el)
        if name is None:
            add_property(target, self.key(el), self.value(el))
        elif name == "extension":
            self.document_attributes(el, target)
            for child in _children(el):
                self.document_extra(child, target)
        else:
            raise self.fail(
                el,
                "is not an EPCIS field here; the document's own fields take namespaced"
                " extensions only",
            )

    def header(self, header: etree._Element, doc: dict[str, Any]) -> None:
        doc.update(sbdh_fields(header))
        epcis_header: dict[str, Any] = {}
        self.document_attributes(header, epcis_header)
        for child in _children(header):
            if etree.QName(child).namespace == SBDH_NS:
                continue
            if _local(child) != "extension":
                self.document_extra(child, epcis_header)
                continue
            self.document_attributes(child, epcis_header)
            for item in _children(child):
                if _local(item) != "EPCISMasterData":
                    self.document_extra(item, epcis_header)
                    continue
                vocabulary_list = item.find("VocabularyList")
                if vocabulary_list is not None:
                    vocabularies = self.vocabularies(vocabulary_list)
                    epcis_header["epcisMasterData"] = {"vocabularyList": vocabularies}
        if epcis_header:
            doc["epcisHeader"] = epcis_header

    def document(self, root: etree._Element, doc: dict[str, Any]) -> None:
        """Read the header, body and document-level extensions of ``root`` into ``doc``."""
        self.document_attributes(
            root, doc, allowed=("schemaVersion", "creationDate", *_SCHEMA_HINTS)
        )
        body: dict[str, Any] = {"eventList": []}
        for child in _children(root):
            name = _local(child)
            if name == "EPCISHeader":
                self.header(child, doc)
            elif name == "EPCISBody":
                self.document_attributes(child, body)
                for item in _children(child):
                    if _local(item) == "EventList":
                        self.events(item, body["eventList"])
                    else:
                        self.document_extra(item, body)
            else:
                self.document_extra(child, doc)
        doc["epcisBody"] = body


def translate_12_xml(xml: bytes) -> tuple[dict[str, Any], list[ValidationWarning]]:
    """Convert an EPCIS 1.2 XML document to an EPCIS 2.0 JSON-LD document, not yet
    validated, and the warnings of its XML content that EPCIS 2.0 has no place for (each
    the only copy of that content: pass them to validation, ``ValidDocument.validate``).

    CBV URNs become bare terms (``urn:epcglobal:cbv:bizstep:shipping`` -> ``shipping``),
    ``extension`` wrappers are flattened, ``baseExtension`` gives ``eventID`` and
    ``errorDeclaration``, namespaced elements become prefixed keys whose namespaces are
    added to ``@context``, an unqualified element or attribute that is no EPCIS field a
    key of its own name, the SBDH sender/receiver/instance identifier document fields and
    EPCISMasterData ``epcisHeader.epcisMasterData``. Raises :class:`InvalidEPCISError`
    (with line and column) on malformed XML, and (with the line) on what cannot be read
    without guessing (docs/epcis.md, "Errors and warnings").
    """
    root = parse_xml(xml)
    if root.tag != f"{{{EPCIS_NS}}}EPCISDocument":
        raise InvalidEPCISError(
            [f"line {root.sourceline}: root element <{root.tag}> is not an epcis:EPCISDocument"]
        )
    converter = _Converter()
    doc: dict[str, Any] = {
        "@context": [GS1_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": root.get("creationDate", ""),
    }
    converter.document(root, doc)
    if converter.prefixes.added:
        doc["@context"] = [GS1_CONTEXT, converter.prefixes.context()]
    return doc, converter.warnings


def convert_12_xml(xml: bytes) -> dict[str, Any]:
    """Convert an EPCIS 1.2 XML document to a valid EPCIS 2.0 JSON-LD document (see
    :func:`translate_12_xml`); raise :class:`InvalidEPCISError` if malformed or invalid.
    The document only: ``read_valid_document`` gives its warnings too."""
    doc, warnings = translate_12_xml(xml)
    return check_document(doc, warnings)


def _short(attribute_id: str) -> str:
    for prefix in (MDA_NS + "#", MDA_NS + ":"):
        if attribute_id.startswith(prefix):
            return attribute_id[len(prefix) :]
    return attribute_id


def master_data_of(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Return the master data of an EPCIS 2.0 document as products and locations."""
    result: dict[str, list[dict[str, Any]]] = {"products": [], "locations": [], "other": []}
    vocabularies = doc.get("epcisHeader", {}).get("epcisMasterData", {}).get("vocabularyList", [])
    for vocabulary in vocabularies:
        kind = vocabulary.get("type", "")
        for element in vocabulary.get("vocabularyElementList", []):
            attributes = {
                _short(a["id"]): a.get("attribute") for a in element.get("attributes", [])
            }
            entry: dict[str, Any] = {"id": element["id"], "attributes": attributes}
            epc = parse_epc_or_none(element["id"])
            if kind.endswith(":EPCClass"):
                if epc is not None:
                    entry["gtin"] = epc.gtin
                    if epc.lot is not None:
                        entry["lot"] = epc.lot
                code = str(attributes.get("additionalTradeItemIdentificationTypeCode", ""))
                if code.startswith("FDA_NDC"):
                    entry["ndc"] = attributes.get("additionalTradeItemIdentification")
                if "regulatedProductName" in attributes:
                    entry["name"] = attributes["regulatedProductName"]
                result["products"].append(entry)
            elif kind.endswith(":Location") or kind.endswith(":BusinessLocation"):
                if epc is not None and epc.gln is not None:
                    entry["gln"] = epc.gln
                if "name" in attributes:
                    entry["name"] = attributes["name"]
                result["locations"].append(entry)
            else:
                entry["type"] = kind
                result["other"].append(entry)
    return result


def master_data(xml: bytes) -> dict[str, list[dict[str, Any]]]:
    """Return products (name, NDC, GTIN...) and locations from a 1.2 document's master data."""
    return master_data_of(convert_12_xml(xml))
