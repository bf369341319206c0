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
from urllib.parse import urlsplit

from biip.gtin import Gtin
from biip.sscc import Sscc

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _describe
from ledger_client.gs1._pairs import _build, _check_ai_data
from ledger_client.gs1._urn import _parse_epc, _urn_escape
from ledger_client.gs1.codes import Code, LotCode, PackCode, ProductCode, UnitCode
from ledger_client.gs1.digital_link import _any_key, _key_start, _path_ai, _read_link, _unquote
from ledger_client.gs1.parse import parse_code
from ledger_client.ids import CSET82, gs1_check_digit, with_check_digit

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
# The GS1 Digital Link primary keys of the identifiers EPCIS events carry, on any host.
_DL_KEYS = ("01", "00", "414", "417")
# Characters an EPC URN component may hold as they are (GS1 EPC Tag Data Standard,
# section 5, "GS3A3Component"); the other characters of set 82 are %-escaped.
_URN_CHARS = re.compile(r"[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2}")
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


def _gln_from(prefix: str, ref: str, uri: str, what: str) -> str:
    """The GLN of an SGLN/PGLN: company prefix (6-12 digits) + ``what`` make 12 digits
    (the reference is empty under a 12-digit prefix), then the check digit."""
    if not _DIGITS.fullmatch(prefix):
        raise InvalidCodeError(f"{uri}: the company prefix {prefix!r} is not all digits")
    if ref and not _DIGITS.fullmatch(ref):
        raise InvalidCodeError(f"{uri}: the {what} {ref!r} is not all digits")
    if not 6 <= len(prefix) <= 12:
        raise InvalidCodeError(
            f"{uri}: the company prefix has {len(prefix)} digits; GS1 prefixes have 6 to 12"
        )
    digits = prefix + ref
    if len(digits) != 12:
        message = (
            f"{uri}: company prefix and {what} must have 12 digits in all (the GLN without "
            f"its check digit), got {len(prefix)}+{len(ref)}"
        )
        if len(digits) == 13:
            expected = gs1_check_digit(digits[:-1])
            if str(expected) == digits[-1]:
                message += f"; it seems to include the check digit {expected}: drop it"
        raise InvalidCodeError(message)
    return with_check_digit(digits)


def _fields(body: str, names: tuple[str, ...], uri: str, example: str) -> list[str]:
    """Split a URN body into its dot-separated fields; the last may hold dots itself."""
    fields = body.split(".", len(names) - 1)
    if len(fields) == len(names):
        return fields
    message = (
        f"{uri}: expected {'.'.join(names)} ({len(names)} fields separated by '.', e.g. "
        f"{example}), got {len(fields)}"
    )
    if len(fields) == 1 and len(body) == 13 and body.isdigit():
        message += (
            "; 13 digits look like a GLN with its check digit, which the URN gives as "
            "company prefix and reference, without the check digit"
        )
    raise InvalidCodeError(message)


def _sgln(body: str, uri: str) -> Epc:
    names = ("CompanyPrefix", "LocationReference", "Extension")
    prefix, ref, extension = _fields(body, names, uri, "urn:epc:id:sgln:0614141.12345.0")
    gln = _gln_from(prefix, ref, uri, "location reference")
    return Epc("gln", gln=gln, extension=_urn_component(extension, uri, "extension (254)"))


def _pgln(body: str, uri: str) -> Epc:
    names = ("CompanyPrefix", "PartyReference")
    prefix, ref = _fields(body, names, uri, "urn:epc:id:pgln:0614141.12345")
    return Epc("gln", gln=_gln_from(prefix, ref, uri, "party reference"))


def _urn_component(text: str, uri: str, what: str) -> str:
    """Decode a GS3A3 component of an EPC URN: 1-20 characters of GS1 set 82, those outside
    ``A-Z a-z 0-9 ! ' ( ) * + , - . : ; = _`` %-escaped (GS1 EPC Tag Data Standard)."""
    pos = 0
    while pos < len(text):
        match = _URN_CHARS.match(text, pos)
        if match is None and text[pos] == "%":
            raise InvalidCodeError(f"{uri}: bad percent-encoding in the {what} {text!r}")
        if match is None:
            char = text[pos]
            hint = f" (write it as %{ord(char):02X})" if char in '"&/<>?' else ""
            raise InvalidCodeError(
                f"{uri}: the {what} {text!r} has {char!r} at position {pos + 1}, which an "
                f"EPC URN does not allow{hint}"
            )
        pos = match.end()
    value = _unquote(text, f"the {what} of {uri}")
    if not 1 <= len(value) <= 20 or any(char not in CSET82 for char in value):
        raise InvalidCodeError(
            f"{uri}: the {what} must be 1 to 20 characters of GS1 character set 82, got {value!r}"
        )
    return value


def _product_pattern(body: str, uri: str) -> Epc:
    names = ("CompanyPrefix", "ItemReference", "*")
    prefix, item, star = _fields(body, names, uri, "urn:epc:idpat:sgtin:0614141.112345.*")
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


def _from_code(code: PackCode | UnitCode | LotCode | ProductCode) -> Epc:
    if isinstance(code, PackCode):
        return Epc("sgtin", gtin=code.gtin, serial=code.serial, lot=code.lot)
    if isinstance(code, UnitCode):
        return Epc("sscc", sscc=code.sscc)
    if isinstance(code, LotCode):
        return Epc("lgtin", gtin=code.gtin, lot=code.lot)
    return Epc("gtin", gtin=code.gtin)


def is_gs1_identifier(uri: str) -> bool:
    """Return True if ``uri`` claims to be an EPC URI or GS1 Digital Link this module parses.

    A Digital Link is claimed on any host and under any path prefix when its path holds a
    GTIN, SSCC, GLN or party key (``/01/``, ``/00/``, ``/414/``, ``/417/``) followed by a
    value (``https://brand.example/food/01/09506000134352/21/S1``).
    """
    match = _URN.fullmatch(uri)
    if match is not None:
        return (match.group(1).lower(), match.group(2).lower()) in _GS1_URNS
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https"):
        return False
    segments = parts.path.split("/")[1:]
    start = _key_start(segments)
    if start is None:
        start = _any_key(segments)
    return start is not None and _path_ai(segments[start]) in _DL_KEYS


def parse_epc(uri: str) -> Epc:
    """Parse an EPC URI or GS1 Digital Link URI, or raise :class:`InvalidCodeError`.

    Digital Links are read strictly (``parse_code(..., strict=True)``): a break of the
    standard's URI syntax is an error here, not a warning as in a scan.
    """
    match = _URN.fullmatch(uri)
    if match is not None:
        level, scheme, body = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if level == "idpat" and scheme == "sgtin":
            return _product_pattern(body, uri)
        if level == "id" and scheme == "sgln":
            return _sgln(body, uri)
        if level == "id" and scheme == "pgln":
            return _pgln(body, uri)
    elif urlsplit(uri).scheme.lower() in ("http", "https"):
        return _digital_link_epc(uri)
    else:
        raise InvalidCodeError(f"{uri!r} is not an EPC URI or GS1 Digital Link URI")
    try:
        return _from_code(parse_code(uri, require_serial=False).code)
    except InvalidCodeError as exc:
        raise InvalidCodeError(f"{uri}: {exc}") from exc


def _digital_link_epc(uri: str) -> Epc:
    try:
        link = _read_link(uri, [], strict=True)
        key, value = link.path[0]
        if key in ("414", "417"):
            values = _check_ai_data(link.pairs, [], today=None)
            return Epc("gln", gln=value, extension=values.get("254"))
        if key not in ("01", "00"):
            raise InvalidCodeError(
                f"{_describe(key)} names no pack, logistic unit, lot, product or party"
            )
        return _from_code(_build(link.pairs, today=None, require_serial=False).code)
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
