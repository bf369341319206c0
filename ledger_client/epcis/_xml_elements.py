"""EPCIS elements that the 1.2 and the 2.0 XML bindings write alike (the same element names,
children and CBV URNs); each binding passes its own writer of extension content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from ledger_client.epcis._cbv import urn_form

#: Writes ``key: value`` of extension content under an element, in the binding's own form.
ExtensionWriter = Callable[[etree._Element, str, Any], None]

_ERROR_DECLARATION_FIELDS = ("declarationTime", "reason", "correctiveEventIDs")


def text_element(parent: etree._Element, name: str, value: str) -> etree._Element:
    """``<name>value</name>`` appended to ``parent``."""
    el = etree.SubElement(parent, name)
    el.text = value
    return el


def typed_list(
    parent: etree._Element, name: str, item: str, vocabulary: str, entries: list[dict[str, Any]]
) -> None:
    """A bizTransactionList, sourceList or destinationList: each entry's ``item`` as text,
    its ``type`` as a CBV URN attribute."""
    el = etree.SubElement(parent, name)
    for entry in entries:
        child = text_element(el, item, str(entry[item]))
        if "type" in entry:
            child.set("type", urn_form(entry["type"], vocabulary))


def error_declaration(
    parent: etree._Element, value: dict[str, Any], extension: ExtensionWriter
) -> None:
    """An ``<errorDeclaration>``: time, CBV reason, corrective event ids, then any other
    field as extension content."""
    el = etree.SubElement(parent, "errorDeclaration")
    text_element(el, "declarationTime", str(value["declarationTime"]))
    if "reason" in value:
        text_element(el, "reason", urn_form(value["reason"], "er"))
    if "correctiveEventIDs" in value:
        ids = etree.SubElement(el, "correctiveEventIDs")
        for event_id in value["correctiveEventIDs"]:
            text_element(ids, "correctiveEventID", str(event_id))
    for key, item in value.items():
        if key not in _ERROR_DECLARATION_FIELDS:
            extension(el, key, item)
