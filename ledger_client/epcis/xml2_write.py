"""Write EPCIS 2.0 JSON-LD documents as EPCIS 2.0 XML, valid against GS1's XSD.

The inverse of :mod:`ledger_client.epcis.xml2_read`: reading the XML back gives the same
events, so the same event hashes. See docs/epcis.md ("EPCIS 2.0 XML").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from ledger_client.epcis._cbv import urn_form
from ledger_client.epcis._xml2 import (
    EPC_LISTS,
    EPCIS_NS,
    HEAD,
    ORDER,
    QUANTITY_LISTS,
    REQUIRED_LISTS,
    SENSOR_TERMS,
    VOCABULARY_NS,
    XSD_NS,
    XSI_NS,
    schema_problems,
)
from ledger_client.epcis._xml12 import PREDEFINED, SBDH_NS
from ledger_client.epcis._xml_elements import error_declaration, typed_list
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.validation import check_document, iter_events

__all__ = ["to_epcis_20_xml"]

_STANDARD = {"type", "@context", *HEAD} | {name for names in ORDER.values() for name in names}
_DOCUMENT_FIELDS = {"@context", "type", "id", "schemaVersion", "creationDate", "epcisBody",
                    "sender", "receiver", "instanceIdentifier", "epcisHeader"}  # fmt: skip


def _lexical(value: Any) -> str:
    """The XML text of a JSON scalar: booleans as true/false, numbers without exponent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def _xsd_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "xsd:boolean"
    if isinstance(value, int):
        return "xsd:integer"
    if isinstance(value, float):
        return "xsd:double"
    return None


class _Writer:
    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = namespaces

    def qname(self, key: str, where: str) -> str:
        prefix, _, local = key.partition(":")
        ns = self.namespaces.get(prefix)
        if not local or ns is None:
            raise InvalidEPCISError([f"{where}: {key!r} has no namespace in @context"])
        return f"{{{ns}}}{local}"

    @staticmethod
    def text(parent: etree._Element, name: str, value: Any) -> etree._Element:
        el = etree.SubElement(parent, name)
        el.text = _lexical(value)
        return el

    def scalar(self, el: etree._Element, value: Any) -> None:
        if value is None:
            el.set(f"{{{XSI_NS}}}nil", "true")
            return
        kind = _xsd_type(value)
        if kind is not None:
            el.set(f"{{{XSI_NS}}}type", kind)
        el.text = _lexical(value)

    def extension(self, parent: etree._Element, key: str, value: Any, where: str) -> None:
        """Write ``key: value`` as namespaced elements (a list repeats the element)."""
        for item in value if isinstance(value, list) else [value]:
            el = etree.SubElement(parent, self.qname(key, where))
            if not isinstance(item, dict):
                self.scalar(el, item)
                continue
            for child_key, child in item.items():
                if child_key == "#text":
                    self.scalar(el, child)
                elif ":" not in child_key and not isinstance(child, dict | list):
                    el.set(child_key, _lexical(child))  # an attribute of the element
                else:
                    self.extension(el, child_key, child, where)

    def attribute(self, el: etree._Element, key: str, value: Any, where: str) -> None:
        if isinstance(value, dict | list):
            raise InvalidEPCISError([f"{where}/{key}: an object has no XML attribute form"])
        name = self.qname(key, where) if ":" in key else key
        el.set(name, _lexical(value))

    def sensor_elements(self, parent: etree._Element, value: list[Any], where: str) -> None:
        listing = etree.SubElement(parent, "sensorElementList")
        for i, element in enumerate(value):
            at = f"{where}/sensorElementList/{i}"
            el = etree.SubElement(listing, "sensorElement")
            if "sensorMetadata" in element:
                metadata = etree.SubElement(el, "sensorMetadata")
                for key, item in element["sensorMetadata"].items():
                    self.attribute(metadata, key, item, f"{at}/sensorMetadata")
            for j, report in enumerate(element.get("sensorReport", [])):
                report_el = etree.SubElement(el, "sensorReport")
                for key, item in report.items():
                    if key in SENSOR_TERMS and isinstance(item, str) and ":" not in item:
                        item = SENSOR_TERMS[key] + item
                    self.attribute(report_el, key, item, f"{at}/sensorReport/{j}")
            for key, item in element.items():
                if key not in ("sensorMetadata", "sensorReport"):
                    self.extension(el, key, item, at)

    def place(self, parent: etree._Element, name: str, value: dict[str, Any], where: str) -> None:
        el = etree.SubElement(parent, name)
        self.text(el, "id", value["id"])
        for key, item in value.items():
            if key != "id":
                self.extension(el, key, item, f"{where}/{name}")

    def field(self, el: etree._Element, name: str, value: Any, where: str) -> None:
        if name in EPC_LISTS:
            listing = etree.SubElement(el, name)
            for epc in value:
                self.text(listing, "epc", epc)
        elif name in QUANTITY_LISTS:
            listing = etree.SubElement(el, name)
            for element in value:
                q = etree.SubElement(listing, "quantityElement")
                for key in ("epcClass", "quantity", "uom"):
                    if key in element:
                        self.text(q, key, element[key])
        elif name == "bizStep":
            self.text(el, name, urn_form(value, "bizstep"))
        elif name == "disposition":
            self.text(el, name, urn_form(value, "disp"))
        elif name == "persistentDisposition":
            persistent = etree.SubElement(el, name)
            for key in ("unset", "set"):
                for disposition in value.get(key, []):
                    self.text(persistent, key, urn_form(disposition, "disp"))
        elif name in ("readPoint", "bizLocation"):
            self.place(el, name, value, where)
        elif name == "bizTransactionList":
            typed_list(el, name, "bizTransaction", "btt", value)
        elif name in ("sourceList", "destinationList"):
            typed_list(el, name, name[: -len("List")], "sdt", value)
        elif name == "sensorElementList":
            self.sensor_elements(el, value, where)
        elif name == "ilmd":
            ilmd = etree.SubElement(el, name)
            for key, item in value.items():
                self.extension(ilmd, key, item, f"{where}/ilmd")
        elif name == "errorDeclaration":
            at = f"{where}/errorDeclaration"
            error_declaration(el, value, lambda p, k, v: self.extension(p, k, v, at))
        elif name == "certificationInfo" and isinstance(value, list):
            if len(value) != 1:
                raise InvalidEPCISError(
                    [f"{where}/certificationInfo: EPCIS 2.0 XML holds one, not {len(value)}"]
                )
            self.text(el, name, value[0])
        else:
            self.text(el, name, value)

    def event(self, parent: etree._Element, event: dict[str, Any], where: str) -> None:
        kind = event["type"]
        el = etree.SubElement(parent, kind)
        for name in (*HEAD, *ORDER[kind]):
            if name in event:
                self.field(el, name, event[name], where)
            elif name in REQUIRED_LISTS.get(kind, ()):
                etree.SubElement(el, name)
        for key, value in event.items():
            if key not in _STANDARD:
                self.extension(el, key, value, where)

    def vocabularies(self, parent: etree._Element, vocabularies: list[dict[str, Any]]) -> None:
        extension = etree.SubElement(parent, "extension")
        listing = etree.SubElement(etree.SubElement(extension, "EPCISMasterData"), "VocabularyList")
        for vocabulary in vocabularies:
            voc = etree.SubElement(listing, "Vocabulary", type=vocabulary["type"])
            elements = vocabulary.get("vocabularyElementList", [])
            if not elements:
                continue
            element_list = etree.SubElement(voc, "VocabularyElementList")
            for element in elements:
                ve = etree.SubElement(element_list, "VocabularyElement", id=element["id"])
                for attribute in element.get("attributes", []):
                    at = etree.SubElement(ve, "attribute", id=attribute["id"])
                    value = attribute.get("attribute")
                    if isinstance(value, dict):
                        for key, item in value.items():
                            if key == "#text":
                                at.text = _lexical(item)
                            else:
                                self.extension(at, key, item, "/epcisHeader")
                    elif value is not None:
                        at.text = _lexical(value)
                if element.get("children"):
                    children = etree.SubElement(ve, "children")
                    for child in element["children"]:
                        self.text(children, "id", child)

    def header(self, root: etree._Element, doc: dict[str, Any]) -> None:
        header_data = doc.get("epcisHeader", {})
        extra = [key for key in header_data if key != "epcisMasterData"]
        if extra:
            raise InvalidEPCISError(
                [f"/epcisHeader/{extra[0]}: EPCIS 2.0 XML has no place for header extensions"]
            )
        parties = [key for key in ("sender", "receiver") if key in doc]
        vocabularies = header_data.get("epcisMasterData", {}).get("vocabularyList")
        if not parties and not vocabularies:
            return
        header = etree.SubElement(root, "EPCISHeader")
        if parties:
            if len(parties) == 1:
                missing = "receiver" if parties == ["sender"] else "sender"
                raise InvalidEPCISError(
                    [f"/: a document with a {parties[0]} needs a {missing} in EPCIS 2.0 XML "
                     "(the SBDH requires both)"]
                )  # fmt: skip
            self.sbdh(header, doc)
        if vocabularies:
            self.vocabularies(header, vocabularies)

    def sbdh(self, header: etree._Element, doc: dict[str, Any]) -> None:
        sbdh = etree.SubElement(header, f"{{{SBDH_NS}}}StandardBusinessDocumentHeader")
        self.text(sbdh, f"{{{SBDH_NS}}}HeaderVersion", "1.0")
        for key, tag in (("sender", "Sender"), ("receiver", "Receiver")):
            party = etree.SubElement(sbdh, f"{{{SBDH_NS}}}{tag}")
            self.text(party, f"{{{SBDH_NS}}}Identifier", doc[key])
        ident = etree.SubElement(sbdh, f"{{{SBDH_NS}}}DocumentIdentification")
        self.text(ident, f"{{{SBDH_NS}}}Standard", "EPCglobal")
        self.text(ident, f"{{{SBDH_NS}}}TypeVersion", "2.0")
        self.text(ident, f"{{{SBDH_NS}}}InstanceIdentifier", doc.get("instanceIdentifier", ""))
        self.text(ident, f"{{{SBDH_NS}}}Type", "Events")
        self.text(ident, f"{{{SBDH_NS}}}CreationDateAndTime", doc["creationDate"])


def _namespaces(doc: dict[str, Any]) -> dict[str, str]:
    found = dict(PREDEFINED)
    context = doc.get("@context", [])
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict):
            found.update({k: v for k, v in item.items() if isinstance(v, str)})
    return found


def to_epcis_20_xml(doc: dict[str, Any], *, validate: bool = True) -> bytes:
    """Return an EPCIS 2.0 JSON-LD document as EPCIS 2.0 XML (UTF-8 bytes).

    Its events (of an ``EPCISDocument``, an ``EPCISQueryDocument`` or one bare event) go
    into an ``epcis:EPCISDocument`` in XSD element order: CBV terms as URNs, extension
    fields as elements in their namespace, numbers and booleans with ``xsi:type``, sender
    and receiver in an SBDH, master data in ``EPCISHeader/extension/EPCISMasterData``. The
    result is checked against GS1's XSD. Raises :class:`InvalidEPCISError` if ``doc`` is
    invalid or holds what the XML binding cannot (two ``certificationInfo`` values, header
    extensions, a sender without receiver). ``validate=False`` skips the JSON schema check
    of ``doc`` (the XSD check of the result stays).
    """
    if validate:
        check_document(doc)
    namespaces = _namespaces(doc)
    writer = _Writer(namespaces)
    nsmap: dict[str | None, str] = {"epcis": EPCIS_NS, "sbdh": SBDH_NS, "xsi": XSI_NS,
                                    "xsd": XSD_NS}  # fmt: skip
    declared = (*VOCABULARY_NS.items(), *namespaces.items())
    nsmap.update({p: ns for p, ns in declared if p not in nsmap})
    try:
        root = _build(doc, writer, nsmap)
    except InvalidEPCISError:
        raise
    except ValueError as exc:  # a name or text XML cannot hold (lxml says which)
        raise InvalidEPCISError([f"/: cannot be written as XML: {exc}"]) from exc
    problems = schema_problems(root)
    if problems:
        raise InvalidEPCISError(
            [f"cannot be written as valid EPCIS 2.0 XML: {p}" for p in problems]
        )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _build(doc: dict[str, Any], writer: _Writer, nsmap: dict[str | None, str]) -> etree._Element:
    root = etree.Element(f"{{{EPCIS_NS}}}EPCISDocument", nsmap=nsmap)
    root.set("schemaVersion", "2.0")
    if doc.get("type") == "EPCISDocument" and "id" in doc:
        root.set("id", doc["id"])
    created = doc.get("creationDate") or datetime.now(UTC).isoformat(timespec="milliseconds")
    root.set("creationDate", created)
    writer.header(root, {**doc, "creationDate": created})
    event_list = etree.SubElement(etree.SubElement(root, "EPCISBody"), "EventList")
    for where, event in iter_events(doc):
        writer.event(event_list, event, where or "/")
    if doc.get("type") == "EPCISDocument":
        for key, value in doc.items():
            if key not in _DOCUMENT_FIELDS:
                writer.extension(root, key, value, "/")
    return root
