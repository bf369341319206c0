"""GS1 Digital Link URIs (uncompressed): reading them leniently or strictly, and writing them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _NAMES, _describe, _known_ai
from ledger_client.gs1._pairs import _elements
from ledger_client.gs1._rules import (
    _belongs_in_path,
    _is_primary_key,
    _qualifier_orders,
    _rule,
    _valid_path,
)
from ledger_client.gs1._values import _check_gtin, _check_text
from ledger_client.gs1.codes import Code

__all__ = ["DigitalLinkKey", "parse_digital_link_path", "to_digital_link"]

# The key qualifiers of (01) a resolver reads, in path order (GS1 Digital Link Standard:
# URI Syntax 1.4, section 4.4).
_RESOLVED_QUALIFIERS = ("22", "10", "21")
# Short names of the 2018 Digital Link standard, still found in printed codes.
_DL_SHORT_NAMES = {"gtin": "01", "cpv": "22", "lot": "10", "ser": "21", "sscc": "00", "exp": "17"}

_URI = re.compile(
    r"(?P<scheme>[A-Za-z]+)://(?P<host>[^/?#]*)(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?"
)


@dataclass(frozen=True)
class _Link:
    """The AI data of a Digital Link URI: the path from its primary key on, then the query."""

    path: list[tuple[str, str]]
    query: list[tuple[str, str]]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return self.path + self.query


def _path_ai(segment: str) -> str | None:
    """The AI a path segment names (a legacy short name too), or None."""
    if segment.isascii() and segment.isdigit():
        return segment if _known_ai(segment) is not None else None
    return _DL_SHORT_NAMES.get(segment.lower())


def _key_start(segments: list[str]) -> int | None:
    """Where the Digital Link part of a path begins, as GS1's reference parser finds it:
    walk back from the end over /AI/value pairs and stop at the first primary key, so a
    stem may hold segments that look like keys (``/00/faux/00/{sscc}``)."""
    for index in range(len(segments) - 2, -1, -2):
        ai = _path_ai(segments[index])
        if ai is None:
            return None
        if _is_primary_key(ai):
            return index
    return None


def _any_key(segments: list[str]) -> int | None:
    """The rightmost segment naming a primary key with a segment after it, or None."""
    for index in range(len(segments) - 2, -1, -1):
        ai = _path_ai(segments[index])
        if ai is not None and _is_primary_key(ai):
            return index
    return None


def _read_link(text: str, warnings: list[str], *, strict: bool) -> _Link:
    """Read a GS1 Digital Link URI into AI data.

    With ``strict`` False (scans) what breaks the URI syntax of the standard but leaves one
    reading (a trailing ``/``, pre-1.0 short names, qualifiers out of order, an AI in the
    wrong part, an AI given twice with one value) is repaired and told in ``warnings``;
    with ``strict`` True it raises. Unknown AIs, empty values and bad percent-encoding
    raise in both modes.
    """
    match = _URI.match(text)
    if match is None:
        raise InvalidCodeError(f"not a URI: {text!r}")
    scheme, host = match["scheme"], match["host"]
    if scheme != scheme.lower() or host != host.lower():
        warnings.append(
            f"lower-cased the URI scheme and host {scheme}://{host} (Caps Lock?); "
            "they are case-insensitive"
        )

    def broken(problem: str, repair: str | None = None) -> None:
        if strict:
            raise InvalidCodeError(problem)
        warnings.append(repair or problem)

    segments = match["path"].split("/")[1:]
    if len(segments) > 1 and segments[-1] == "":
        segments.pop()
        broken(
            "the Digital Link path ends with '/', which the URI syntax does not allow",
            "removed a trailing '/' from the Digital Link path",
        )
    start = _key_start(segments)
    if start is None:
        raise InvalidCodeError(_no_key(match["path"], segments))

    path: list[tuple[str, str]] = []
    for index in range(start, len(segments), 2):
        segment, raw = segments[index], segments[index + 1]
        ai = _path_ai(segment)
        assert ai is not None  # _key_start walked over it
        if segment != ai:
            _short_name(segment, ai, broken)
        path.append((ai, _dl_value(ai, raw, "path")))
    _check_path(path, broken)

    query: list[tuple[str, str]] = []
    seen = dict(path)
    for item in (match["query"] or "").split("&"):
        raw_key, has_value, raw_value = item.partition("=")
        if not has_value:
            continue  # empty or a singleton parameter: not data
        key = _unquote(raw_key, "a Digital Link query key")
        if key.isascii() and key.isdigit():
            if _known_ai(key) is None:
                raise InvalidCodeError(
                    f"AI ({key}) in the Digital Link query is not a GS1 Application Identifier"
                )
            ai = key
        elif key.lower() in _DL_SHORT_NAMES:
            ai = _DL_SHORT_NAMES[key.lower()]
            _short_name(key, ai, broken)
        else:
            continue  # other parameters (linkType, context, ...) are not data
        value = _dl_value(ai, raw_value.replace("+", " "), "query")
        if ai in seen:
            if seen[ai] != value:
                raise InvalidCodeError(
                    f"AI ({ai}) appears twice with different values: {seen[ai]!r} and {value!r}"
                )
            broken(
                f"AI ({ai}) appears twice in the Digital Link",
                f"AI ({ai}) appears twice in the Digital Link with the same value; kept once",
            )
            continue
        _check_attribute([a for a, _ in path], ai, broken)
        seen[ai] = value
        query.append((ai, value))
    return _Link(path, query)


def _short_name(name: str, ai: str, broken: Callable[[str, str], None]) -> None:
    broken(
        f"{name!r} is a legacy (pre-1.0) Digital Link short name: write ({ai})",
        f"read the legacy Digital Link short name {name!r} as ({ai})",
    )


def _dl_value(ai: str, raw: str, where: str) -> str:
    value = _unquote(raw, f"AI ({ai}) in the Digital Link {where}")
    if not value:
        raise InvalidCodeError(f"AI ({ai}) has an empty value in the Digital Link {where}")
    if ai == "01" and len(value) in (8, 12, 13) and value.isascii() and value.isdigit():
        value = value.zfill(14)
    return value


def _no_key(path: str, segments: list[str]) -> str:
    """Why no Digital Link part was found in ``path``, as precisely as it can be said."""
    index = _any_key(segments)
    if index is None:
        return (
            f"Digital Link path {path!r} has no GTIN (/01/...) or SSCC (/00/...) or other GS1 "
            "primary key followed by key/value segments"
        )
    key = _path_ai(segments[index])
    for pos in range(index + 2, len(segments), 2):
        segment = segments[pos]
        if _path_ai(segment) is None:
            what = f"AI ({segment})" if segment.isdigit() else f"segment {segment!r}"
            return (
                f"Digital Link path {path!r}: {what} after ({key}) is not a GS1 "
                "Application Identifier"
            )
    return f"AI ({segments[-1]}) has no value: the Digital Link path {path!r} ends after it"


def _check_path(path: list[tuple[str, str]], broken: Callable[..., None]) -> None:
    """The path holds its primary key, then key qualifiers in one allowed order, each once."""
    ais = [ai for ai, _ in path]
    if _valid_path(ais):
        return
    key, rest = ais[0], ais[1:]
    qualifiers = _qualifier_orders(key)
    for ai in rest:
        if not _valid_path([key, ai]):
            broken(
                f"{_describe(ai)} is not a key qualifier of {_describe(key)} and belongs in "
                f"the Digital Link query string (qualifiers of ({key}): {qualifiers})"
            )
    known = [ai for ai in rest if _valid_path([key, ai])]
    if len(set(known)) != len(known):
        twice = next(ai for ai in known if known.count(ai) > 1)
        broken(f"AI ({twice}) appears twice in the Digital Link path")
    elif not _valid_path([key, *known]):
        broken(
            f"Digital Link key qualifiers out of order ({', '.join(known)}); "
            f"the order is {qualifiers}"
        )


def _check_attribute(path: list[str], ai: str, broken: Callable[..., None]) -> None:
    """An AI of the query is a data attribute, not a qualifier that belongs in the path."""
    if _belongs_in_path(path, ai):
        broken(f"AI ({ai}) belongs in the Digital Link path, found it in the query")
        return
    rule = _rule(ai)
    if rule is None or not rule.data_attribute:
        broken(f"{_describe(ai)} is not a Digital Link data attribute; it cannot be in the query")


def _unquote(raw: str, where: str) -> str:
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
        raise InvalidCodeError(f"bad percent-encoding in {where}: {raw!r}")
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise InvalidCodeError(
            f"bad percent-encoding in {where}: {raw!r} does not decode as UTF-8"
        ) from None


@dataclass(frozen=True)
class DigitalLinkKey:
    """A GTIN with the key qualifiers of a Digital Link path: CPV (22), lot (10), serial (21)."""

    gtin: str
    cpv: str | None = None
    lot: str | None = None
    serial: str | None = None

    @property
    def path(self) -> str:
        """The canonical path, ``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]``, encoded."""
        pairs = (("01", self.gtin), ("22", self.cpv), ("10", self.lot), ("21", self.serial))
        return "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in pairs if value)


def parse_digital_link_path(path: str) -> DigitalLinkKey:
    """Read the path of a GTIN Digital Link strictly, as a resolver must.

    The form is ``/01/{gtin}``, then the key qualifiers ``/22/{cpv}``, ``/10/{lot}`` and
    ``/21/{serial}``, each optional, in that order (GS1 Digital Link Standard: URI Syntax
    1.4, section 4.4). ``path`` is still percent-encoded: each value is decoded on its own,
    so an encoded ``/`` stays inside its value. A GTIN-8, -12 or -13 is padded to 14 digits;
    the check digit is verified. Unlike :func:`parse_code`, nothing is repaired.

    Raises:
        InvalidCodeError: naming the segment that is wrong and why.
    """
    if not path.startswith("/01/"):
        raise InvalidCodeError(f"a GTIN Digital Link path starts with /01/{{gtin}}, got {path!r}")
    segments = path[1:].split("/")
    if "" in segments:
        raise InvalidCodeError(
            f"Digital Link path {path!r} has an empty segment (a '//' or a trailing '/')"
        )
    if len(segments) % 2:
        raise InvalidCodeError(
            f"AI ({segments[-1]}) has no value: the Digital Link path ends after it"
        )
    gtin = _unquote(segments[1], "the GTIN (01) of the Digital Link path")
    if not (gtin.isascii() and gtin.isdigit()) or len(gtin) not in (8, 12, 13, 14):
        raise InvalidCodeError(
            f"GTIN (01) in a Digital Link path must be 8, 12, 13 or 14 digits, got {gtin!r}"
        )
    gtin = _check_gtin(gtin.zfill(14))
    values: dict[str, str] = {}
    for key, raw in zip(segments[2::2], segments[3::2], strict=True):
        _check_qualifier(key, values)
        values[key] = _check_text(key, _unquote(raw, f"AI ({key}) of the Digital Link path"))
    return DigitalLinkKey(gtin, values.get("22"), values.get("10"), values.get("21"))


def _check_qualifier(key: str, seen: dict[str, str]) -> None:
    if key not in _RESOLVED_QUALIFIERS:
        short = _DL_SHORT_NAMES.get(key.lower())
        if short in _RESOLVED_QUALIFIERS:
            raise InvalidCodeError(
                f"Digital Link path segment {key!r} is a pre-1.0 short name: write /{short}/"
            )
        ai = _known_ai(key) if key.isdigit() else None
        if ai is not None and not _valid_path(["01", key]):
            what = _NAMES.get(key, f"AI ({key}) {ai.data_title}")
            raise InvalidCodeError(
                f"{what} is a data attribute, not a key qualifier of GTIN (01): "
                f"give it in the query string, ?{key}=..."
            )
        raise InvalidCodeError(
            f"Digital Link path segment {key!r} is not a key qualifier this resolver reads; "
            "after /01/{gtin} come /22/{cpv}, /10/{lot}, /21/{serial}, in that order"
        )
    if key in seen:
        raise InvalidCodeError(f"AI ({key}) appears twice in the Digital Link path")
    later = [ai for ai in seen if _RESOLVED_QUALIFIERS.index(ai) > _RESOLVED_QUALIFIERS.index(key)]
    if later:
        raise InvalidCodeError(
            f"Digital Link key qualifiers out of order: ({key}) after ({later[0]}); "
            "the order is 22, 10, 21"
        )


def to_digital_link(code: Code, domain: str = "https://id.gs1.org") -> str:
    """Return the GS1 Digital Link URI of ``code``.

    ``/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD`` (key qualifiers in the order 22, 10, 21
    of GS1 Digital Link Standard: URI Syntax 1.4, section 4.4; data attributes in the
    query), or ``/00/{sscc}``. Values are percent-encoded (everything but ``A-Z a-z 0-9
    - . _ ~``). ``domain`` may carry a path prefix: ``https://brand.example/dl``.
    """
    if not re.match(r"https?://[^/?#]+", domain):
        raise InvalidCodeError(f"domain must look like https://host[/prefix], got {domain!r}")
    path = domain.rstrip("/")
    query = ""
    for ai, value in _elements(code):
        if ai == "17":
            query = f"?17={value}"
        else:
            path += f"/{ai}/{quote(value, safe='')}"
    return path + query
