"""Shared facts about the EPCIS 2.0 XML binding, and validation against GS1's XSD."""

from __future__ import annotations

from functools import cache
from importlib import resources

from lxml import etree

from ledger_client.epcis.errors import InvalidEPCISError

EPCIS_NS = "urn:epcglobal:epcis:xsd:2"
DOCUMENT_TAG = f"{{{EPCIS_NS}}}EPCISDocument"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
# GS1's XML Schema 1.0 form of the EPCIS 2.0 XSD (libxml2 has no xsd:dateTimeStamp).
_SCHEMA = "schema/xml2/EPCglobal-epcis-2_0_alt.xsd"

EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
TEXT_FIELDS = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "certificationInfo",
    "parentID",
    "action",
    "transformationID",
)
HEAD = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration",
        "certificationInfo")  # fmt: skip
_WHERE_WHY = ("bizStep", "disposition", "readPoint", "bizLocation")
_TAIL = ("sourceList", "destinationList", "sensorElementList", "persistentDisposition")
# Standard fields of each event type after HEAD, in XSD order.
ORDER: dict[str, tuple[str, ...]] = {
    "ObjectEvent": ("epcList", "action", *_WHERE_WHY, "bizTransactionList", "quantityList",
                    *_TAIL, "ilmd"),
    "AggregationEvent": ("parentID", "childEPCs", "action", *_WHERE_WHY, "bizTransactionList",
                         "childQuantityList", *_TAIL),
    "TransactionEvent": ("bizTransactionList", "parentID", "epcList", "action", *_WHERE_WHY,
                         "quantityList", *_TAIL),
    "TransformationEvent": ("inputEPCList", "inputQuantityList", "outputEPCList",
                            "outputQuantityList", "transformationID", *_WHERE_WHY,
                            "bizTransactionList", *_TAIL, "ilmd"),
    "AssociationEvent": ("parentID", "childEPCs", "childQuantityList", "action", *_WHERE_WHY,
                         "bizTransactionList", *_TAIL),
}  # fmt: skip
# Lists the XSD requires even when empty.
REQUIRED_LISTS = {
    "ObjectEvent": ("epcList",),
    "AggregationEvent": ("childEPCs",),
    "TransactionEvent": ("epcList",),
}
# sensorReport attributes whose JSON value is a number or a boolean.
SENSOR_NUMBERS = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")
SENSOR_BOOLEANS = ("booleanValue",)
# sensorReport attributes holding vocabulary terms: bare in JSON, a CURIE in XML (as GS1's
# examples write them, with xmlns:gs1 and xmlns:cbv declared on the document).
SENSOR_TERMS = {"type": "gs1:", "exception": "gs1:", "component": "cbv:Comp-"}
VOCABULARY_NS = {"gs1": "https://gs1.org/voc/", "cbv": "https://ref.gs1.org/cbv/"}
# Prefixes GS1's EPCIS 2.0 JSON-LD context defines (beside cbvmda), with their namespace.
CONTEXT_NAMESPACES = {
    **VOCABULARY_NS,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "dcterms": "http://purl.org/dc/terms/",
}


@cache
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    with resources.as_file(resources.files("ledger_client.epcis").joinpath(_SCHEMA)) as path:
        return etree.XMLSchema(etree.parse(str(path), parser))


def schema_problems(root: etree._Element) -> list[str]:
    """Return what GS1's EPCIS 2.0 XSD finds wrong with a document, as ``line N: message``."""
    schema = _schema()
    if schema.validate(root):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def check_schema(root: etree._Element) -> None:
    """Raise :class:`InvalidEPCISError` if ``root`` is not valid against the EPCIS 2.0 XSD."""
    problems = schema_problems(root)
    if problems:
        raise InvalidEPCISError(problems)
