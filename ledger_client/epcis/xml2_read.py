"""Read EPCIS 2.0 XML documents as the EPCIS 2.0 JSON-LD documents RxLedger handles.

The XML is checked against GS1's EPCIS 2.0 XSD first; the JSON-LD it becomes is the form
GS1's JSON examples use, so an event read from XML has the event hash of the same event
sent as JSON-LD. See docs/epcis.md ("EPCIS 2.0 XML").
"""

from __future__ import annotations

import math
from typing import Any

from lxml import etree

from ledger_client.epcis._cbv import bare
from ledger_client.epcis._xml2 import (
    CONTEXT_NAMESPACES,
    DOCUMENT_TAG,
    EPC_LISTS,
    EPCIS_NS,
    ORDER,
    QUANTITY_LISTS,
    SENSOR_BOOLEANS,
    SENSOR_NUMBERS,
    SENSOR_TERMS,
    TEXT_FIELDS,
    XSD_NS,
    XSI_NS,
    check_schema,
)
from ledger_client.epcis._xml12 import (
    PREDEFINED,
    RESERVED_PREFIXES,
    SBDH_NS,
    parse_xml,
    sbdh_fields,
)
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.hashing import GS1_CONTEXT
from ledger_client.epcis.validation import check_document

__all__ = ["convert_20_xml", "translate_20_xml", "is_20_xml", "from_20_root"]

_KNOWN = {**CONTEXT_NAMESPACES, **PREDEFINED}  # prefixes the GS1 context already defines
_BINDING = {EPCIS_NS, SBDH_NS, XSI_NS, XSD_NS}  # namespaces of the XML binding itself

_XSI_TYPE = f"{{{XSI_NS}}}type"
_XSI_NIL = f"{{{XSI_NS}}}nil"
_INTEGERS = {"integer", "int", "long", "short", "byte", "nonNegativeInteger",
             "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedLong",
             "unsignedInt", "unsignedShort", "unsignedByte"}  # fmt: skip
_REALS = {"decimal", "double", "float"}


def _text(el: etree._Element) -> str:
    return (el.text or "").strip()


def _children(el: etree._Element) -> list[etree._Element]:
    return [child for child in el if isinstance(child.tag, str)]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _number(text: str, where: str) -> int | float:
    try:
        number = float(text)
    except ValueError as exc:
        raise InvalidEPCISError([f"{where}: {text!r} is not a number"]) from exc
    if not math.isfinite(number):
        raise InvalidEPCISError([f"{where}: {text!r} is not a finite number"])
    return int(number) if number.is_integer() and "e" not in text.lower() else number


def _boolean(text: str, where: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise InvalidEPCISError([f"{where}: {text!r} is not a boolean"])


class _Reader:
    def __init__(self) -> None:
        self.namespaces: dict[str, str] = {}  # prefix -> namespace, for @context

    @staticmethod
    def where(el: etree._Element) -> str:
        return f"line {el.sourceline}: <{_local(el)}>"

    def prefix(self, ns: str, declared: str | None) -> str:
        """The @context prefix of namespace ``ns`` (declared in the XML as ``declared``)."""
        for prefix, known in (*_KNOWN.items(), *self.namespaces.items()):
            if ns == known:
                return prefix
        base = declared or "ext"
        prefix, n = base, 1
        while prefix in RESERVED_PREFIXES or prefix in self.namespaces:
            n += 1
            prefix = f"{base}{n}"
        self.namespaces[prefix] = ns
        return prefix

    def declare(self, nsmap: dict[str | None, str]) -> None:
        """Keep the document's namespace declarations: values such as ``example:Abc`` use
        them too."""
        for declared, ns in nsmap.items():
            if declared is not None and ns not in _BINDING:
                self.prefix(ns, declared)

    def key(self, name: str, el: etree._Element) -> str:
        """The JSON-LD key of the element or attribute ``name`` (Clark notation) on ``el``."""
        qname = etree.QName(name)
        ns, local = qname.namespace, qname.localname
        if ns is None:
            return local
        declared = [p for p, n in el.nsmap.items() if n == ns and p]
        return f"{self.prefix(ns, declared[0] if declared else None)}:{local}"

    def typed(self, el: etree._Element, text: str) -> Any:
        """The JSON value of a leaf's text, typed by its ``xsi:type`` (xsd:integer, ...)."""
        if el.get(_XSI_NIL) in ("true", "1"):
            return None
        kind = el.get(_XSI_TYPE)
        if kind is None:
            return text
        prefix, _, local = kind.rpartition(":")
        if el.nsmap.get(prefix or None) != XSD_NS:
            return text
        if local in _INTEGERS or local in _REALS:
            return _number(text, self.where(el))
        if local == "boolean":
            return _boolean(text, self.where(el))
        return text

    def value(self, el: etree._Element, ignore: tuple[str, ...] = ()) -> Any:
        """The JSON value of an extension element: text, or an object of its attributes and
        children (repeated children become a list; ``#text`` holds text beside attributes)."""
        attributes = {
            self.key(name, el): value
            for name, value in el.attrib.items()
            if name not in (_XSI_TYPE, _XSI_NIL, *ignore)
        }
        children = _children(el)
        if not children and not attributes:
            return self.typed(el, _text(el))
        out: dict[str, Any] = dict(attributes)
        if not children and _text(el):
            out["#text"] = self.typed(el, _text(el))
        for child in children:
            key, value = self.key(child.tag, child), self.value(child)
            if key in out:
                out[key] = (out[key] if isinstance(out[key], list) else [out[key]]) + [value]
            else:
                out[key] = value
        return out

    def extension(self, el: etree._Element, target: dict[str, Any]) -> None:
        """Add a namespaced element to ``target`` (a repeated element becomes a list)."""
        key, value = self.key(el.tag, el), self.value(el)
        if key in target:
            previous = target[key]
            target[key] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            target[key] = value

    def quantity(self, el: etree._Element) -> dict[str, Any]:
        element: dict[str, Any] = {}
        for child in _children(el):
            name, text = _local(child), _text(child)
            if name != "quantity":
                element[name] = text
            elif child.get(_XSI_NIL) not in ("true", "1"):
                element[name] = _number(text, self.where(child))
        return element

    def typed_list(self, el: etree._Element, vocabulary: str, field: str) -> list[dict[str, Any]]:
        out = []
        for item in _children(el):
            entry: dict[str, Any] = {}
            kind = item.get("type")
            if kind is not None:
                entry["type"] = bare(kind, vocabulary)
            entry[field] = _text(item)
            out.append(entry)
        return out

    def place(self, el: etree._Element) -> dict[str, Any]:
        place: dict[str, Any] = {}
        for child in _children(el):
            if etree.QName(child).namespace is not None:
                self.extension(child, place)
            elif _local(child) == "extension":
                place.update(self.place(child))
            else:
                place[_local(child)] = _text(child)
        return place

    def attributes(self, el: etree._Element) -> dict[str, Any]:
        """sensorMetadata / sensorReport: attributes as JSON fields, numbers and booleans typed."""
        out: dict[str, Any] = {}
        for name, text in el.attrib.items():
            key = self.key(name, el)
            if key in SENSOR_NUMBERS:
                out[key] = _number(text, f"{self.where(el)} {key}")
            elif key in SENSOR_BOOLEANS:
                out[key] = _boolean(text, f"{self.where(el)} {key}")
            elif key in SENSOR_TERMS and text.startswith(SENSOR_TERMS[key]):
                out[key] = text[len(SENSOR_TERMS[key]) :]
            else:
                out[key] = text
        return out

    def sensor_elements(self, el: etree._Element) -> list[dict[str, Any]]:
        out = []
        for element in _children(el):
            if _local(element) == "extension":
                raise InvalidEPCISError(
                    [f"{self.where(element)} in sensorElementList has no EPCIS 2.0 JSON form"]
                )
            entry: dict[str, Any] = {}
            reports: list[dict[str, Any]] = []
            for child in _children(element):
                name = _local(child)
                if etree.QName(child).namespace is not None:
                    self.extension(child, entry)
                elif name == "sensorMetadata":
                    entry["sensorMetadata"] = self.attributes(child)
                elif name == "sensorReport":
                    reports.append(self.attributes(child))
                elif name == "extension":
                    for item in _children(child):
                        self.extension(item, entry)
            entry["sensorReport"] = reports
            out.append(entry)
        return out

    def persistent_disposition(self, el: etree._Element) -> dict[str, list[str | None]]:
        out: dict[str, list[str | None]] = {}
        for child in _children(el):
            out.setdefault(_local(child), []).append(bare(_text(child), "disp"))
        return out

    def ilmd(self, el: etree._Element) -> dict[str, Any]:
        ilmd: dict[str, Any] = {}
        for child in _children(el):
            if etree.QName(child).namespace is None:  # <extension>: future standard fields
                for item in _children(child):
                    self.extension(item, ilmd)
            else:
                self.extension(child, ilmd)
        return ilmd

    def error_declaration(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in _children(el):
            name = _local(child)
            if etree.QName(child).namespace is not None:
                self.extension(child, out)
            elif name == "declarationTime":
                out[name] = _text(child)
            elif name == "reason":
                out[name] = bare(_text(child), "er")
            elif name == "correctiveEventIDs":
                out[name] = [_text(c) for c in _children(child)]
            elif name == "extension":
                out.update(self.error_declaration(child))
        return out

    def fields(self, el: etree._Element, event: dict[str, Any]) -> None:
        for child in _children(el):
            name, text = _local(child), _text(child)
            if etree.QName(child).namespace is not None:
                self.extension(child, event)
            elif name in TEXT_FIELDS:
                event[name] = text
            elif name == "bizStep":
                event[name] = bare(text, "bizstep")
            elif name == "disposition":
                event[name] = bare(text, "disp")
            elif name in EPC_LISTS:
                event[name] = [_text(epc) for epc in _children(child)]
            elif name in QUANTITY_LISTS:
                event[name] = [self.quantity(q) for q in _children(child)]
            elif name in ("readPoint", "bizLocation"):
                event[name] = self.place(child)
            elif name == "bizTransactionList":
                event[name] = self.typed_list(child, "btt", "bizTransaction")
            elif name in ("sourceList", "destinationList"):
                event[name] = self.typed_list(child, "sdt", name[: -len("List")])
            elif name == "sensorElementList":
                event[name] = self.sensor_elements(child)
            elif name == "persistentDisposition":
                event[name] = self.persistent_disposition(child)
            elif name == "ilmd":
                event[name] = self.ilmd(child)
            elif name == "errorDeclaration":
                event[name] = self.error_declaration(child)
            elif name in ("baseExtension", "extension"):
                self.fields(child, event)
            else:
                raise InvalidEPCISError([f"{self.where(child)} is not an EPCIS 2.0 event field"])

    def events(self, event_list: etree._Element) -> list[dict[str, Any]]:
        out = []
        for el in _children(event_list):
            name = _local(el)
            if name == "extension":
                out.extend(self.events(el))
                continue
            if name not in ORDER:
                raise InvalidEPCISError([f"{self.where(el)} is not an EPCIS 2.0 event"])
            event: dict[str, Any] = {"type": name}
            self.fields(el, event)
            out.append(event)
        return out

    def vocabularies(self, vocabulary_list: etree._Element) -> list[dict[str, Any]]:
        out = []
        for vocabulary in _children(vocabulary_list):
            elements = []
            for element in vocabulary.iterfind("VocabularyElementList/VocabularyElement"):
                entry: dict[str, Any] = {"id": element.get("id")}
                attributes = []
                for attribute in element.iterfind("attribute"):
                    item: dict[str, Any] = {"id": attribute.get("id")}
                    value = self.value(attribute, ignore=("id",))
                    if value not in ("", {}):
                        item["attribute"] = value
                    attributes.append(item)
                if attributes:
                    entry["attributes"] = attributes
                children = [_text(c) for c in element.iterfind("children/id")]
                if children:
                    entry["children"] = children
                elements.append(entry)
            out.append({"type": vocabulary.get("type"), "vocabularyElementList": elements})
        return out

    def header(self, header: etree._Element, doc: dict[str, Any]) -> None:
        doc.update(sbdh_fields(header))
        vocabulary_list = header.find("extension/EPCISMasterData/VocabularyList")
        if vocabulary_list is not None:
            vocabularies = self.vocabularies(vocabulary_list)
            doc["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabularies}}


def is_20_xml(root: etree._Element) -> bool:
    """Whether a parsed XML root is an EPCIS 2.0 ``epcis:EPCISDocument``."""
    return root.tag == DOCUMENT_TAG


def from_20_root(root: etree._Element) -> dict[str, Any]:
    """Check a parsed EPCIS 2.0 XML document against the XSD and return it as JSON-LD."""
    if not is_20_xml(root):
        raise InvalidEPCISError(
            [f"line {root.sourceline}: root element <{root.tag}> is not an {DOCUMENT_TAG}"]
        )
    check_schema(root)
    reader = _Reader()
    reader.declare(root.nsmap)
    doc: dict[str, Any] = {
        "@context": [GS1_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": root.get("schemaVersion", ""),
        "creationDate": root.get("creationDate", ""),
    }
    if root.get("id") is not None:
        doc["id"] = root.get("id")
    body = None
    for child in _children(root):
        name = _local(child)
        if etree.QName(child).namespace is not None:
            reader.extension(child, doc)
        elif name == "EPCISHeader":
            reader.header(child, doc)
        elif name == "EPCISBody":
            body = child
        elif name == "extension":
            for item in _children(child):
                reader.extension(item, doc)
    event_list = body.find("EventList") if body is not None else None
    doc["epcisBody"] = {"eventList": reader.events(event_list) if event_list is not None else []}
    if reader.namespaces:
        doc["@context"] = [GS1_CONTEXT, dict(sorted(reader.namespaces.items()))]
    return doc


def translate_20_xml(xml: bytes) -> dict[str, Any]:
    """Convert an EPCIS 2.0 XML document to an EPCIS 2.0 JSON-LD document, not yet validated
    against the JSON schema (:func:`convert_20_xml` does both).

    Raises :class:`InvalidEPCISError` (with line numbers) on malformed XML or a document GS1's
    EPCIS 2.0 XSD refuses. CBV URNs become bare terms, namespaced elements ``prefix:name``
    keys with their namespace in ``@context``, ``xsi:type``-typed values JSON numbers and
    booleans, the SBDH sender, receiver and instance identifier document fields.
    """
    return from_20_root(parse_xml(xml))


def convert_20_xml(xml: bytes) -> dict[str, Any]:
    """Convert an EPCIS 2.0 XML document to a valid EPCIS 2.0 JSON-LD document (see
    :func:`translate_20_xml`); raise :class:`InvalidEPCISError` if it is invalid either way."""
    return check_document(translate_20_xml(xml))
