"""Import EPCIS 1.2 XML (DSCSA style) as EPCIS 2.0 JSON-LD, following GS1's 1.2 to 2.0 mapping."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ledger_client.epcis._cbv import bare
from ledger_client.epcis._schema import any_event_field
from ledger_client.epcis._xml12 import (
    EPC_LISTS,
    EPCIS_NS,
    MDA_NS,
    PREDEFINED,
    QUANTITY_LISTS,
    RESERVED_PREFIXES,
    SBDH_NS,
    SIMPLE,
    parse_xml,
)
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.hashing import GS1_CONTEXT
from ledger_client.epcis.validation import check_document
from ledger_client.gs1.epc import parse_epc_or_none

__all__ = ["convert_12_xml", "translate_12_xml", "master_data", "master_data_of"]

_EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent")


def _text(el: etree._Element) -> str:
    """The text of ``el``, stripped ("" for none)."""
    return (el.text or "").strip()


class _Converter:
    def __init__(self) -> None:
        self.namespaces: dict[str, str] = {}  # prefix -> namespace, for @context

    def where(self, el: etree._Element) -> str:
        return f"line {el.sourceline}: <{etree.QName(el).localname}>"

    def key(self, el: etree._Element) -> str:
        qname = etree.QName(el)
        ns = qname.namespace
        if ns is None:
            return qname.localname
        for prefix, known in PREDEFINED.items():
            if ns == known:
                return f"{prefix}:{qname.localname}"
        for prefix, known in self.namespaces.items():
            if ns == known:
                return f"{prefix}:{qname.localname}"
        prefix = el.prefix or "ext"
        base, n = prefix, 1
        while prefix in RESERVED_PREFIXES or prefix in self.namespaces:
            n += 1
            prefix = f"{base}{n}"
        self.namespaces[prefix] = ns
        return f"{prefix}:{qname.localname}"

    def value(self, el: etree._Element) -> Any:
        children = [c for c in el if isinstance(c.tag, str)]
        if not children:
            return _text(el)
        out: dict[str, Any] = {}
        for child in children:
            key, value = self.key(child), self.value(child)
            if key in out:
                out[key] = (out[key] if isinstance(out[key], list) else [out[key]]) + [value]
            else:
                out[key] = value
        return out

    def quantity(self, el: etree._Element) -> dict[str, Any]:
        element: dict[str, Any] = {}
        for child in el:
            name, text = etree.QName(child).localname, _text(child)
            element[name] = self.number(child, text) if name == "quantity" else text
        return element

    def number(self, el: etree._Element, text: str) -> int | float:
        try:
            number = float(text)
        except ValueError as exc:
            raise InvalidEPCISError([f"{self.where(el)} {text!r} is not a number"]) from exc
        return int(number) if number.is_integer() else number

    def error_declaration(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in el:
            name = etree.QName(child)
            if name.namespace is not None:
                out[self.key(child)] = self.value(child)
            elif name.localname == "declarationTime":
                out["declarationTime"] = _text(child)
            elif name.localname == "reason":
                out["reason"] = bare(_text(child), "er")
            elif name.localname == "correctiveEventIDs":
                out["correctiveEventIDs"] = [_text(c) for c in child]
            elif name.localname == "extension":
                out.update(self.error_declaration(child))
        return out

    def fields(self, el: etree._Element, event: dict[str, Any]) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            name, text = qname.localname, _text(child)
            if qname.namespace is not None:
                event[self.key(child)] = self.value(child)
            elif name in SIMPLE:
                event[name] = text
            elif name == "bizStep":
                event[name] = bare(text, "bizstep")
            elif name == "disposition":
                event[name] = bare(text, "disp")
            elif name in EPC_LISTS:
                event[name] = [_text(epc) for epc in child]
            elif name in ("readPoint", "bizLocation"):
                place: dict[str, Any] = {}
                self.fields(child, place)
                event[name] = place
            elif name == "id":
                event["id"] = text
            elif name == "bizTransactionList":
                event[name] = [self.typed(bt, "btt", "bizTransaction") for bt in child]
            elif name in ("sourceList", "destinationList"):
                field = name[: -len("List")]
                event[name] = [self.typed(sd, "sdt", field) for sd in child]
            elif name in QUANTITY_LISTS:
                event[name] = [self.quantity(q) for q in child]
            elif name == "ilmd":
                ilmd: dict[str, Any] = {}
                for item in child:
                    if etree.QName(item).localname == "extension":
                        ilmd.update(self.value(item) if len(item) else {})
                    else:
                        ilmd[self.key(item)] = self.value(item)
                event[name] = ilmd
            elif name == "baseExtension":
                for item in child:
                    local = etree.QName(item).localname
                    if local == "eventID":
                        event["eventID"] = _text(item)
                    elif local == "errorDeclaration":
                        event["errorDeclaration"] = self.error_declaration(item)
                    elif etree.QName(item).namespace is not None:
                        event[self.key(item)] = self.value(item)
            elif name == "extension":
                self.fields(child, event)
            elif name in any_event_field():
                raise InvalidEPCISError([f"{self.where(child)} is not an EPCIS 1.2 event field"])
            else:  # no namespace: a non-standard extension, kept as sent (validation warns)
                value = self.value(child)
                if name in event:
                    before = event[name]
                    value = [*(before if isinstance(before, list) else [before]), value]
                event[name] = value

    def typed(self, el: etree._Element, vocabulary: str, field: str) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        kind = el.get("type")
        if kind:
            entry["type"] = bare(kind, vocabulary)
        entry[field] = _text(el)
        return entry

    def events(self, event_list: etree._Element) -> list[dict[str, Any]]:
        out = []
        for el in event_list:
            if not isinstance(el.tag, str):
                continue
            name = etree.QName(el).localname
            if name == "extension":
                out.extend(self.events(el))
                continue
            if name == "QuantityEvent":
                raise InvalidEPCISError(
                    [f"{self.where(el)} QuantityEvent was withdrawn; send an ObjectEvent"]
                )
            if name not in _EVENT_TYPES:
                raise InvalidEPCISError([f"{self.where(el)} is not an EPCIS 1.2 event"])
            event: dict[str, Any] = {"type": name}
            self.fields(el, event)
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
                    value = self.value(attribute)
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
        vocabulary_list = header.find("extension/EPCISMasterData/VocabularyList")
        if vocabulary_list is not None:
            vocabularies = self.vocabularies(vocabulary_list)
            epcis_header["epcisMasterData"] = {"vocabularyList": vocabularies}
        for child in header:
            if isinstance(child.tag, str) and etree.QName(child).namespace not in (None, SBDH_NS):
                epcis_header[self.key(child)] = self.value(child)
        if epcis_header:
            doc["epcisHeader"] = epcis_header


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
    header = root.find("EPCISHeader")
    if header is not None:
        converter.header(header, doc)
    event_list = root.find("EPCISBody/EventList")
    events = converter.events(event_list) if event_list is not None else []
    doc["epcisBody"] = {"eventList": events}
    if converter.namespaces:
        doc["@context"] = [GS1_CONTEXT, dict(sorted(converter.namespaces.items()))]
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
