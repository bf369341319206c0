"""Minimal EPC URI and GS1 Digital Link parsing for the EPCIS layer.

Stop-gap until ``ledger_client.gs1`` lands: it knows only the identifiers the ledger
records (SGTIN, SSCC, LGTIN, the product class pattern, SGLN, PGLN) and checks digit
counts and check digits with :func:`ledger_client.ids.gs1_check_digit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ledger_client.errors import InvalidCodeError
from ledger_client.ids import check_gtin14, check_lot, check_serial, check_sscc18, gs1_check_digit

__all__ = ["Epc", "parse_epc", "is_gs1_identifier", "party_gln"]

_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.*)", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# GS1 Digital Link primary keys the ledger understands, on any host.
_DL_PATH = re.compile(r"/(01|00|414|417)/([^/]+)(?:/(21|10|254)/([^/]+))?/?")


@dataclass(frozen=True)
class Epc:
    """One parsed identifier: ``kind`` is sgtin, sscc, lgtin, gtin (class pattern) or gln."""

    kind: str
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    sscc: str | None = None
    gln: str | None = None
    extension: str | None = None


def _with_check(body: str) -> str:
    return body + str(gs1_check_digit(body))


def _split(value: str, parts: int, uri: str) -> list[str]:
    fields = value.split(".")
    if len(fields) != parts:
        raise InvalidCodeError(f"{uri}: expected {parts} dot-separated fields, got {len(fields)}")
    return fields


def _digits(field: str, what: str, uri: str) -> str:
    if not _DIGITS.fullmatch(field):
        raise InvalidCodeError(f"{uri}: {what} {field!r} is not all digits")
    return field


def _gtin_from(prefix: str, item: str, uri: str) -> str:
    _digits(prefix, "company prefix", uri)
    _digits(item, "item reference", uri)
    if not 6 <= len(prefix) <= 12 or len(prefix) + len(item) != 13:
        raise InvalidCodeError(
            f"{uri}: company prefix and item reference must have 6-12 and 13 digits in all,"
            f" got {len(prefix)}+{len(item)}"
        )
    return _with_check(item[0] + prefix + item[1:])


def _gln_from(prefix: str, ref: str, uri: str) -> str:
    _digits(prefix, "company prefix", uri)
    _digits(ref, "location reference", uri)
    if not 6 <= len(prefix) <= 12 or len(prefix) + len(ref) != 12:
        raise InvalidCodeError(
            f"{uri}: company prefix and location reference must have 12 digits in all,"
            f" got {len(prefix)}+{len(ref)}"
        )
    return _with_check(prefix + ref)


def _parse_urn(uri: str, match: re.Match[str]) -> Epc:
    level, scheme, body = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if level == "id" and scheme == "sgtin":
        prefix, item, serial = _split(body, 3, uri)
        return Epc(
            "sgtin", gtin=_gtin_from(prefix, item, uri), serial=check_serial(unquote(serial))
        )
    if level == "id" and scheme == "sscc":
        prefix, ref = _split(body, 2, uri)
        _digits(prefix, "company prefix", uri)
        _digits(ref, "serial reference", uri)
        if not 6 <= len(prefix) <= 12 or len(prefix) + len(ref) != 17:
            raise InvalidCodeError(
                f"{uri}: company prefix and serial reference must have 17 digits in all,"
                f" got {len(prefix)}+{len(ref)}"
            )
        return Epc("sscc", sscc=_with_check(ref[0] + prefix + ref[1:]))
    if level == "class" and scheme == "lgtin":
        prefix, item, lot = _split(body, 3, uri)
        return Epc("lgtin", gtin=_gtin_from(prefix, item, uri), lot=check_lot(unquote(lot)))
    if level == "idpat" and scheme == "sgtin":
        prefix, item, star = _split(body, 3, uri)
        if star != "*":
            raise InvalidCodeError(f"{uri}: only the whole-product pattern '*' is supported")
        return Epc("gtin", gtin=_gtin_from(prefix, item, uri))
    if level == "id" and scheme == "sgln":
        prefix, ref, ext = _split(body, 3, uri)
        return Epc("gln", gln=_gln_from(prefix, ref, uri), extension=unquote(ext))
    if level == "id" and scheme == "pgln":
        prefix, ref = _split(body, 2, uri)
        return Epc("gln", gln=_gln_from(prefix, ref, uri))
    raise InvalidCodeError(f"{uri}: EPC scheme {level}:{scheme} is not one the ledger records")


def _checked(code: str, length: int, what: str, uri: str) -> str:
    if not _DIGITS.fullmatch(code) or len(code) != length:
        raise InvalidCodeError(f"{uri}: {what} must be {length} digits, got {code!r}")
    if gs1_check_digit(code[:-1]) != int(code[-1]):
        raise InvalidCodeError(f"{uri}: {what} {code} has a wrong check digit")
    return code


def _parse_digital_link(uri: str) -> Epc:
    path = urlsplit(uri).path
    match = _DL_PATH.search(path)
    if match is None or not path.endswith(match.group(0)):
        raise InvalidCodeError(f"{uri}: not a GS1 Digital Link URI the ledger understands")
    ai, key, qual_ai, qual = match.groups()
    key = unquote(key)
    qual = unquote(qual) if qual is not None else None
    if ai == "01":
        if _DIGITS.fullmatch(key) and len(key) in (8, 12, 13):
            key = key.zfill(14)
        gtin = check_gtin14(_checked(key, 14, "GTIN", uri))
        if qual_ai == "21" and qual is not None:
            return Epc("sgtin", gtin=gtin, serial=check_serial(qual))
        if qual_ai == "10" and qual is not None:
            return Epc("lgtin", gtin=gtin, lot=check_lot(qual))
        if qual_ai is None:
            return Epc("gtin", gtin=gtin)
    elif ai == "00" and qual_ai is None:
        return Epc("sscc", sscc=check_sscc18(_checked(key, 18, "SSCC", uri)))
    elif ai in ("414", "417") and qual_ai in (None, "254"):
        return Epc("gln", gln=_checked(key, 13, "GLN", uri), extension=qual)
    raise InvalidCodeError(f"{uri}: AI ({ai}) cannot be qualified by ({qual_ai})")


def is_gs1_identifier(uri: str) -> bool:
    """Return True if ``uri`` claims to be an EPC URI or GS1 Digital Link this module parses."""
    if _URN.fullmatch(uri):
        match = _URN.fullmatch(uri)
        assert match is not None
        return (match.group(1).lower(), match.group(2).lower()) in {
            ("id", "sgtin"),
            ("id", "sscc"),
            ("class", "lgtin"),
            ("idpat", "sgtin"),
            ("id", "sgln"),
            ("id", "pgln"),
        }
    parts = urlsplit(uri)
    return (
        parts.scheme in ("http", "https")
        and _DL_PATH.search(parts.path) is not None
        and (parts.netloc == "id.gs1.org" or _DL_PATH.match(parts.path) is not None)
    )


def parse_epc(uri: str) -> Epc:
    """Parse an EPC URI or GS1 Digital Link URI, or raise :class:`InvalidCodeError`."""
    match = _URN.fullmatch(uri)
    if match is not None:
        return _parse_urn(uri, match)
    if urlsplit(uri).scheme in ("http", "https"):
        return _parse_digital_link(uri)
    raise InvalidCodeError(f"{uri!r} is not an EPC URI or GS1 Digital Link URI")


def party_gln(value: str) -> str:
    """Return the 13-digit GLN of an SGLN/PGLN/Digital Link party, or ``value`` unchanged."""
    try:
        epc = parse_epc(value)
    except InvalidCodeError:
        return value
    return epc.gln if epc.kind == "gln" and epc.gln is not None else value


def parse_epc_or_none(value: object) -> Epc | None:
    """Parse ``value`` if it is an identifier this module knows and is valid, else None."""
    if isinstance(value, str) and is_gs1_identifier(value):
        try:
            return parse_epc(value)
        except InvalidCodeError:
            return None
    return None
