"""Export EPCIS 2.0 JSON-LD documents as EPCIS 1.2 XML for partners that still need it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from ledger_client.epcis._cbv import urn_form
from ledger_client.epcis._xml12 import (
    EPCIS_NS,
    PREDEFINED,
    SBDH_NS,
    SENSOR_METADATA,
    SENSOR_REPORT,
    SENSOR_TERMS,
)
from ledger_client.epcis._xml_elements import error_declaration, typed_list
from ledger_client.epcis._xml_json import XSI_NS, json_element
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.validation import check_document, iter_events

__all__ = ["to_epcis_12_xml"]

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_HEAD = ("eventTime", "recordTime", "eventTimeZoneOffset")
# Standard fields per event type, in XSD order; each "+" is one <extension> wrapper: EPCIS
# 2.0 fields go into the 1.2 extension points, as GS1's 2.0 to 1.2 stylesheet puts them.
_ORDER: dict[str, tuple[str, ...]] = {
    "ObjectEvent": (
        "epcList", "action", "bizStep", "disposition", "readPoint", "bizLocation",
        "bizTransactionList", "+quantityList", "+sourceList", "+destinationList", "+ilmd",
        "++sensorElementList", "++persistentDisposition",
    ),
    "AggregationEvent": (
        "parentID", "childEPCs", "action", "bizStep", "disposition", "readPoint",
        "bizLocation", "bizTransactionList", "+childQuantityList", "+sourceList",
        "+destinationList", "++sensorElementList",
    ),
    "TransactionEvent": (
        "bizTransactionList", "parentID", "epcList", "action", "bizStep", "disposition",
        "readPoint", "bizLocation", "+quantityList", "+sourceList", "+destinationList",
        "++sensorElementList",
    ),
    "TransformationEvent": (
        "inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
        "transformationID", "bizStep", "disposition", "readPoint", "bizLocation",
        "bizTransactionList", "sourceList", "destinationList", "ilmd", "+sensorElementList",
        "+persistentDisposition",
    ),
    "AssociationEvent": (
        "parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition",
        "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
        "sensorElementList",
    ),
}  # fmt: skip
# Document fields written by the header and body; any other is an extension field.
_DOCUMENT_FIELDS = {
    "@context", "id", "type", "schemaVersion", "creationDate", "instanceIdentifier", "sender",
    "receiver", "epcisHeader", "epcisBody",
}  # fmt: skip
# How deep in <extension> wrappers an event keeps unqualified fields that 1.2 does not
# define (the XSD's ##local slot); and how deep the event sits in its EventList.
_LOCAL_SLOT = {"ObjectEvent": 2, "AggregationEvent": 2, "TransactionEvent": 2}
_EVENT_DEPTH = {"TransformationEvent": 1, "AssociationEvent": 2}
_STANDARD = {"type", "eventID", "errorDeclaration", "certificationInfo", "@context", *_HEAD} | {
    name.lstrip("+") for names in _ORDER.values() for name in names
}


class _Writer:
    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = namespaces

    def extension(self, parent: etree._Element, key: str, value: Any) -> None:
        """Write the extension field ``key`` of ``parent``'s object: ``prefix:name`` (its
        namespace in @context) as an element of ``parent``; a bare name (a non-standard
        field) as an unqualified element in ``parent``'s ``<extension>``, where 1.2 allows
        one and the import reads it back."""
        if _is_bare(key):
            json_element(_local_slot(parent), key, value, {}, "extension")
            return
        prefix, colon, local = key.partition(":")
        if not colon or not local or prefix not in self.namespaces:
            raise InvalidEPCISError([f"extension field {key!r} has no namespace in @context"])
        json_element(parent, key, value, self.namespaces, "extension")

    def field(self, parent: etree._Element, name: str, value: Any) -> None:
        writers: dict[str, Callable[[etree._Element, Any], None]] = {
            "bizStep": lambda p, v: self.text(p, name, urn_form(v, "bizstep")),
            "disposition": lambda p, v: self.text(p, name, urn_form(v, "disp")),
            "ilmd": self.ilmd,
            "sensorElementList": self.sensor_elements,
            "persistentDisposition": self.persistent_disposition,
        }
        if name in writers:
            writers[name](parent, value)
        elif name.endswith("EPCList") or name in ("epcList", "childEPCs"):
            el = etree.SubElement(parent, name)
            for epc in value:
                self.text(el, "epc", epc)
        elif name.endswith("uantityList"):
            el = etree.SubElement(parent, name)
            for element in value:
                q = etree.SubElement(el, "quantityElement")
                for key in ("epcClass", "quantity", "uom"):
                    if key in element:
                        self.text(q, key, str(element[key]))
        elif name == "certificationInfo":
            for uri in value if isinstance(value, list) else [value]:
                self.text(parent, name, uri)
        elif name in ("readPoint", "bizLocation"):
            el = etree.SubElement(parent, name)
            self.text(el, "id", value["id"])
            for key, extra in value.items():
                if key != "id":
                    self.extension(el, key, extra)
        elif name == "bizTransactionList":
            typed_list(parent, name, "bizTransaction", "btt", value)
        elif name in ("sourceList", "destinationList"):
            typed_list(parent, name, name[: -len("List")], "sdt", value)
        else:
            self.text(parent, name, str(value))

    def persistent_disposition(self, parent: etree._Element, value: dict[str, Any]) -> None:
        el = etree.SubElement(parent, "persistentDisposition")
        for key in ("set", "unset"):
            for term in value.get(key, []):
                self.text(el, key, urn_form(term, "disp"))

    def sensor_elements(self, parent: etree._Element, value: list[dict[str, Any]]) -> None:
        el = etree.SubElement(parent, "sensorElementList")
        for element in value:
            sensor = etree.SubElement(el, "sensorElement")
            if "sensorMetadata" in element:
                self.sensor_fields(sensor, "sensorMetadata", element["sensorMetadata"])
            for report in element.get("sensorReport", []):
                self.sensor_fields(sensor, "sensorReport", report)
            for key, item in element.items():
                if key not in ("sensorMetadata", "sensorReport"):
                    self.extension(sensor, key, item)

    def sensor_fields(self, parent: etree._Element, tag: str, fields: dict[str, Any]) -> None:
        """Standard sensor fields are attributes (typed values in XML form), as in 2.0 XML;
        extension fields with a plain value too, others child elements."""
        el = etree.SubElement(parent, tag)
        known = SENSOR_METADATA if tag == "sensorMetadata" else SENSOR_REPORT
        for key, value in fields.items():
            if key in known or (isinstance(value, (str, int, float)) and _is_bare(key)):
                el.set(key, self.sensor_text(key, value))
            elif isinstance(value, (str, int, float)) and ":" in key:
                el.set(_writer_tag(key, self.namespaces), self.sensor_text(key, value))
            else:
                self.extension(el, key, value)

    @staticmethod
    def sensor_text(key: str, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if key in ("type", "exception") and ":" not in str(value) and "/" not in str(value):
            return SENSOR_TERMS[key][1][0] + str(value)
        return str(value)

    def ilmd(self, parent: etree._Element, value: dict[str, Any]) -> None:
        el = etree.SubElement(parent, "ilmd")
        for key, item in value.items():
            self.extension(el, key, item)

    @staticmethod
    def text(parent: etree._Element, name: str, value: str) -> etree._Element:
        el = etree.SubElement(parent, name)
        el.text = value
        return el

    def event(self, parent: etree._Element, event: dict[str, Any], where: str) -> None:
        kind = event["type"]
        if kind not in _ORDER:
            raise InvalidEPCISError([f"{where}: {kind} cannot be expressed in EPCIS 1.2"])
        for _ in range(_EVENT_DEPTH.get(kind, 0)):
            parent = etree.SubElement(parent, "extension")
        el = etree.SubElement(parent, kind)
        for name in _HEAD:
            if name in event:
                self.field(el, name, event[name])
        if any(name in event for name in ("eventID", "errorDeclaration", "certificationInfo")):
            base = etree.SubElement(el, "baseExtension")
            if "eventID" in event:
                self.text(base, "eventID", event["eventID"])
            if "errorDeclaration" in event:
                error_declaration(base, event["errorDeclaration"], self.extension)
            if "certificationInfo" in event:
                extension = etree.SubElement(base, "extension")
                self.field(extension, "certificationInfo", event["certificationInfo"])
        wrappers: list[etree._Element] = []

        def wrapper(depth: int) -> etree._Element:
            while len(wrappers) < depth:
                wrappers.append(etree.SubElement(wrappers[-1] if wrappers else el, "extension"))
            return wrappers[depth - 1] if depth else el

        for name in _ORDER[kind]:
            key = name.lstrip("+")
            if key in event:
                self.field(wrapper(len(name) - len(key)), key, event[key])
        for key, value in event.items():
            if key not in _STANDARD and _is_bare(key):  # a non-standard field: the 1.2 slot
                json_element(wrapper(_LOCAL_SLOT.get(kind, 1)), key, value, {}, where)
        for key, value in event.items():
            if key not in _STANDARD and not _is_bare(key):
                self.extension(el, key, value)

    def header(self, root: etree._Element, doc: dict[str, Any]) -> None:
        header_data = doc.get("epcisHeader", {})
        if not header_data and not any(k in doc for k in ("sender", "receiver")):
            return
        header = etree.SubElement(root, "EPCISHeader")
        sbdh = etree.SubElement(header, f"{{{SBDH_NS}}}StandardBusinessDocumentHeader")
        self.text(sbdh, f"{{{SBDH_NS}}}HeaderVersion", "1.0")
        for key, tag in (("sender", "Sender"), ("receiver", "Receiver")):
            if key in doc:
                party = etree.SubElement(sbdh, f"{{{SBDH_NS}}}{tag}")
                self.text(party, f"{{{SBDH_NS}}}Identifier", doc[key])
        ident = etree.SubElement(sbdh, f"{{{SBDH_NS}}}DocumentIdentification")
        self.text(ident, f"{{{SBDH_NS}}}Standard", "EPCglobal")
        self.text(ident, f"{{{SBDH_NS}}}TypeVersion", "1.0")
        self.text(ident, f"{{{SBDH_NS}}}InstanceIdentifier", doc.get("instanceIdentifier", ""))
        self.text(ident, f"{{{SBDH_NS}}}Type", "Events")
        self.text(ident, f"{{{SBDH_NS}}}CreationDateAndTime", doc["creationDate"])
        vocabularies = header_data.get("epcisMasterData", {}).get("vocabularyList")
        if vocabularies:
            lst = etree.SubElement(etree.SubElement(etree.SubElement(header, "extension"),
                                   "EPCISMasterData"), "VocabularyList")  # fmt: skip
            for vocabulary in vocabularies:
                voc = etree.SubElement(lst, "Vocabulary", type=vocabulary["type"])
                elements = etree.SubElement(voc, "VocabularyElementList")
                for element in vocabulary.get("vocabularyElementList", []):
                    ve = etree.SubElement(elements, "VocabularyElement", id=element["id"])
                    for attribute in element.get("attributes", []):
                        at = etree.SubElement(ve, "attribute", id=attribute["id"])
                        value = attribute.get("attribute")
                        if isinstance(value, dict):  # content, written as it came
                            for key, item in value.items():
                                json_element(at, key, item, self.namespaces, "attribute")
                        elif value is not None:
                            at.text = str(value)
                    if element.get("children"):
                        children = etree.SubElement(ve, "children")
                        for child in element["children"]:
                            self.text(children, "id", child)
        for key, value in header_data.items():
            if key != "epcisMasterData":
                self.extension(header, key, value)


def _local_slot(parent: etree._Element) -> etree._Element:
    """The ``<extension>`` child of ``parent``, made after its EPCIS fields if missing."""
    for child in parent:
        if child.tag == "extension":
            return child
    slot = etree.Element("extension")
    parent.insert(sum(1 for child in parent if etree.QName(child).namespace is None), slot)
    return slot


def _is_bare(key: str) -> bool:
    """True for a key without namespace prefix that XML can name (a non-standard field)."""
    return _XML_NAME.fullmatch(key) is not None


def _writer_tag(key: str, namespaces: dict[str, str]) -> str:
    prefix, _, local = key.partition(":")
    if prefix not in namespaces:
        raise InvalidEPCISError([f"extension field {key!r} has no namespace in @context"])
    return f"{{{namespaces[prefix]}}}{local}"


def _namespaces(doc: dict[str, Any]) -> dict[str, str]:
    found = dict(PREDEFINED)
    context = doc.get("@context", [])
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict):
            found.update({k: v for k, v in item.items() if isinstance(v, str)})
    return found


def to_epcis_12_xml(doc2: dict[str, Any]) -> bytes:
    """Return an EPCIS 2.0 JSON-LD document as EPCIS 1.2 XML (UTF-8 bytes).

    CBV terms are written as EPCIS 1.2 URNs, ``eventID``/``errorDeclaration`` go into
    ``baseExtension``, extension fields become elements in their namespace (a field
    without namespace prefix an unqualified element in its element's ``extension`` slot),
    master data into ``EPCISHeader/extension/EPCISMasterData``. What EPCIS 1.2 does not
    define goes into its extension points as GS1's 2.0 to 1.2 stylesheet puts it:
    AssociationEvents in ``EventList/extension/extension``, sensor data and persistent
    dispositions in the event's ``extension/extension`` (a TransformationEvent's
    ``extension``), certification info in ``baseExtension/extension``.
    """
    check_document(doc2)
    namespaces = _namespaces(doc2)
    writer = _Writer(namespaces)
    nsmap = {"epcis": EPCIS_NS, "sbdh": SBDH_NS, "xsi": XSI_NS}
    nsmap.update({p: ns for p, ns in namespaces.items() if p not in nsmap})
    root = etree.Element(f"{{{EPCIS_NS}}}EPCISDocument", nsmap=nsmap)  # type: ignore[arg-type]
    root.set("schemaVersion", "1.2")
    root.set("creationDate", doc2["creationDate"])
    writer.header(root, doc2)
    body = etree.SubElement(root, "EPCISBody")
    event_list = etree.SubElement(body, "EventList")
    for where, event in iter_events(doc2):
        writer.event(event_list, event, where or "/")
    for key, value in doc2.get("epcisBody", {}).items():
        if key not in ("eventList", "queryResults"):
            writer.extension(body, key, value)
    for key, value in doc2.items():
        if key not in _DOCUMENT_FIELDS:
            writer.extension(root, key, value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
