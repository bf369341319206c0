"""GS1 identifiers: parse what scanners send, validate it, convert it, map it to ledger ids.

One entry point reads any supported text (:func:`parse_code`), four pure functions write a
code in each format (:func:`to_element_string`, :func:`to_datamatrix`,
:func:`to_digital_link`, :func:`to_epc_urn`) and :func:`ids_of` gives the 32-byte ledger id
(layout in :mod:`ledger_client.ids`).

Accepted input (see ``docs/identifiers.md``):

- GS1 element strings in human readable form: ``(01)09506000134352(17)261231(21)S123``;
- GS1 messages as scanners transmit them (DataMatrix, GS1-128, GS1 QR, DataBar), with an
  optional symbology identifier (``]d2``, ``]C1``, ``]Q3``, ``]e0``) and FNC1 separators as
  ASCII 29 or one of the textual stand-ins keyboard-wedge scanners type;
- GS1 Digital Link URIs (uncompressed), any scheme host and path prefix;
- EPC pure identity URNs ``urn:epc:id:sgtin``, ``urn:epc:id:sscc`` and the class URN
  ``urn:epc:class:lgtin`` (GS1 EPC Tag Data Standard, section 6).

biip supplies the Application Identifier table, per-AI value formats and the GS1 Company
Prefix length table. Segmenting raw messages, Digital Link paths and URNs is done here so
that every error can say exactly what is wrong and where, scanner slips can be repaired
where the repair is unambiguous, and dates follow an explicit ``today``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias
from urllib.parse import quote, unquote

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.gtin import Gtin
from biip.sscc import Sscc

from ledger_client.errors import InvalidCodeError
from ledger_client.ids import gs1_check_digit, lot_id, pack_id, unit_id

__all__ = [
    "Code",
    "DigitalLinkKey",
    "LotCode",
    "PackCode",
    "ProductCode",
    "ScanResult",
    "SourceFormat",
    "UnitCode",
    "expiry_to_date",
    "from_epc_urn",
    "ids_of",
    "parse_code",
    "parse_digital_link_path",
    "to_datamatrix",
    "to_digital_link",
    "to_element_string",
    "to_epc_urn",
]

SourceFormat: TypeAlias = Literal["element_string", "datamatrix", "digital_link", "epc_urn"]

GS = "\x1d"
"""ASCII 29, group separator: how scanners transmit the FNC1 field separator."""

# What keyboard-wedge scanners and people type instead of ASCII 29. None of them can be
# part of a GS1 value except "<GS>" (all of "<GS>" is in character set 82); a serial
# really containing "<GS>" is far less likely than a scanner emitting it.
_GS_STAND_INS = ("<GS>", "{GS}", "[GS]", "\\x1d", "\\x1D", "\\u001d", "\\u001D", "\u241d")

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_MAX_SERIAL_OR_LOT = 20

# Characters of set 82 that an EPC URN escapes (GS1 EPC Tag Data Standard, table A-1).
_URN_ESCAPED = frozenset('"%&/<>?')

# Symbology identifiers (ISO/IEC 15424) of carriers whose data is a GS1 message.
_GS1_MESSAGE_SYMBOLOGIES = {"]d2": "GS1 DataMatrix", "]C1": "GS1-128", "]Q3": "GS1 QR Code",
                            "]e0": "GS1 DataBar", "]J1": "GS1 DotCode"}  # fmt: skip
# ... and of carriers whose data may be a plain GS1 Digital Link URI.
_PLAIN_SYMBOLOGIES = {"]d1": "DataMatrix", "]Q1": "QR Code"}

# The Application Identifiers that make up the ledger's identities.
_NAMES = {
    "00": "SSCC (00)",
    "01": "GTIN (01)",
    "10": "lot number (10)",
    "17": "expiry date (17)",
    "21": "serial number (21)",
}
# When a GS separator seems to be missing, a variable-length value is only split in front
# of these AIs: the ones a medicine pack's code carries.
_SPLIT_AIS = ("01", "10", "11", "15", "16", "17", "21")
_MAX_READINGS = 64

# GS1 Digital Link: key qualifiers of (01), in the order the URI syntax requires
# (GS1 Digital Link Standard: URI Syntax 1.4, section 4.4).
_GTIN_QUALIFIERS = ("22", "10", "21", "235")
_CPV = "consumer product variant (22)"
# The key qualifiers a resolver reads, in path order.
_RESOLVED_QUALIFIERS = ("22", "10", "21")
# Short names of the 2018 Digital Link standard, still found in printed codes.
_DL_SHORT_NAMES = {"gtin": "01", "cpv": "22", "lot": "10", "ser": "21", "sscc": "00", "exp": "17"}

_NO_DATE_CHECK = ParseConfig(gs1_element_strings_verify_date=False)


# --------------------------------------------------------------------------------------
# Codes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackCode:
    """A saleable pack: GTIN + serial number, with its lot and expiry when known.

    ``expiry`` is the calendar date (a GS1 day ``00`` means the last day of the month);
    ``expiry_yymmdd`` is the raw value of AI (17), which the chain compares. Give either or
    both; the missing one is derived (a ``date`` gives its exact day, never ``00``).
    """

    gtin: str
    serial: str
    lot: str | None = None
    expiry: dt.date | None = None
    expiry_yymmdd: str | None = None

    def __post_init__(self) -> None:
        _check_gtin(self.gtin)
        _check_text("21", self.serial)
        if self.lot is not None:
            _check_text("10", self.lot)
        if self.expiry_yymmdd is not None:
            if self.expiry is None:
                object.__setattr__(self, "expiry", expiry_to_date(self.expiry_yymmdd))
            elif not _same_expiry(self.expiry, self.expiry_yymmdd):
                raise InvalidCodeError(
                    f"expiry {self.expiry.isoformat()} does not match "
                    f"expiry_yymmdd {self.expiry_yymmdd!r}"
                )
        elif self.expiry is not None:
            object.__setattr__(self, "expiry_yymmdd", self.expiry.strftime("%y%m%d"))


@dataclass(frozen=True)
class UnitCode:
    """A logistic unit (case, pallet) identified by its SSCC."""

    sscc: str

    def __post_init__(self) -> None:
        _check_sscc(self.sscc)


@dataclass(frozen=True)
class LotCode:
    """A lot (batch) of a product: what ``urn:epc:class:lgtin`` names."""

    gtin: str
    lot: str

    def __post_init__(self) -> None:
        _check_gtin(self.gtin)
        _check_text("10", self.lot)


@dataclass(frozen=True)
class ProductCode:
    """A product (trade item) alone: a GTIN with no serial or lot."""

    gtin: str

    def __post_init__(self) -> None:
        _check_gtin(self.gtin)


Code: TypeAlias = PackCode | UnitCode | LotCode | ProductCode


@dataclass(frozen=True)
class ScanResult:
    """What :func:`parse_code` read, from which format, and what it had to repair.

    ``extras`` keeps the (AI, value) pairs that are not part of the ledger identity, in
    the order they were read (e.g. ``("11", "250101")``, national codes such as ``710``).
    ``company_prefix_length`` is known only when the source states it (EPC URNs).
    """

    code: Code
    source_format: SourceFormat
    warnings: tuple[str, ...] = ()
    symbology: str | None = None
    extras: tuple[tuple[str, str], ...] = ()
    company_prefix_length: int | None = None


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------


def expiry_to_date(yymmdd: str, *, today: dt.date | None = None) -> dt.date:
    """Return the date a GS1 YYMMDD value (AI 17 and other date AIs) stands for.

    Day ``00`` means the last day of the month: ``expiry_to_date("261200")`` is
    2026-12-31 (GS1 General Specifications, section 3.4.2 and following).

    The century comes from the sliding window of GS1 General Specifications,
    section 7.12 ("Determination of century in dates"): with ``d = YY - (today's YY)``,
    ``51 <= d <= 99`` is the previous century, ``-99 <= d <= -50`` the next one and anything
    else the current one (so a date is at most 49 years back or 50 years ahead).
    ``today`` defaults to the current UTC date; pass it for deterministic results.

    Raises:
        InvalidCodeError: if the value is not six digits or not a date.
    """
    what = _NAMES["17"]
    if not isinstance(yymmdd, str) or len(yymmdd) != 6 or not yymmdd.isdigit():
        raise InvalidCodeError(f"{what} must be 6 digits YYMMDD, got {yymmdd!r}")
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if not 1 <= month <= 12:
        raise InvalidCodeError(f"{what} {yymmdd}: month {yymmdd[2:4]} is not 01-12")
    if today is None:
        today = dt.datetime.now(tz=dt.UTC).date()
    century = today.year - today.year % 100
    diff = yy - today.year % 100
    if 51 <= diff <= 99:
        century -= 100
    elif -99 <= diff <= -50:
        century += 100
    year = century + yy
    last = calendar.monthrange(year, month)[1]
    if day > last:
        raise InvalidCodeError(
            f"{what} {yymmdd}: day {yymmdd[4:]} is not valid for "
            f"{calendar.month_name[month]} {year} (01-{last:02d}, or 00 for the end of the month)"
        )
    return dt.date(year, month, day or last)


def _same_expiry(date: dt.date, yymmdd: str) -> bool:
    if not isinstance(yymmdd, str) or len(yymmdd) != 6 or not yymmdd.isdigit():
        return False
    if date.strftime("%y%m") != yymmdd[:4]:
        return False
    day = int(yymmdd[4:])
    return date.day == (day or calendar.monthrange(date.year, date.month)[1])


# --------------------------------------------------------------------------------------
# Value checks (precise messages)
# --------------------------------------------------------------------------------------


def _check_digits(ai: str, value: str, length: int) -> str:
    what = _NAMES[ai]
    if not isinstance(value, str):
        raise InvalidCodeError(f"{what} must be a string of {length} digits, got {value!r}")
    for pos, char in enumerate(value, 1):
        if not char.isascii() or not char.isdigit():
            raise InvalidCodeError(
                f"{what} must be {length} digits; found {char!r} at position {pos} in {value!r}"
            )
    if len(value) != length:
        hint = (
            " (pad a GTIN-8/12/13 with leading zeros)"
            if ai == "01" and len(value) in (8, 12, 13)
            else ""
        )
        raise InvalidCodeError(f"{what} must be {length} digits, got {len(value)}: {value!r}{hint}")
    expected = gs1_check_digit(value[:-1])
    if expected != int(value[-1]):
        raise InvalidCodeError(
            f"{what} {value} has a wrong check digit: expected {expected}, found {value[-1]}"
        )
    return value


def _check_gtin(value: str) -> str:
    return _check_digits("01", value, 14)


def _check_sscc(value: str) -> str:
    return _check_digits("00", value, 18)


def _check_text(ai: str, value: str) -> str:
    """Check a serial (21), lot (10) or CPV (22): 1 to 20 characters of GS1 character set 82."""
    what = _NAMES.get(ai) or _CPV
    if not isinstance(value, str):
        raise InvalidCodeError(f"{what} must be a string, got {value!r}")
    if not value:
        raise InvalidCodeError(f"{what} is empty")
    for pos, char in enumerate(value, 1):
        if char not in _CSET82:
            raise InvalidCodeError(
                f"{what} {value!r} contains {char!r} at position {pos}, "
                "which is not in the GS1 character set 82"
            )
    if len(value) > _MAX_SERIAL_OR_LOT:
        raise InvalidCodeError(
            f"{what} {value!r} is {len(value)} characters long; at most "
            f"{_MAX_SERIAL_OR_LOT} are allowed"
        )
    return value


def _check_value(ai: str, value: str, today: dt.date | None) -> None:
    if ai == "01":
        _check_gtin(value)
    elif ai == "00":
        _check_sscc(value)
    elif ai in ("10", "21"):
        _check_text(ai, value)
    elif ai == "17":
        expiry_to_date(value, today=today)


# --------------------------------------------------------------------------------------
# Application Identifier table (from biip)
# --------------------------------------------------------------------------------------


def _known_ai(code: str) -> GS1ApplicationIdentifier | None:
    """Return biip's entry for the AI ``code`` exactly, or None if GS1 defines no such AI."""
    try:
        ai = GS1ApplicationIdentifier.extract(code)
    except ParseError:
        return None
    return ai if ai.ai == code else None


def _fixed_length(ai: GS1ApplicationIdentifier) -> int | None:
    """Data length of an AI of predefined length (no separator needed after it), else None."""
    if ai.separator_required:
        return None
    return sum(int(part[1:]) for part in ai.format.split("+")[1:])


def _is_numeric(ai: GS1ApplicationIdentifier) -> bool:
    return "X" not in ai.format.split("+", 1)[1]


def _check_extra(ai_code: str, value: str) -> str:
    """Check a value of an AI outside the ledger identity; return a warning for it."""
    ai = _known_ai(ai_code)
    if ai is None:
        return f"AI ({ai_code}) is not a GS1 Application Identifier; kept in extras as {value!r}"
    try:
        GS1ElementString.parse(f"{ai_code}{value}", config=_NO_DATE_CHECK)
    except ParseError:
        raise InvalidCodeError(
            f"AI ({ai_code}) {ai.data_title}: {value!r} does not match its format {ai.format}"
        ) from None
    return f"AI ({ai_code}) {ai.data_title} is not used by the ledger; kept in extras"


# --------------------------------------------------------------------------------------
# From (AI, value) pairs to a code
# --------------------------------------------------------------------------------------


@dataclass
class _Built:
    code: Code
    extras: tuple[tuple[str, str], ...]
    warnings: list[str] = field(default_factory=list)


def _build(
    pairs: Sequence[tuple[str, str]], *, today: dt.date | None, require_serial: bool
) -> _Built:
    warnings: list[str] = []
    values: dict[str, str] = {}
    extras: list[tuple[str, str]] = []
    for ai, value in pairs:
        if ai in values:
            if values[ai] != value:
                raise InvalidCodeError(
                    f"AI ({ai}) appears twice with different values: {values[ai]!r} and {value!r}"
                )
            warnings.append(f"AI ({ai}) appears twice with the same value; kept once")
            continue
        values[ai] = value
        if ai in _NAMES:
            _check_value(ai, value, today)
        else:
            warnings.append(_check_extra(ai, value))
            extras.append((ai, value))

    code: Code
    if "00" in values:
        for ai in ("01", "10", "17", "21"):
            if ai in values:
                extras.append((ai, values[ai]))
                warnings.append(f"{_NAMES[ai]} on a logistic unit label; kept in extras")
        code = UnitCode(values["00"])
    elif "01" in values:
        gtin = values["01"]
        if "21" in values:
            yymmdd = values.get("17")
            expiry = expiry_to_date(yymmdd, today=today) if yymmdd else None
            code = PackCode(gtin, values["21"], values.get("10"), expiry, yymmdd)
        elif require_serial:
            found = "".join(f"({ai}){value}" for ai, value in pairs)
            raise InvalidCodeError(
                "missing serial number (21): a pack is identified by GTIN (01) + serial (21); "
                f"found {found}"
            )
        elif "10" in values:
            code = LotCode(gtin, values["10"])
        else:
            code = ProductCode(gtin)
        if not isinstance(code, PackCode) and "17" in values:
            extras.append(("17", values["17"]))
    else:
        found = ", ".join(f"({ai})" for ai, _ in pairs) or "nothing"
        raise InvalidCodeError(f"no GTIN (01) or SSCC (00) found; found {found}")
    return _Built(code, tuple(extras), warnings)


# --------------------------------------------------------------------------------------
# parse_code
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Human readable element strings: (01)...(21)...
# --------------------------------------------------------------------------------------

_HRI_AI = re.compile(r"\(\s*(\d{2,4})\s*\)")


def _hri_pairs(text: str, warnings: list[str]) -> list[tuple[str, str]]:
    parts = _HRI_AI.split(text)
    if parts[0].strip(" "):
        raise InvalidCodeError(f"text before the first (AI): {parts[0]!r}")
    pairs: list[tuple[str, str]] = []
    for ai_code, raw in zip(parts[1::2], parts[2::2], strict=True):
        value = raw.strip(" ")
        ai = _known_ai(ai_code)
        if ai is not None and _is_numeric(ai) and " " in value:
            value = value.replace(" ", "")
            warnings.append(f"removed spaces inside ({ai_code})")
        if not value:
            raise InvalidCodeError(f"AI ({ai_code}) has no value in {text!r}")
        pairs.append((ai_code, value))
    return pairs


# --------------------------------------------------------------------------------------
# GS1 messages as scanners send them: 0109506000134352172612311 0ABC<GS>21S123
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Elem:
    ai: str
    value: str
    how: Literal["", "spaced", "space-separator", "inferred"] = ""


_Reading: TypeAlias = tuple[_Elem, ...]


def _parse_message(
    text: str, warnings: list[str], *, today: dt.date | None, require_serial: bool
) -> _Built:
    message = text
    for stand_in in _GS_STAND_INS:
        if stand_in in message:
            message = message.replace(stand_in, GS)
            warnings.append(f"read {stand_in!r} as the GS (FNC1) separator")
    if message.startswith(GS) or message.endswith(GS):
        message = message.strip(GS)
        warnings.append("removed leading/trailing GS separators")
    if not message:
        raise InvalidCodeError("empty GS1 message")

    readings = _readings(message, 0, {}, today)
    built: list[tuple[_Reading, _Built]] = []
    first_error: InvalidCodeError | None = None
    for reading in readings:
        try:
            pairs = [(e.ai, e.value) for e in reading]
            built.append((reading, _build(pairs, today=today, require_serial=require_serial)))
        except InvalidCodeError as exc:
            first_error = first_error or exc
    natural = [(r, b) for r, b in built if not any(e.how == "inferred" for e in r)]
    inferred = [(r, b) for r, b in built if any(e.how == "inferred" for e in r)]
    if natural:
        reading, result = natural[0]
        others = {_render(r) for r, _ in inferred}
        if others:
            warnings.append(
                f"read as {_render(reading)}; if a GS separator was lost it could also be "
                f"{' or '.join(sorted(others))}"
            )
    elif len({_render(r) for r, _ in inferred}) == 1:
        reading, result = inferred[0]
        for elem in reading:
            if elem.how == "inferred":
                warnings.append(f"inserted a missing GS separator after ({elem.ai}){elem.value}")
    elif inferred:
        options = sorted({_render(r) for r, _ in inferred})
        raise InvalidCodeError(
            "ambiguous GS1 message: a GS separator is missing after a variable-length field "
            f"and the text can be read as {' or as '.join(options[:4])}"
        )
    else:
        assert first_error is not None
        raise first_error
    for elem in reading:
        if elem.how == "spaced":
            warnings.append(f"removed spaces inside ({elem.ai})")
        elif elem.how == "space-separator":
            warnings.append(f"read a space after ({elem.ai}){elem.value} as a GS separator")
    return result


def _render(reading: Iterable[_Elem]) -> str:
    return "".join(f"({e.ai}){e.value}" for e in reading)


def _readings(
    text: str, start: int, memo: dict[int, list[_Reading]], today: dt.date | None
) -> list[_Reading]:
    """All ways to split ``text[start:]`` into element strings; the natural one first.

    The natural reading ends a variable-length field at a GS (or a space, which is never
    part of a GS1 value) or at the end. The others also end it in front of an AI in
    ``_SPLIT_AIS``, as if a GS had been lost there.
    """
    if start in memo:
        return memo[start]
    pos = start
    while pos < len(text) and text[pos] in f" {GS}":
        pos += 1
    if pos == len(text):
        return [()]
    try:
        ai = GS1ApplicationIdentifier.extract(text[pos:])
    except ParseError:
        raise InvalidCodeError(
            f"no GS1 Application Identifier at position {pos + 1}: {text[pos : pos + 12]!r}"
        ) from None
    data = pos + len(ai.ai)
    out: list[_Reading] = []
    length = _fixed_length(ai)
    if length is not None:
        value, end = _take_fixed(text, data, length, ai)
        if ai.ai in _NAMES:
            _check_value(ai.ai, value, today)
        how: Literal["", "spaced"] = "spaced" if end - data != length else ""
        elem = _Elem(ai.ai, value, how)
        out = [(elem, *tail) for tail in _readings(text, end, memo, today)]
    else:
        end = data
        while end < len(text) and text[end] not in f" {GS}":
            end += 1
        error: InvalidCodeError | None = None
        try:
            sep = end < len(text) and text[end] == " "
            elem = _Elem(ai.ai, text[data:end], "space-separator" if sep else "")
            out = [(elem, *tail) for tail in _readings(text, end, memo, today)]
        except InvalidCodeError as exc:
            error = exc
        for split in range(data + 1, end):
            if len(out) >= _MAX_READINGS:
                break
            if not text.startswith(_SPLIT_AIS, split):
                continue
            try:
                tails = _readings(text, split, memo, today)
            except InvalidCodeError:
                continue
            elem = _Elem(ai.ai, text[data:split], "inferred")
            out.extend((elem, *tail) for tail in tails)
        if not out and error is not None:
            raise error
    memo[start] = out[:_MAX_READINGS]
    return memo[start]


def _take_fixed(
    text: str, start: int, length: int, ai: GS1ApplicationIdentifier
) -> tuple[str, int]:
    """Take ``length`` characters of a predefined-length field, skipping spaces."""
    chars: list[str] = []
    pos = start
    while len(chars) < length and pos < len(text) and text[pos] != GS:
        if text[pos] != " ":
            chars.append(text[pos])
        pos += 1
    value = "".join(chars)
    if len(chars) < length:
        what = _NAMES.get(ai.ai, f"AI ({ai.ai})")
        where = "a GS separator" if pos < len(text) else "the end of the text"
        raise InvalidCodeError(
            f"{what} must be {length} digits; {where} came after {len(chars)}: {value!r}"
        )
    return value, pos


# --------------------------------------------------------------------------------------
# GS1 Digital Link URIs
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# EPC URNs (GS1 EPC Tag Data Standard, section 6.3)
# --------------------------------------------------------------------------------------

_EPC = re.compile(r"(urn:epc:(?:id|class|tag|idpat):[a-z0-9-]+):(.*)", re.IGNORECASE)
_EPC_SCHEMES = ("urn:epc:id:sgtin", "urn:epc:id:sscc", "urn:epc:class:lgtin")


def _parse_epc(text: str, warnings: list[str]) -> tuple[PackCode | UnitCode | LotCode, int]:
    match = _EPC.fullmatch(text)
    if match is None:
        raise InvalidCodeError(f"not an EPC URN: {text!r}")
    scheme, body = match[1], match[2]
    if scheme.lower() != scheme:
        warnings.append(f"lower-cased the EPC URN prefix {scheme!r} (Caps Lock?)")
        scheme = scheme.lower()
    if scheme not in _EPC_SCHEMES:
        raise InvalidCodeError(
            f"EPC URN scheme {scheme!r} does not name a pack, logistic unit or lot; "
            f"supported: {', '.join(_EPC_SCHEMES)}"
        )
    parts = body.split(".", 2) if scheme != "urn:epc:id:sscc" else body.split(".", 1)
    if scheme == "urn:epc:id:sscc":
        if len(parts) != 2:
            raise InvalidCodeError(f"{scheme} needs CompanyPrefix.SerialReference, got {body!r}")
        prefix, reference = parts
        _epc_digits(scheme, prefix, reference, 17)
        payload = reference[0] + prefix + reference[1:]
        return UnitCode(payload + str(gs1_check_digit(payload))), len(prefix)
    if len(parts) != 3:
        what = "Serial" if scheme.endswith("sgtin") else "Lot"
        raise InvalidCodeError(
            f"{scheme} needs CompanyPrefix.IndicatorItemReference.{what}, got {body!r}"
        )
    prefix, reference, tail = parts
    _epc_digits(scheme, prefix, reference, 13)
    payload = reference[0] + prefix + reference[1:]
    gtin = payload + str(gs1_check_digit(payload))
    value = _urn_unescape(tail, "serial" if scheme.endswith("sgtin") else "lot")
    if scheme.endswith("sgtin"):
        return PackCode(gtin, value), len(prefix)
    return LotCode(gtin, value), len(prefix)


def _epc_digits(scheme: str, prefix: str, reference: str, total: int) -> None:
    for part, name in ((prefix, "company prefix"), (reference, "reference")):
        if not part.isascii() or not part.isdigit():
            raise InvalidCodeError(f"{scheme}: the {name} must be digits, got {part!r}")
    if not 6 <= len(prefix) <= 12:
        raise InvalidCodeError(
            f"{scheme}: the company prefix has {len(prefix)} digits; GS1 prefixes have 6 to 12"
        )
    digits = prefix + reference
    if len(digits) == total:
        return
    key = "GTIN" if total == 13 else "SSCC"
    message = (
        f"{scheme}: company prefix + reference must have {total} digits "
        f"(the {key} without its check digit), got {len(digits)}"
    )
    if len(digits) == total + 1:
        body = reference[0] + prefix + reference[1:-1]
        expected = gs1_check_digit(body)
        if str(expected) == digits[-1]:
            message += f"; it seems to include the check digit {expected}: drop it"
        else:
            message += (
                f"; if the last digit is a check digit it is wrong: "
                f"expected {expected}, found {digits[-1]}"
            )
    raise InvalidCodeError(message)


def _urn_unescape(text: str, what: str) -> str:
    return _unquote(text, f"the EPC URN {what}")


def _urn_escape(text: str) -> str:
    return "".join(f"%{ord(char):02X}" if char in _URN_ESCAPED else char for char in text)


def from_epc_urn(urn: str) -> PackCode | UnitCode | LotCode:
    """Read an ``sgtin``/``sscc`` EPC pure identity URN or an ``lgtin`` class URN.

    The serial or lot is percent-decoded as the GS1 EPC Tag Data Standard prescribes.

    Raises:
        InvalidCodeError: if it is not one of these URNs or is malformed.
    """
    code, _ = _parse_epc(urn.strip(), [])
    return code


# --------------------------------------------------------------------------------------
# Writing codes
# --------------------------------------------------------------------------------------


def _elements(code: Code) -> list[tuple[str, str]]:
    """(AI, value) pairs of ``code``: fixed-length AIs first, then lot, then serial."""
    if isinstance(code, UnitCode):
        return [("00", code.sscc)]
    pairs = [("01", code.gtin)]
    if isinstance(code, PackCode) and code.expiry_yymmdd is not None:
        pairs.append(("17", code.expiry_yymmdd))
    lot = getattr(code, "lot", None)
    if lot is not None:
        pairs.append(("10", lot))
    if isinstance(code, PackCode):
        pairs.append(("21", code.serial))
    return pairs


def to_element_string(code: Code) -> str:
    """Return the human readable element string, e.g. ``(01)09506000134352(21)S123``."""
    return "".join(f"({ai}){value}" for ai, value in _elements(code))


def to_datamatrix(code: Code) -> str:
    """Return the GS1 message a GS1 DataMatrix would carry, without symbology identifier.

    Predefined-length fields (01, 17) come first; variable-length fields (lot, serial)
    follow, each but the last ended by a GS (ASCII 29).
    """
    parts: list[str] = []
    for ai, value in _elements(code):
        parts.append(f"{ai}{value}")
        if ai in ("10", "21"):
            parts.append(GS)
    return "".join(parts).removesuffix(GS)


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


def ids_of(code: Code) -> bytes:
    """Return the 32-byte ledger id: packId, unitId or lotId (see :mod:`ledger_client.ids`).

    Raises:
        InvalidCodeError: for a :class:`ProductCode`, which has no ledger id.
    """
    if isinstance(code, PackCode):
        return pack_id(code.gtin, code.serial)
    if isinstance(code, UnitCode):
        return unit_id(code.sscc)
    if isinstance(code, LotCode):
        return lot_id(code.gtin, code.lot)
    raise InvalidCodeError(
        f"a bare GTIN {code.gtin} has no ledger id; the ledger tracks packs, units and lots"
    )
