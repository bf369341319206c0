"""Reading any supported GS1 code: :func:`parse_code`."""

from __future__ import annotations

import datetime as dt
from functools import partial

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._pairs import _build, _check_ai_data, _elements
from ledger_client.gs1._urn import _parse_epc
from ledger_client.gs1.codes import AIData, Code, ScanResult, SourceFormat
from ledger_client.gs1.digital_link import _read_link
from ledger_client.gs1.message import _hri_pairs, _parse_message

__all__ = ["parse_ai_data", "parse_code"]

# Symbology identifiers (ISO/IEC 15424) of carriers whose data is a GS1 message.
_GS1_MESSAGE_SYMBOLOGIES = {"]d2": "GS1 DataMatrix", "]C1": "GS1-128", "]Q3": "GS1 QR Code",
                            "]e0": "GS1 DataBar", "]J1": "GS1 DotCode"}  # fmt: skip
# ... and of carriers whose data may be a plain GS1 Digital Link URI.
_PLAIN_SYMBOLOGIES = {"]d1": "DataMatrix", "]Q1": "QR Code"}


def parse_code(
    text: str, *, today: dt.date | None = None, require_serial: bool = True, strict: bool = False
) -> ScanResult:
    """Read a scanned or typed GS1 code in any supported format.

    Scanner slips are repaired only where the result is unambiguous, and each repair is
    reported in ``ScanResult.warnings``: surrounding whitespace, spaces inside numeric
    fields, textual GS stand-ins (``<GS>``, ``{GS}``, ``\\x1d``), upper-case URI scheme,
    host or URN prefix (Caps Lock), a lost GS separator when exactly one reading makes a
    valid code. Serial numbers and lots are case-sensitive and are never changed.

    Every value is checked against its AI (format, check digit, dates), and the AIs against
    each other (the mandatory associations and invalid pairs of the GS1 General
    Specifications); an AI GS1 does not define is refused.

    Args:
        text: what the scanner sent.
        today: reference date for the GS1 century rule (see :func:`expiry_to_date`).
        require_serial: if False, a GTIN without serial gives a :class:`LotCode` (with a
            lot) or a :class:`ProductCode` instead of an error.
        strict: if True, a Digital Link that breaks the standard's URI syntax (qualifiers out
            of order, an AI in the wrong part, an AI twice, a legacy short name, a trailing
            ``/``) is refused instead of read with a warning: what EPCIS validation uses.

    Raises:
        InvalidCodeError: with what is wrong and where, if the text is not a valid code or
            can be read in more than one way.
    """
    warnings: list[str] = []
    symbology, body = _prepare(text, warnings)
    fmt = _format_of(body)
    extras: tuple[tuple[str, str], ...] = ()
    cp_len = None
    code: Code
    if fmt == "epc_urn":
        code, cp_len = _parse_epc(body, warnings)
    else:
        build = partial(_build, today=today, require_serial=require_serial)
        if fmt == "digital_link":
            built = build(_read_link(body, warnings, strict=strict).pairs)
        elif fmt == "element_string":
            built = build(_hri_pairs(body, warnings))
        else:
            built = _parse_message(body, warnings, today=today, accept=build)
        code, extras = built.code, built.extras
        warnings.extend(built.warnings)
    if any("Caps Lock" in w for w in warnings) and _has_letters(code):
        warnings.append(
            "serial and lot are case-sensitive and were kept exactly as scanned; "
            "if Caps Lock inverted them the code will not verify"
        )
    return ScanResult(code, fmt, tuple(warnings), symbology, extras, cp_len)


def parse_ai_data(text: str, *, today: dt.date | None = None, strict: bool = False) -> AIData:
    """Read the AI data of any GS1 text :func:`parse_code` reads, whatever it identifies.

    The same checks as :func:`parse_code` (values, associations, Digital Link syntax with
    ``strict``), without asking for a code the ledger tracks: ``(400)PO-1``, a GLN link
    ``https://id.gs1.org/414/...`` and a pack all read. Scanner slips are repaired and told
    in ``AIData.warnings``; an AI repeated with its value is kept once.

    Raises:
        InvalidCodeError: with what is wrong and where.
    """
    warnings: list[str] = []
    _, body = _prepare(text, warnings)
    fmt = _format_of(body)

    def check(pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
        found: list[str] = []
        return list(_check_ai_data(pairs, found, today=today).items()), found

    found: list[str] = []
    if fmt == "epc_urn":
        elements = _elements(_parse_epc(body, warnings)[0])
    elif fmt == "digital_link":
        elements, found = check(_read_link(body, warnings, strict=strict).pairs)
    elif fmt == "element_string":
        elements, found = check(_hri_pairs(body, warnings))
    else:
        elements, found = _parse_message(body, warnings, today=today, accept=check)
    warnings.extend(found)
    return AIData(tuple(elements), fmt, tuple(warnings))


def _prepare(text: str, warnings: list[str]) -> tuple[str | None, str]:
    """The symbology identifier and the body of a scan, without surrounding whitespace."""
    if not isinstance(text, str):
        raise InvalidCodeError(f"expected the scanned text as str, got {type(text).__name__}")
    stripped = text.strip(" \t\r\n\v\f")
    if stripped != text:
        warnings.append("removed surrounding whitespace")
    if not stripped:
        raise InvalidCodeError("empty scan: no text to read")
    return _take_symbology(stripped, warnings)


def _format_of(body: str) -> SourceFormat:
    lowered = body[:8].lower()
    if lowered.startswith("urn:"):
        return "epc_urn"
    if lowered.startswith(("http://", "https://")):
        return "digital_link"
    if body.lstrip(" ").startswith("("):
        return "element_string"
    return "datamatrix"


def _has_letters(code: Code) -> bool:
    texts = [getattr(code, name, None) or "" for name in ("serial", "lot")]
    return any(char.isalpha() for char in "".join(texts))


def _take_symbology(text: str, warnings: list[str]) -> tuple[str | None, str]:
    if not text.startswith("]") or len(text) < 3:
        return None, text
    ident = text[:3]
    known = {**_GS1_MESSAGE_SYMBOLOGIES, **_PLAIN_SYMBOLOGIES}
    if ident not in known and ident.swapcase() in known:
        warnings.append(f"symbology identifier {ident!r} read as {ident.swapcase()!r} (Caps Lock?)")
        ident = ident.swapcase()
    elif ident not in known:
        warnings.append(f"symbology identifier {ident!r} is not a GS1 carrier; ignored it")
    return ident, text[3:]
