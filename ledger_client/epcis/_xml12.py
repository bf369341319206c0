"""Shared facts about the EPCIS 1.2 XML binding."""

from __future__ import annotations

import re

from lxml import etree

from ledger_client.epcis.errors import InvalidEPCISError

EPCIS_NS = "urn:epcglobal:epcis:xsd:1"
SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
MDA_NS = "urn:epcglobal:cbv:mda"
# Prefixes GS1's EPCIS 2.0 JSON-LD context already defines, with their XML namespace.
PREDEFINED = {
    "cbvmda": MDA_NS,
    "gs1": "https://gs1.org/voc/",
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
RESERVED_PREFIXES = {"epcis", "cbv", "gs1", "cbvmda", "xsd", "rdfs", "owl", "dcterms", "sbdh"}

EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
SIMPLE = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "action",
    "parentID",
    "transformationID",
    "eventID",
)
# Attributes of the EPCIS 2.0 sensor elements (1.2 documents carry them in extension points).
SENSOR_METADATA = (
    "time",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "startTime",
    "endTime",
    "dataProcessingMethod",
    "bizRules",
)
SENSOR_NUMBERS = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")
SENSOR_REPORT = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
    "time",
    "microorganism",
    "chemicalSubstance",
    "coordinateReferenceSystem",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "uom",
    *SENSOR_NUMBERS,
)
# Sensor vocabulary attributes: the JSON schema definition of their bare terms, and the
# prefixes XML spells them with.
SENSOR_TERMS = {
    "type": ("measurementType", ("gs1:", "https://gs1.org/voc/")),
    "exception": ("sensorAlertType", ("gs1:", "https://gs1.org/voc/")),
    "component": ("component", ("cbv:Comp-", "https://ref.gs1.org/cbv/Comp-")),
}


#: Where the document-level fields sit in an EPCIS header's SBDH (both XML bindings).
_SBDH_FIELDS = (
    ("sbdh:Sender/sbdh:Identifier", "sender"),
    ("sbdh:Receiver/sbdh:Identifier", "receiver"),
    ("sbdh:DocumentIdentification/sbdh:InstanceIdentifier", "instanceIdentifier"),
)


def sbdh_fields(header: etree._Element) -> dict[str, str]:
    """The sender, receiver and instance identifier an ``EPCISHeader``'s SBDH names (those
    present and not blank), text stripped."""
    sbdh = header.find(f"{{{SBDH_NS}}}StandardBusinessDocumentHeader")
    out: dict[str, str] = {}
    for path, key in _SBDH_FIELDS if sbdh is not None else ():
        found = sbdh.find(path, {"sbdh": SBDH_NS})
        if found is not None and (found.text or "").strip():
            out[key] = (found.text or "").strip()
    return out


def parse_xml(xml: bytes) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network; errors name line and column."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        message = re.sub(r", line \d+, column \d+$", "", exc.msg)
        raise InvalidEPCISError([f"line {line}, column {column}: {message}"]) from exc
    if _declares_anything(root.getroottree().docinfo):
        raise InvalidEPCISError(["line 1, column 1: a DOCTYPE is not allowed in EPCIS XML"])
    return root


def _declares_anything(docinfo: etree.DocInfo) -> bool:
    """Whether a DOCTYPE names an external DTD or declares entities, elements or attributes
    (a bare ``<!DOCTYPE name>``, as some of GS1's examples carry, declares nothing)."""
    dtd = docinfo.internalDTD
    if docinfo.public_id or docinfo.system_url:
        return True
    return dtd is not None and any(True for _ in (*dtd.iterentities(), *dtd.iterelements()))
