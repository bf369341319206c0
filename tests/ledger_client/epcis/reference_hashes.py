"""Event hashes of XML documents as GS1's generator computes them from the XML itself:
what a partner hashing its original file gets, independent of RxLedger's JSON-LD path."""

from __future__ import annotations

import hashlib

from epcis_event_hash_generator import hash_generator, xml_to_py
from lxml import etree

# Stands for an omitted business transaction type: the generator cannot read an entry
# without one. It sorts before every real type, as an entry without a type does.
_NO_TYPE = "!"


def xml_event_hashes(xml: bytes) -> list[str]:
    """The ``ni:///sha-256`` hash of each event of an EPCIS 1.2 or 2.0 XML document.

    A business transaction without a type (allowed by both XSDs) makes the generator fail;
    its pre-hash is the generator's pre-hash of the entry with a stand-in type, with that
    ``type=`` term removed: CBV leaves an omitted field out of the pre-hash.
    """
    root = etree.fromstring(xml)
    for element in root.iter("bizTransaction"):
        if element.get("type") is None:
            element.set("type", _NO_TYPE)
    events = xml_to_py.event_list_from_epcis_document_str(etree.tostring(root).decode())
    prehashes = hash_generator.derive_prehashes_from_events(events)
    assert events[2] and len(prehashes) == len(events[2]), "the generator skipped events"
    return [
        "ni:///sha-256;"
        + hashlib.sha256(pre.replace(f"type={_NO_TYPE}", "").encode()).hexdigest()
        + "?ver=CBV2.0"
        for pre in prehashes
    ]
