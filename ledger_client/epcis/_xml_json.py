"""EPCIS extension content between XML elements and EPCIS 2.0 JSON-LD values, both ways.

The rules, shared by the 1.2 XML import, the 1.2 XML export and any other XML binding:

- a namespaced element or attribute is a ``prefix:name`` key; its namespace goes to the
  document's ``@context`` (:class:`Prefixes`); an unqualified one is a bare ``name`` key;
- an element with neither attributes nor child elements is its text, stripped (``""`` if
  empty: an empty element still says something);
- otherwise it is an object: attributes and child elements are its properties, alike (as
  GS1's event hash reads XML: an attribute counts as a child field); a name met more than
  once becomes a list in document order; text beside them is kept under ``"#text"``
  (the key GS1's hash generator reads), the pieces of mixed content joined by a space.

Writing back, every property is written as a child element (an attribute comes back as an
element: the same field for EPCIS and for its event hash) and ``"#text"`` as the text.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ledger_client.epcis.errors import InvalidEPCISError

__all__ = [
    "TEXT",
    "XSI_NS",
    "Prefixes",
    "add_property",
    "attribute_prefix",
    "element_json",
    "json_element",
    "qualified_tag",
]

TEXT = "#text"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


class Prefixes:
    """The prefixes that name the XML namespaces of one document in JSON-LD keys.

    ``known`` maps prefixes to namespaces that need no ``@context`` entry (GS1's context
    defines them); ``reserved`` prefixes are never given to another namespace. A namespace
    keeps the prefix its document used unless that one is taken.
    """

    def __init__(self, known: dict[str, str], reserved: set[str]) -> None:
        self._known = {ns: prefix for prefix, ns in known.items()}
        self._reserved = reserved | set(known)
        self.added: dict[str, str] = {}  # prefix -> namespace, for @context
        self._prefix_of: dict[str, str] = {}

    def key(self, name: str, hint: str | None) -> str:
        """The JSON key of the XML name ``{ns}local`` (or ``local``), ``hint`` its prefix."""
        qname = etree.QName(name)
        if qname.namespace is None:
            return qname.localname
        return f"{self.prefix(qname.namespace, hint)}:{qname.localname}"

    def prefix(self, namespace: str, hint: str | None) -> str:
        """The prefix of ``namespace``, given one (``hint`` if free) on first use."""
        found = self._known.get(namespace) or self._prefix_of.get(namespace)
        if found is not None:
            return found
        base = hint or "ext"
        prefix, n = base, 1
        while prefix in self._reserved or prefix in self.added:
            n += 1
            prefix = f"{base}{n}"
        self.added[prefix] = namespace
        self._prefix_of[namespace] = prefix
        return prefix

    def context(self) -> dict[str, str]:
        """The ``@context`` entry declaring the namespaces given a prefix, sorted."""
        return dict(sorted(self.added.items()))


def add_property(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``target[key]``; a key met again becomes a list of its values, in order."""
    if key not in target:
        target[key] = value
    elif isinstance(target[key], list):
        target[key].append(value)
    else:
        target[key] = [target[key], value]


def attribute_prefix(el: etree._Element, name: str) -> str | None:
    """The prefix ``el``'s document used for the namespace of its attribute ``name``."""
    namespace = etree.QName(name).namespace
    for prefix, ns in el.nsmap.items():
        if ns == namespace and prefix is not None:
            return str(prefix)
    return None


def element_json(el: etree._Element, prefixes: Prefixes, skip: tuple[str, ...] = ()) -> Any:
    """The JSON-LD value of the extension element ``el`` (see the module rules).

    ``skip`` names attributes the caller has read already (``id`` of a master data
    attribute); they are left out.
    """
    props: dict[str, Any] = {}
    for name, value in el.attrib.items():
        if name not in skip:
            add_property(props, prefixes.key(name, attribute_prefix(el, name)), value)
    texts = [el.text.strip()] if el.text and el.text.strip() else []
    for child in el:
        if child.tail and child.tail.strip():
            texts.append(child.tail.strip())
        if isinstance(child.tag, str):
            key = prefixes.key(child.tag, child.prefix)
            add_property(props, key, element_json(child, prefixes))
    text = " ".join(texts)
    if not props:
        return text
    if text:
        props[TEXT] = text
    return props


def qualified_tag(key: str, namespaces: dict[str, str], where: str) -> str:
    """The lxml tag (``{ns}local``, or ``local`` for a bare key) of a JSON-LD key."""
    prefix, colon, local = key.partition(":")
    if not colon:
        return key
    ns = namespaces.get(prefix)
    if not local or ns is None:
        raise InvalidEPCISError([f"{where}: field {key!r} has no namespace in @context"])
    return f"{{{ns}}}{local}"


def json_element(
    parent: etree._Element, key: str, value: Any, namespaces: dict[str, str], where: str
) -> None:
    """Append to ``parent`` the element(s) of the JSON-LD property ``key: value``.

    A list gives one element per item (a list in a list is flattened: XML has no nesting
    of repeats); ``None`` an empty element with ``xsi:nil="true"``.
    """
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, list):
            json_element(parent, key, item, namespaces, where)
            continue
        el = etree.SubElement(parent, qualified_tag(key, namespaces, where))
        if isinstance(item, dict):
            for child_key, child_value in item.items():
                if child_key == TEXT:
                    el.text = str(child_value)
                else:
                    json_element(el, child_key, child_value, namespaces, where)
        elif item is None:
            el.set(f"{{{XSI_NS}}}nil", "true")
        elif isinstance(item, bool):
            el.text = "true" if item else "false"
        else:
            el.text = str(item)
