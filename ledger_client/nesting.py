"""Bound the nesting of an untrusted JSON or XML document before a parser reads it.

A dependency (py-evm, py_ecc) raises Python's recursion limit to 100,000 for the whole
process, so the standard JSON parser, which recurses once per level, overflows the C stack
on a document nested some ten thousand levels deep and kills the process instead of raising
RecursionError. :func:`check_nesting` measures the depth without building anything.
"""

from __future__ import annotations

import json
from itertools import accumulate, count
from operator import sub

from lxml import etree

from ledger_client.errors import RxLedgerError

__all__ = ["MAX_DEPTH", "NestingTooDeepError", "check_nesting"]

#: EPCIS documents nest about ten levels; 64 is generous.
MAX_DEPTH = 64

_NOT_MARK = bytes(sorted(set(range(256)) - set(b'"[]{}')))
# An opening bracket counts 2, a closing one 0: after k brackets the running sum is twice
# the number opened, and the depth there is that sum minus k.
_STEP = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class NestingTooDeepError(RxLedgerError, ValueError):
    """Raised when a JSON or XML document nests deeper than the limit allows."""

    def __init__(self, kind: str, limit: int) -> None:
        self.kind = kind
        self.limit = limit
        super().__init__(f"the {kind} document nests deeper than {limit} levels")


def check_nesting(data: str | bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`NestingTooDeepError` if ``data`` nests deeper than ``limit`` levels.

    ``data`` is XML when it starts with ``<`` (after white space), else JSON. Malformed
    input passes unless it nests too deep before its first error: the parser that reads it
    then reports that error.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.lstrip()[:1] == b"<":
        if _xml_too_deep(raw, limit):
            raise NestingTooDeepError("XML", limit)
    elif _json_depth(_utf8(raw)) > limit:
        raise NestingTooDeepError("JSON", limit)


def _utf8(data: bytes) -> bytes:
    """JSON bytes as UTF-8, decoded as json.loads decodes them (UTF-8, -16 or -32)."""
    encoding = json.detect_encoding(data)
    if encoding.startswith("utf-8"):
        return data  # invalid UTF-8 is refused by json.loads before it reads any structure
    try:
        return data.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return b""  # likewise


def _json_depth(data: bytes) -> int:
    """The deepest nesting of the brackets outside strings in UTF-8 JSON text.

    Escapes go first (left to right, a backslash pairs with the character after it); then
    only quotes and brackets are kept. An adjacent quote pair encloses no bracket, and what
    lies between an odd quote and the next one is inside a string. UTF-8 never uses these
    bytes inside a multi-byte character, and everything before the first syntax error reads
    as the parser reads it.
    """
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = text.translate(None, _NOT_MARK).replace(b'""', b"")
    brackets = b"".join(marks.split(b'"')[::2]).translate(_STEP)
    return max(map(sub, accumulate(brackets), count(1)), default=0)


#: Bytes fed to the XML pull parser at a time: the element starts parsed so far are counted
#: before libxml2 reports an error further on (a mismatched tag, its own depth limit).
_XML_CHUNK = 1024


def _xml_too_deep(data: bytes, limit: int) -> bool:
    """Whether the elements of ``data`` nest deeper than ``limit``; libxml2 reads it
    (any encoding) without DTD, entities or network, a chunk at a time, each element
    cleared as it ends."""
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    depth = 0

    def deeper() -> bool:
        nonlocal depth
        for event, element in parser.read_events():
            if event == "end":
                depth -= 1
                element.clear()
            else:
                depth += 1
                if depth > limit:
                    return True
        return False

    try:
        for start in range(0, len(data), _XML_CHUNK):
            parser.feed(data[start : start + _XML_CHUNK])
            if deeper():
                return True
        parser.close()
    except etree.XMLSyntaxError:
        pass  # the parser that reads it reports the error with its line and column
    return deeper()
