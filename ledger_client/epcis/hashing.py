"""EPCIS 2.0 event hash (CBV 2.0 section 8.9) for anchoring events on chain.

Delegates the canonicalisation to GS1's reference implementation,
``epcis-event-hash-generator``, and runs it offline: JSON-LD contexts are served from
the copies that package ships, any other remote context is refused. Before the generator
reads an event, four things it does not do for JSON-LD are done here, so that an event
gets one hash whatever its syntax (see docs/epcis.md, "Event hash and anchoring"):

- every spelling GS1 uses for the EPCIS 2.0 context is read as that context;
- the prefixes GS1's context defines (``cbvmda:``, ``gs1:``) name the XML namespaces
  EPCIS XML binds them to, as prefixes the document declares itself already do;
- each business transaction, source and destination is given type first, as in XML,
  and one without a type (optional for business transactions) an empty first member,
  which adds nothing to the pre-hash: CBV skips an omitted field;
- JSON ``true``, ``false`` and ``null`` are given as XML writes them (``true``,
  ``false``, empty), not as Python prints them (``True``, ``False``, ``None``).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from importlib import resources
from typing import Any

from epcis_event_hash_generator import hash_generator, json_to_py
from pyld import jsonld

from ledger_client.epcis._xml12 import PREDEFINED
from ledger_client.epcis.errors import InvalidEPCISError

__all__ = ["GS1_CONTEXT", "GS1_CONTEXTS", "event_hash", "event_hash_uri", "hash_uri_digest"]

GS1_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_CONTEXT_2_0_0 = "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"
_CONTEXT_FILES = {
    GS1_CONTEXT: _CONTEXT_2_0_0,
    # GS1's permanent, unversioned URL and the other spellings of the 2.0 context in use:
    # all are hashed with the 2.0.0 definitions, so the spelling never changes a hash.
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld": _CONTEXT_2_0_0,
    "https://ref.gs1.org/standards/epcis/2.0/epcis-context.jsonld": _CONTEXT_2_0_0,
    "https://ref.gs1.org/standards/epcis/2.0.1/epcis-context.jsonld": _CONTEXT_2_0_0,
    "https://gs1.github.io/EPCIS/epcis-context.jsonld": (
        "14b10c9d3e92d35f577bfc610fe5ec15aa2941124987919389d7cd9998516861.jsonld"
    ),
}
#: Every URL RxLedger reads as GS1's EPCIS 2.0 JSON-LD context.
GS1_CONTEXTS = frozenset(_CONTEXT_FILES)
# Entries of these lists are (type, identifier) pairs.
_TYPED_LISTS = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
_HASH_PREFIX = "ni:///sha-256;"
_HASH_SUFFIX = "?ver=CBV2.0"
# The generator keeps module-level state (pyld's document loader, a namespace table).
_lock = threading.Lock()
# The generator logs through the root logger, from the modules of its package.
_GENERATOR_DIR = os.path.dirname(hash_generator.__file__) + os.sep


def _offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    name = _CONTEXT_FILES.get(url)
    if name is None:
        raise jsonld.JsonLdError(
            f"JSON-LD context {url} is not available offline",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    text = resources.files("epcis_event_hash_generator").joinpath(name).read_text("utf-8")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(text),
    }


class _QuietGenerator(logging.Filter):
    """Keeps the generator's records out of the application's logs: below WARNING they dump
    whole events, serials included; its errors (the event, then why) are kept here, last
    line only, to say why a hash failed. Every other record passes."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.pathname.startswith(_GENERATOR_DIR):
            return True
        if record.levelno >= logging.ERROR:
            self.messages.append(record.getMessage().splitlines()[-1])
            return False
        return record.levelno >= logging.WARNING


def _generator_context(ctx: object) -> list[Any]:
    """The ``@context`` the generator reads: GS1's prefixes as their XML namespaces first
    (GS1's own context, later in the list, still defines them for JSON-LD), then ``ctx``."""
    entries = copy.deepcopy(ctx if isinstance(ctx, list) else [ctx])
    return [dict(PREDEFINED), *entries]


def _xml_lexical(value: Any) -> Any:
    """``value`` with JSON's true, false and null written as XML writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return [_xml_lexical(item) for item in value]
    if isinstance(value, dict):
        return {key: _xml_lexical(item) for key, item in value.items()}
    return value


def _typed_entries(event: dict[str, Any]) -> None:
    """Put each business transaction, source and destination of ``event`` in the member
    order the generator pairs them in, type first; an omitted type becomes an empty member."""
    for list_name, id_key in _TYPED_LISTS.items():
        entries = event.get(list_name)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and id_key in entry:
                kind = {"type": entry["type"]} if "type" in entry else {"": ""}
                rest = {k: v for k, v in entry.items() if k not in ("type", id_key)}
                entries[i] = {**kind, id_key: entry[id_key], **rest}


def _why(exc: Exception) -> str:
    """One line saying why the generator failed: JSON-LD's own message, else the class and
    message of the exception (``IndexError: list index out of range``)."""
    first = (str(exc).splitlines() or [""])[0]
    if isinstance(exc, jsonld.JsonLdError):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def event_hash_uri(event: dict[str, Any], context: object = None) -> str:
    """Return the EPCIS event hash ``ni:///sha-256;<hex>?ver=CBV2.0`` of one event.

    ``context`` is the ``@context`` of the document the event came from (it names the
    namespaces of extension fields); an event's own ``@context`` wins; the default is
    GS1's EPCIS 2.0 context. ``eventID``, ``recordTime`` and ``errorDeclaration`` do not
    take part in the hash. Raises :class:`InvalidEPCISError` if it cannot be computed,
    whatever the reason.
    """
    ctx = event.get("@context", context if context is not None else [GS1_CONTEXT])
    remote = [c for c in (ctx if isinstance(ctx, list) else [ctx]) if isinstance(c, str)]
    unknown = [url for url in remote if url not in _CONTEXT_FILES]
    if unknown:
        reason = f"JSON-LD context {unknown[0]} is not available offline"
        raise InvalidEPCISError([f"event hash cannot be computed: {reason}"])
    # a new body (_xml_lexical copies): the generator rewrites bare strings in place.
    body = _xml_lexical({key: value for key, value in event.items() if key != "@context"})
    _typed_entries(body)
    doc = {
        "@context": _generator_context(ctx),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "1970-01-01T00:00:00Z",
        "epcisBody": {"eventList": [body]},
    }
    quiet = _QuietGenerator()
    root = logging.getLogger()
    with _lock:
        previous = jsonld.get_document_loader()
        jsonld.set_document_loader(_offline_loader)
        json_to_py._namespaces.clear()
        root.addFilter(quiet)
        try:
            events = json_to_py.event_list_from_epcis_document_json(doc)
            hashes = hash_generator.epcis_hashes_from_events(events)
        except Exception as exc:  # the generator fails in many ways on unusual input
            raise InvalidEPCISError([f"event hash cannot be computed: {_why(exc)}"]) from exc
        finally:
            root.removeFilter(quiet)
            json_to_py._namespaces.clear()
            jsonld.set_document_loader(previous)
    if len(hashes) != 1:
        reason = quiet.messages[-1] if quiet.messages else "the hash generator skipped it"
        raise InvalidEPCISError([f"event hash cannot be computed: {reason}"])
    return str(hashes[0])


def hash_uri_digest(uri: str) -> bytes:
    """Return the 32 digest bytes of a ``ni:///sha-256;...`` event hash URI."""
    if not (uri.startswith(_HASH_PREFIX) and uri.endswith(_HASH_SUFFIX)):
        raise InvalidEPCISError([f"{uri!r} is not an EPCIS 2.0 sha-256 event hash"])
    try:
        digest = bytes.fromhex(uri[len(_HASH_PREFIX) : -len(_HASH_SUFFIX)])
    except ValueError:
        raise InvalidEPCISError([f"{uri!r} does not hold a hexadecimal digest"]) from None
    if len(digest) != 32:
        raise InvalidEPCISError([f"{uri!r} does not hold 32 bytes"])
    return digest


def event_hash(event: dict[str, Any], context: object = None) -> bytes:
    """Return the 32-byte EPCIS event hash of ``event``, the value anchored on chain."""
    return hash_uri_digest(event_hash_uri(event, context))
