"""Reading any supported GS1 code: :func:`parse_code`."""

from __future__ import annotations

import datetime as dt

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._pairs import _build
from ledger_client.gs1._urn import _parse_epc
from ledger_client.gs1.codes import Code, ScanResult, SourceFormat
from ledger_client.gs1.digital_link import _digital_link_pairs
from ledger_client.gs1.message import _hri_pairs, _parse_message

__all__ = ["parse_code"]

# Symbology identifiers (ISO/IEC 15424) of carriers whose data is a GS1 message.
_GS1_MESSAGE_SYMBOLOGIES = {"]d2": "GS1 DataMatrix", "]C1": "GS1-128", "]Q3": "GS1 QR Code",
                            "]e0": "GS1 DataBar", "]J1": "GS1 DotCode"}  # fmt: skip
# ... and of carriers whose data may be a plain GS1 Digital Link URI.
_PLAIN_SYMBOLOGIES = {"]d1": "DataMatrix", "]Q1": "QR Code"}


def parse_code(
    text: str, *, today: dt.date | None = None, require_serial: bool = True
) -> ScanResult:
    """Read a scanned or typed GS1 code in any supported format.

    Scanner slips are repaired only where the result is unambiguous, and each repair is
    reported in ``ScanResult.warnings``: surrounding whitespace, spaces inside numeric
    fields, textual GS stand-ins (``<GS>``, ``{GS}``, ``\\x1d``), upper-case URI scheme,
    host or URN prefix (Caps Lock), a lost GS separator when exactly one reading makes a
    valid code. Serial numbers and lots are case-sensitive and are never changed.

    Args:
        text: what the scanner sent.
        today: reference date for the GS1 century rule (see :func:`expiry_to_date`).
        require_serial: if False, a GTIN without serial gives a :class:`LotCode` (with a
            lot) or a :class:`ProductCode` instead of an error.

    Raises:
        InvalidCodeError: with what is wrong and where, if the text is not a valid code or
            can be read in more than one way.
    """
    if not isinstance(text, str):
        raise InvalidCodeError(f"expected the scanned text as str, got {type(text).__name__}")
    warnings: list[str] = []
    stripped = text.strip(" \t\r\n\v\f")
    if stripped != text:
        warnings.append("removed surrounding whitespace")
    if not stripped:
        raise InvalidCodeError("empty scan: no text to read")

    symbology, body = _take_symbology(stripped, warnings)
    lowered = body[:8].lower()
    extras: tuple[tuple[str, str], ...] = ()
    cp_len = None
    fmt: SourceFormat
    code: Code
    if lowered.startswith("urn:"):
        code, cp_len = _parse_epc(body, warnings)
        fmt = "epc_urn"
    else:
        if lowered.startswith(("http://", "https://")):
            fmt = "digital_link"
            pairs = _digital_link_pairs(body, warnings)
            built = _build(pairs, today=today, require_serial=require_serial)
        elif body.lstrip(" ").startswith("("):
            fmt = "element_string"
            built = _build(_hri_pairs(body, warnings), today=today, require_serial=require_serial)
        else:
            fmt = "datamatrix"
            built = _parse_message(body, warnings, today=today, require_serial=require_serial)
        code, extras = built.code, built.extras
        warnings.extend(built.warnings)
    if any("Caps Lock" in w for w in warnings) and _has_letters(code):
        warnings.append(
            "serial and lot are case-sensitive and were kept exactly as scanned; "
            "if Caps Lock inverted them the code will not verify"
        )
    return ScanResult(code, fmt, tuple(warnings), symbology, extras, cp_len)


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
