"""EPC identifiers: EPC URNs of packs, units and lots, and the identifiers EPCIS events carry.

:func:`from_epc_urn` and :func:`to_epc_urn` convert codes. :func:`parse_epc` reads every
identifier an EPCIS event may carry: packs (SGTIN), logistic units (SSCC) and lots (LGTIN)
as EPC URNs or GS1 Digital Link URIs (through :func:`~ledger_client.gs1.parse_code`),
parties and locations (``urn:epc:id:sgln``, ``urn:epc:id:pgln``, Digital Link ``/414/…``
and ``/417/…``) and the product class pattern ``urn:epc:idpat:sgtin:<prefix>.<item>.*`` of
master data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from biip.gtin import Gtin
from biip.sscc import Sscc

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._urn import _parse_epc, _urn_escape
from ledger_client.gs1.codes import Code, LotCode, PackCode, ProductCode, UnitCode
from ledger_client.gs1.parse import parse_code
from ledger_client.ids import gs1_check_digit, with_check_digit

__all__ = [
    "Epc",
    "from_epc_urn",
    "is_gs1_identifier",
    "parse_epc",
    "parse_epc_or_none",
    "party_gln",
    "to_epc_urn",
]

_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.*)", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# GS1 Digital Link primary keys EPCIS events carry, on any host.
_DL_PATH = re.compile(r"/(01|00|414|417)/([^/]+)(?:/(22|10|21|254)/([^/]+))*/?")
_DL_PARTY = re.compile(r"/(414|417)/([^/]+)(?:/254/([^/]+))?/?")
_GS1_URNS = {
    ("id", "sgtin"),
    ("id", "sscc"),
    ("class", "lgtin"),
    ("idpat", "sgtin"),
    ("id", "sgln"),
    ("id", "pgln"),
}


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


def _gln_from(prefix: str, ref: str, uri: str) -> str:
    for part, what in ((prefix, "company prefix"), (ref, "location reference")):
        if not _DIGITS.fullmatch(part):
            raise InvalidCodeError(f"{uri}: {what} {part!r} is not all digits")
    if not 6 <= len(prefix) <= 12 or len(prefix) + len(ref) != 12:
        raise InvalidCodeError(
            f"{uri}: company prefix and location reference must have 12 digits in all,"
            f" got {len(prefix)}+{len(ref)}"
        )
    body = prefix + ref
    return with_check_digit(body)


def _split(body: str, parts: int, uri: str) -> list[str]:
    fields = body.split(".")
    if len(fields) != parts:
        raise InvalidCodeError(f"{uri}: expected {parts} dot-separated fields, got {len(fields)}")
    return fields


def _product_pattern(body: str, uri: str) -> Epc:
    prefix, item, star = _split(body, 3, uri)
    if star != "*":
        raise InvalidCodeError(f"{uri}: only the whole-product pattern '*' is supported")
    if not (_DIGITS.fullmatch(prefix) and _DIGITS.fullmatch(item)):
        raise InvalidCodeError(f"{uri}: company prefix and item reference must be digits")
    if not 6 <= len(prefix) <= 12 or len(prefix) + len(item) != 13:
        raise InvalidCodeError(
            f"{uri}: company prefix and item reference must have 6-12 and 13 digits in all,"
            f" got {len(prefix)}+{len(item)}"
        )
    body13 = item[0] + prefix + item[1:]
    return Epc("gtin", gtin=with_check_digit(body13))


def _checked_gln(key: str, uri: str) -> str:
    if not _DIGITS.fullmatch(key) or len(key) != 13:
        raise InvalidCodeError(f"{uri}: GLN must be 13 digits, got {key!r}")
    if gs1_check_digit(key[:-1]) != int(key[-1]):
        expected = gs1_check_digit(key[:-1])
        raise InvalidCodeError(
            f"{uri}: GLN {key} has a wrong check digit: expected {expected}, found {key[-1]}"
        )
    return key


def _from_code(code: PackCode | UnitCode | LotCode | ProductCode) -> Epc:
    if isinstance(code, PackCode):
        return Epc("sgtin", gtin=code.gtin, serial=code.serial, lot=code.lot)
    if isinstance(code, UnitCode):
        return Epc("sscc", sscc=code.sscc)
    if isinstance(code, LotCode):
        return Epc("lgtin", gtin=code.gtin, lot=code.lot)
    return Epc("gtin", gtin=code.gtin)


def is_gs1_identifier(uri: str) -> bool:
    """Return True if ``uri`` claims to be an EPC URI or GS1 Digital Link this module parses."""
    match = _URN.fullmatch(uri)
    if match is not None:
        return (match.group(1).lower(), match.group(2).lower()) in _GS1_URNS
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
        level, scheme, body = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if level == "idpat" and scheme == "sgtin":
            return _product_pattern(body, uri)
        if level == "id" and scheme == "sgln":
            prefix, ref, ext = _split(body, 3, uri)
            return Epc("gln", gln=_gln_from(prefix, ref, uri), extension=unquote(ext))
        if level == "id" and scheme == "pgln":
            prefix, ref = _split(body, 2, uri)
            return Epc("gln", gln=_gln_from(prefix, ref, uri))
    elif urlsplit(uri).scheme in ("http", "https"):
        party = _DL_PARTY.search(urlsplit(uri).path)
        if party is not None and urlsplit(uri).path.endswith(party.group(0)):
            dl_ext = unquote(party.group(3)) if party.group(3) is not None else None
            return Epc("gln", gln=_checked_gln(unquote(party.group(2)), uri), extension=dl_ext)
    else:
        raise InvalidCodeError(f"{uri!r} is not an EPC URI or GS1 Digital Link URI")
    try:
        return _from_code(parse_code(uri, require_serial=False).code)
    except InvalidCodeError as exc:
        raise InvalidCodeError(f"{uri}: {exc}") from exc


def parse_epc_or_none(value: object) -> Epc | None:
    """Parse ``value`` if it is an identifier this module knows and is valid, else None."""
    if isinstance(value, str) and is_gs1_identifier(value):
        try:
            return parse_epc(value)
        except InvalidCodeError:
            return None
    return None


def party_gln(value: str) -> str:
    """Return the 13-digit GLN of an SGLN/PGLN/Digital Link party, or ``value`` unchanged."""
    epc = parse_epc_or_none(value)
    return epc.gln if epc is not None and epc.gln is not None else value


def from_epc_urn(urn: str) -> PackCode | UnitCode | LotCode:
    """Read an ``sgtin``/``sscc`` EPC pure identity URN or an ``lgtin`` class URN.

    The serial or lot is percent-decoded as the GS1 EPC Tag Data Standard prescribes.

    Raises:
        InvalidCodeError: if it is not one of these URNs or is malformed.
    """
    code, _ = _parse_epc(urn.strip(), [])
    return code


def _prefix_length(code: Code, explicit: int | None) -> int:
    if explicit is not None:
        if not 6 <= explicit <= 12:
            raise InvalidCodeError(f"company_prefix_length must be 6 to 12, got {explicit}")
        return explicit
    key = code.sscc if isinstance(code, UnitCode) else code.gtin
    parsed = Sscc.parse(key) if isinstance(code, UnitCode) else Gtin.parse(key)
    if parsed.company_prefix is None:
        raise InvalidCodeError(
            f"GS1 Company Prefix length of {key} is not in the GS1 prefix table; "
            "pass company_prefix_length"
        )
    return len(parsed.company_prefix.value)


def to_epc_urn(code: Code, *, company_prefix_length: int | None = None) -> str:
    """Return the EPC URN of ``code``: ``sgtin`` (pack), ``sscc`` (unit) or ``lgtin`` (lot).

    The company prefix length comes from biip's copy of GS1's prefix length table unless
    ``company_prefix_length`` is given. A pack URN names GTIN + serial only.

    Raises:
        InvalidCodeError: for a :class:`ProductCode` (no EPC URN names a bare GTIN), or if
            the prefix length is unknown and not given.
    """
    if isinstance(code, ProductCode):
        raise InvalidCodeError("a GTIN without serial or lot has no EPC pure identity URN")
    length = _prefix_length(code, company_prefix_length)
    if isinstance(code, UnitCode):
        prefix = code.sscc[1 : 1 + length]
        reference = code.sscc[0] + code.sscc[1 + length : 17]
        return f"urn:epc:id:sscc:{prefix}.{reference}"
    prefix = code.gtin[1 : 1 + length]
    reference = code.gtin[0] + code.gtin[1 + length : 13]
    if isinstance(code, PackCode):
        return f"urn:epc:id:sgtin:{prefix}.{reference}.{_urn_escape(code.serial)}"
    return f"urn:epc:class:lgtin:{prefix}.{reference}.{_urn_escape(code.lot)}"
