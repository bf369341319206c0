"""GS1 Digital Link URIs (uncompressed): reading them leniently or strictly, and writing them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _NAMES, _known_ai
from ledger_client.gs1._pairs import _elements
from ledger_client.gs1._values import _check_gtin, _check_text
from ledger_client.gs1.codes import Code

__all__ = ["DigitalLinkKey", "parse_digital_link_path", "to_digital_link"]

# GS1 Digital Link: key qualifiers of (01), in the order the URI syntax requires
# (GS1 Digital Link Standard: URI Syntax 1.4, section 4.4).
_GTIN_QUALIFIERS = ("22", "10", "21", "235")
# The key qualifiers a resolver reads, in path order.
_RESOLVED_QUALIFIERS = ("22", "10", "21")
# Short names of the 2018 Digital Link standard, still found in printed codes.
_DL_SHORT_NAMES = {"gtin": "01", "cpv": "22", "lot": "10", "ser": "21", "sscc": "00", "exp": "17"}

_URI = re.compile(
    r"(?P<scheme>[A-Za-z]+)://(?P<host>[^/?#]*)(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?"
)


def _digital_link_pairs(text: str, warnings: list[str]) -> list[tuple[str, str]]:
    match = _URI.match(text)
    if match is None:
        raise InvalidCodeError(f"not a URI: {text!r}")
    scheme, host = match["scheme"], match["host"]
    if scheme != scheme.lower() or host != host.lower():
        warnings.append(
            f"lower-cased the URI scheme and host {scheme}://{host} (Caps Lock?); "
            "they are case-insensitive"
        )
    segments = match["path"].split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
        warnings.append("removed a trailing '/' from the Digital Link path")

    start = None
    for index, segment in enumerate(segments):
        key = _DL_SHORT_NAMES.get(segment.lower(), segment)
        if key in ("01", "00") and (len(segments) - index) % 2 == 0:
            start = index
            break
    if start is None:
        raise InvalidCodeError(
            f"Digital Link path {match['path']!r} has no GTIN (/01/...) or SSCC (/00/...) "
            "followed by key/value segments"
        )

    pairs: list[tuple[str, str]] = []
    for index in range(start, len(segments), 2):
        key, raw = segments[index], segments[index + 1]
        key = _dl_key(key, warnings)
        value = _unquote(raw, f"AI ({key}) in the Digital Link path")
        if not value:
            raise InvalidCodeError(f"AI ({key}) has an empty value in the Digital Link path")
        if key == "01" and len(value) in (8, 12, 13) and value.isdigit():
            value = value.zfill(14)
        pairs.append((key, value))
    _check_dl_path_order(pairs, warnings)

    for item in (match["query"] or "").split("&"):
        if not item:
            continue
        raw_key, _, raw_value = item.partition("=")
        key = _unquote(raw_key, "a Digital Link query key")
        if not key.isdigit() and key.lower() not in _DL_SHORT_NAMES:
            continue  # other parameters (linkType, context, ...) are not data
        key = _dl_key(key, warnings)
        value = _unquote(raw_value, f"AI ({key}) in the Digital Link query")
        if key in ("01", "00", "10", "21", "22"):
            warnings.append(f"AI ({key}) belongs in the Digital Link path, found it in the query")
        pairs.append((key, value))
    return pairs


def _dl_key(key: str, warnings: list[str]) -> str:
    if key.isdigit():
        return key
    short = _DL_SHORT_NAMES.get(key.lower())
    if short is None:
        raise InvalidCodeError(f"Digital Link path segment {key!r} is not a GS1 AI")
    warnings.append(f"read the legacy Digital Link short name {key!r} as ({short})")
    return short


def _check_dl_path_order(pairs: list[tuple[str, str]], warnings: list[str]) -> None:
    primary = pairs[0][0]
    qualifiers = [ai for ai, _ in pairs[1:]]
    allowed = _GTIN_QUALIFIERS if primary == "01" else ()
    for ai in qualifiers:
        if ai not in allowed:
            warnings.append(
                f"AI ({ai}) is not a key qualifier of ({primary}) and belongs in the "
                "Digital Link query string"
            )
    ordered = [ai for ai in qualifiers if ai in allowed]
    if ordered != sorted(ordered, key=_GTIN_QUALIFIERS.index):
        warnings.append(
            f"Digital Link key qualifiers out of order ({', '.join(ordered)}); "
            "the standard order is 22, 10, 21, 235"
        )


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
        if ai is not None and key not in _GTIN_QUALIFIERS:
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
