"""Export EPCIS 2.0 JSON-LD documents as EPCIS 1.2 XML for partners that still need it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from ledger_client.epcis._cbv import urn_form
from ledger_client.epcis._xml12 import EPCIS_NS, PREDEFINED, SBDH_NS
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.validation import check_document, iter_events

__all__ = ["to_epcis_12_xml"]

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_ONLY_2_0 = ("sensorElementList", "persistentDisposition", "certificationInfo")
_HEAD = ("eventTime", "recordTime", "eventTimeZoneOffset")
# Standard fields per event type, in XSD order; "+" marks fields inside <extension>.
_ORDER: dict[str, tuple[str, ...]] = {
    "ObjectEvent": (
        "epcList", "action", "bizStep", "disposition", "readPoint", "bizLocation",
        "bizTransactionList", "+quantityList", "+sourceList", "+destinationList", "+ilmd",
    ),
    "AggregationEvent": (
        "parentID", "childEPCs", "action", "bizStep", "disposition", "readPoint",
        "bizLocation", "bizTransactionList", "+childQuantityList", "+sourceList",
        "+destinationList",
    ),
    "TransactionEvent": (
        "bizTransactionList", "parentID", "epcList", "action", "bizStep", "disposition",
        "readPoint", "bizLocation", "+quantityList", "+sourceList", "+destinationList",
    ),
    "TransformationEvent": (
        "inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
        "transformationID", "bizStep", "disposition", "readPoint", "bizLocation",
        "bizTransactionList", "sourceList", "destinationList", "ilmd",
    ),
}  # fmt: skip
_STANDARD = {"type", "eventID", "errorDeclaration", "@context", *_HEAD} | {
    name.lstrip("+") for names in _ORDER.values() for name in names
}


class _Writer:
    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = namespaces

    def tag(self, key: str) -> str:
        prefix, _, local = key.partition(":")
        if not local and _XML_NAME.fullmatch(key):
            return key  # a non-standard extension without namespace, written as received
        ns = self.namespaces.get(prefix)
        if not local or ns is None:
            raise InvalidEPCISError([f"extension field {key!r} has no namespace in @context"])
        return f"{{{ns}}}{local}"

    def extension(self, parent: etree._Element, key: str, value: Any) -> None:
        for item in value if isinstance(value, list) else [value]:
            el = etree.SubElement(parent, self.tag(key))
            if isinstance(item, dict):
                for child_key, child_value in item.items():
                    self.extension(el, child_key, child_value)
            elif isinstance(item, bool):
                el.text = "true" if item else "false"
            else:
                el.text = str(item)

    def field(self, parent: etree._Element, name: str, value: Any) -> None:
        writers: dict[str, Callable[[etree._Element, Any], None]] = {
            "bizStep": lambda p, v: self.text(p, name, urn_form(v, "bizstep")),
            "disposition": lambda p, v: self.text(p, name, urn_form(v, "disp")),
            "ilmd": self.ilmd,
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
        elif name in ("readPoint", "bizLocation"):
            el = etree.SubElement(parent, name)
            self.text(el, "id", value["id"])
            for key, extra in value.items():
                if key != "id":
                    self.extension(el, key, extra)
        elif name == "bizTransactionList":
            self.typed_list(parent, name, "bizTransaction", "btt", value)
        elif name in ("sourceList", "destinationList"):
            self.typed_list(parent, name, name[: -len("List")], "sdt", value)
        else:
            self.text(parent, name, str(value))

    def typed_list(
        self, parent: etree._Element, name: str, item: str, vocabulary: str, value: Any
    ) -> None:
        el = etree.SubElement(parent, name)
        for entry in value:
            child = self.text(el, item, entry[item])
            if "type" in entry:
                child.set("type", urn_form(entry["type"], vocabulary))

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
        only_2_0 = [name for name in _ONLY_2_0 if name in event]
        if only_2_0:
            raise InvalidEPCISError(
                [f"{where}: {', '.join(only_2_0)} cannot be expressed in EPCIS 1.2"]
            )
        if kind == "TransformationEvent":
            parent = etree.SubElement(parent, "extension")
        el = etree.SubElement(parent, kind)
        for name in _HEAD:
            if name in event:
                self.field(el, name, event[name])
        if "eventID" in event or "errorDeclaration" in event:
            base = etree.SubElement(el, "baseExtension")
            if "eventID" in event:
                self.text(base, "eventID", event["eventID"])
            if "errorDeclaration" in event:
                self.error_declaration(base, event["errorDeclaration"])
        extension = None
        for name in _ORDER[kind]:
            key = name.lstrip("+")
            if key not in event:
                continue
            if name.startswith("+"):
                if extension is None:
                    extension = etree.SubElement(el, "extension")
                self.field(extension, key, event[key])
            else:
                self.field(el, key, event[key])
        for key, value in event.items():
            if key not in _STANDARD:
                self.extension(el, key, value)

    def error_declaration(self, parent: etree._Element, value: dict[str, Any]) -> None:
        el = etree.SubElement(parent, "errorDeclaration")
        self.text(el, "declarationTime", value["declarationTime"])
        if "reason" in value:
            self.text(el, "reason", urn_form(value["reason"], "er"))
        if "correctiveEventIDs" in value:
            ids = etree.SubElement(el, "correctiveEventIDs")
            for event_id in value["correctiveEventIDs"]:
                self.text(ids, "correctiveEventID", event_id)
        for key, item in value.items():
            if key not in ("declarationTime", "reason", "correctiveEventIDs"):
                self.extension(el, key, item)

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
                        if isinstance(value, dict):
                            for key, item in value.items():
                                self.extension(at, key, item)
                        elif value is not None:
                            at.text = str(value)
                    if element.get("children"):
                        children = etree.SubElement(ve, "children")
                        for child in element["children"]:
                            self.text(children, "id", child)
        for key, value in header_data.items():
            if key != "epcisMasterData":
                self.extension(header, key, value)


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
    ``baseExtension``, extension fields become elements in their namespace, master data
    into ``EPCISHeader/extension/EPCISMasterData``. AssociationEvents, sensor data,
    persistent dispositions and certification info have no 1.2 form: they raise
    :class:`InvalidEPCISError`.
    """
    check_document(doc2)
    namespaces = _namespaces(doc2)
    writer = _Writer(namespaces)
    nsmap = {"epcis": EPCIS_NS, "sbdh": SBDH_NS}
    nsmap.update({p: ns for p, ns in namespaces.items() if p not in nsmap})
    root = etree.Element(f"{{{EPCIS_NS}}}EPCISDocument", nsmap=nsmap)  # type: ignore[arg-type]
    root.set("schemaVersion", "1.2")
    root.set("creationDate", doc2["creationDate"])
    writer.header(root, doc2)
    event_list = etree.SubElement(etree.SubElement(root, "EPCISBody"), "EventList")
    for where, event in iter_events(doc2):
        writer.event(event_list, event, where or "/")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
