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
from ledger_client.epcis._schema import any_event_field
from ledger_client.epcis._xml12 import (
    EPC_LISTS,
    EPCIS_NS,
    EPCIS_VOCAB,
    EVENT_TYPES,
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
    def __init__(self) -> None:
        self.prefixes = Prefixes(PREDEFINED, RESERVED_PREFIXES)
        self.fields_of: dict[str, Callable[[etree._Element], Any]] = {
            **dict.fromkeys(SIMPLE, self.text),
            "bizStep": lambda el: bare(self.text(el), "bizstep"),
            "disposition": lambda el: bare(self.text(el), "disp"),
            **dict.fromkeys(EPC_LISTS, self.epc_list),
            **dict.fromkeys(QUANTITY_LISTS, self.quantity_list),
            "readPoint": self.place,
            "bizLocation": self.place,
            "bizTransactionList": lambda el: self.typed_list(el, "bizTransaction", "btt"),
            "sourceList": lambda el: self.typed_list(el, "source", "sdt"),
            "destinationList": lambda el: self.typed_list(el, "destination", "sdt"),
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

    def value(self, el: etree._Element) -> Any:
        return element_json(el, self.prefixes)

    def attributes(
        self, el: etree._Element, target: dict[str, Any] | None, allowed: tuple[str, ...] = ()
    ) -> None:
        """Put the namespaced attributes of the standard element ``el`` into ``target``;
        refuse any other attribute, or any at all where EPCIS 2.0 has no object to hold it
        (``target`` None), rather than drop it."""
        for name, value in el.attrib.items():
            if name in allowed:
                continue
            qname = etree.QName(name)
            if qname.namespace == XSI_NS:
                what = "is not nillable" if name == _NIL else f"cannot have xsi:{qname.localname}"
                raise self.fail(el, f"{what} in the EPCIS 1.2 XSD")
            if qname.namespace is None or target is None:
                raise self.fail(el, f"attribute {qname.localname!r} has no place in EPCIS 2.0")
            add_property(target, self.prefixes.key(name, attribute_prefix(el, name)), value)

    def text(self, el: etree._Element, allowed: tuple[str, ...] = ()) -> str:
        """The text of a standard element that holds only text, stripped."""
        self.attributes(el, None, allowed)
        if _children(el):
            raise self.fail(el, "holds elements; EPCIS expects text here")
        return (el.text or "").strip()

    def extra(self, el: etree._Element, target: dict[str, Any], wrapped: bool) -> None:
        """Keep ``el``, a child that is not a standard field of its parent, in ``target``:
        a namespaced element as ``prefix:name``; an ``extension`` wrapper flattened; an
        unqualified element inside a wrapper (EPCIS's reserved slot) under
        ``EPCIS_VOCAB + name``; anything else is refused."""
        name = _local(el)
        if name is None:
            add_property(target, self.key(el), self.value(el))
        elif name == "extension":
            self.attributes(el, target)
            for child in _children(el):
                self.extra(child, target, wrapped=True)
        elif wrapped:
            add_property(target, EPCIS_VOCAB + name, self.value(el))
        else:
            raise self.fail(el, "is not an EPCIS field here")

    def fields(self, el: etree._Element, event: dict[str, Any], wrapped: bool) -> None:
        """Read the fields of an event from ``el`` (the event or one of its wrappers)."""
        for child in _children(el):
            name = _local(child)
            if name in ("extension", "baseExtension"):
                self.attributes(child, event)
                self.fields(child, event, wrapped=True)
            elif name == "certificationInfo":
                add_property(event, name, self.text(child))
            elif name in self.fields_of:
                if name in event:
                    raise self.fail(child, "appears twice in one event")
                event[name] = self.fields_of[name](child)
            else:
                self.extra(child, event, wrapped)

    def epc_list(self, el: etree._Element) -> list[str]:
        self.attributes(el, None)
        epcs = []
        for child in _children(el):
            if _local(child) != "epc":
                raise self.fail(child, "is not an <epc>")
            epcs.append(self.text(child))
        return epcs

    def place(self, el: etree._Element) -> dict[str, Any]:
        place: dict[str, Any] = {}
        self.attributes(el, place)
        for child in _children(el):
            if _local(child) == "id":
                place["id"] = self.text(child)
            else:
                self.extra(child, place, wrapped=False)
        return place

    def typed_list(self, el: etree._Element, item: str, vocabulary: str) -> list[dict[str, Any]]:
        self.attributes(el, None)
        entries = []
        for child in _children(el):
            if _local(child) != item:
                raise self.fail(child, f"is not a <{item}>")
            entry: dict[str, Any] = {}
            kind = child.get("type")
            if kind:
                entry["type"] = bare(kind, vocabulary)
            entry[item] = self.text(child, allowed=("type",))
            entries.append(entry)
        return entries

    def quantity_list(self, el: etree._Element) -> list[dict[str, Any]]:
        self.attributes(el, None)
        elements = []
        for child in _children(el):
            if _local(child) != "quantityElement":
                raise self.fail(child, "is not a <quantityElement>")
            self.attributes(child, None)
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
                self.attributes(child, None, allowed=(_NIL,))
                if _children(child) or (child.text or "").strip():
                    raise self.fail(child, "is xsi:nil but not empty")
                continue
            allowed = (_NIL,) if name == "quantity" else ()
            text = self.text(child, allowed)
            element[name] = self.number(child, text, _DECIMAL) if name == "quantity" else text
        return element

    def number(self, el: etree._Element, text: str, form: re.Pattern[str]) -> int | float:
        if not form.fullmatch(text):
            raise self.fail(el, f"{text!r} is not a number")
        number = Decimal(text)
        return int(number) if number == number.to_integral_value() else float(number)

    def ilmd(self, el: etree._Element) -> dict[str, Any]:
        ilmd: dict[str, Any] = {}
        self.attributes(el, ilmd)
        for child in _children(el):
            self.extra(child, ilmd, wrapped=False)
        return ilmd

    def error_declaration(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.attributes(el, out)
        for child in _children(el):
            name = _local(child)
            if name == "declarationTime":
                out[name] = self.text(child)
            elif name == "reason":
                out[name] = bare(self.text(child), "er")
            elif name == "correctiveEventIDs":
                self.attributes(child, None)
                out[name] = [self.text(c) for c in _children(child)]
            else:
                self.extra(child, out, wrapped=False)
        return out

    def persistent_disposition(self, el: etree._Element) -> dict[str, list[str | None]]:
        self.attributes(el, None)
        out: dict[str, list[str | None]] = {}
        for child in _children(el):
            name = _local(child)
            if name not in ("set", "unset"):
                raise self.fail(child, "is not a field of a persistentDisposition")
            out.setdefault(name, []).append(bare(self.text(child), "disp"))
        return out

    def sensor_element_list(self, el: etree._Element) -> list[dict[str, Any]]:
        self.attributes(el, None)
        elements = []
        for child in _children(el):
            if _local(child) != "sensorElement":
                raise self.fail(child, "is not a <sensorElement>")
            elements.append(self.sensor_element(child))
        return elements

    def sensor_element(self, el: etree._Element) -> dict[str, Any]:
        element: dict[str, Any] = {}
        self.attributes(el, element)
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
                self.extra(child, element, wrapped=False)
        return element

    def sensor_fields(self, el: etree._Element, known: tuple[str, ...]) -> dict[str, Any]:
        """The attributes of a sensorMetadata or sensorReport, typed as in EPCIS 2.0."""
        out: dict[str, Any] = {}
        for name, value in el.attrib.items():
            qname = etree.QName(name)
            if qname.namespace is None and qname.localname in known:
                out[qname.localname] = self.sensor_value(el, qname.localname, value.strip())
            elif qname.namespace not in (None, XSI_NS):
                add_property(out, self.prefixes.key(name, attribute_prefix(el, name)), value)
            else:
                raise self.fail(el, f"attribute {qname.localname!r} is not a sensor field")
        for child in _children(el):
            self.extra(child, out, wrapped=False)
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

    def events(self, event_list: etree._Element) -> list[dict[str, Any]]:
        self.attributes(event_list, None)
        out = []
        for el in _children(event_list):
            name = _local(el)
            if name == "extension":
                out.extend(self.events(el))
                continue
            if name == "QuantityEvent":
                raise self.fail(el, "QuantityEvent was withdrawn; send an ObjectEvent")
            if name not in EVENT_TYPES:
                raise self.fail(el, "is not an EPCIS event")
            event: dict[str, Any] = {"type": name}
            self.attributes(el, event)
            self.fields(el, event, wrapped=False)
            out.append(event)
        return out

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

    def header(self, header: etree._Element, doc: dict[str, Any]) -> None:
        sbdh = header.find(f"{{{SBDH_NS}}}StandardBusinessDocumentHeader")
        if sbdh is not None:
            for path, key in (
                ("sbdh:Sender/sbdh:Identifier", "sender"),
                ("sbdh:Receiver/sbdh:Identifier", "receiver"),
                ("sbdh:DocumentIdentification/sbdh:InstanceIdentifier", "instanceIdentifier"),
            ):
                found = sbdh.find(path, {"sbdh": SBDH_NS})
                if found is not None and found.text:
                    doc[key] = found.text.strip()
        epcis_header: dict[str, Any] = {}
        self.attributes(header, epcis_header)
        for child in _children(header):
            if etree.QName(child).namespace == SBDH_NS:
                continue
            if _local(child) != "extension":
                self.extra(child, epcis_header, wrapped=False)
                continue
            for item in _children(child):
                if _local(item) != "EPCISMasterData":
                    self.extra(item, epcis_header, wrapped=True)
                    continue
                vocabulary_list = item.find("VocabularyList")
                if vocabulary_list is not None:
                    vocabularies = self.vocabularies(vocabulary_list)
                    epcis_header["epcisMasterData"] = {"vocabularyList": vocabularies}
        if epcis_header:
            doc["epcisHeader"] = epcis_header

    def document(self, root: etree._Element, doc: dict[str, Any]) -> None:
        """Read the header, body and document-level extensions of ``root`` into ``doc``."""
        self.attributes(root, doc, allowed=("schemaVersion", "creationDate", *_SCHEMA_HINTS))
        body: dict[str, Any] = {"eventList": []}
        for child in _children(root):
            name = _local(child)
            if name == "EPCISHeader":
                self.header(child, doc)
            elif name == "EPCISBody":
                self.attributes(child, body)
                for item in _children(child):
                    if _local(item) == "EventList":
                        body["eventList"].extend(self.events(item))
                    else:
                        self.extra(item, body, wrapped=False)
            else:
                self.extra(child, doc, wrapped=False)
        doc["epcisBody"] = body


def translate_12_xml(xml: bytes) -> dict[str, Any]:
    """Convert an EPCIS 1.2 XML document to an EPCIS 2.0 JSON-LD document, not yet validated.

    CBV URNs become bare terms (``urn:epcglobal:cbv:bizstep:shipping`` -> ``shipping``),
    ``extension`` wrappers are flattened, ``baseExtension`` gives ``eventID`` and
    ``errorDeclaration``, namespaced elements become prefixed keys whose namespaces are
    added to ``@context``, the SBDH sender/receiver/instance identifier become document
    fields and EPCISMasterData becomes ``epcisHeader.epcisMasterData``. Raises
    :class:`InvalidEPCISError` (with line and column) on malformed XML.
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
    return doc


def convert_12_xml(xml: bytes) -> dict[str, Any]:
    """Convert an EPCIS 1.2 XML document to a valid EPCIS 2.0 JSON-LD document (see
    :func:`translate_12_xml`); raise :class:`InvalidEPCISError` if malformed or invalid."""
    return check_document(translate_12_xml(xml))


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
