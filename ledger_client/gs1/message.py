"""GS1 element strings: human readable ``(01)…(21)…`` and GS1 messages as scanners send them.

A message such as ``0109506000134352172612311 0ABC<GS>21S123`` is split into element
strings here, repairing a lost GS separator only where exactly one reading makes a code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypeVar

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _NAMES, _fixed_length, _is_numeric, _known_ai
from ledger_client.gs1._pairs import _elements
from ledger_client.gs1._values import _check_value
from ledger_client.gs1.codes import Code

__all__ = ["GS", "to_datamatrix", "to_element_string"]

GS = "\x1d"
"""ASCII 29, group separator: how scanners transmit the FNC1 field separator."""

# What keyboard-wedge scanners and people type instead of ASCII 29. None of them can be
# part of a GS1 value except "<GS>" (all of "<GS>" is in character set 82); a serial
# really containing "<GS>" is far less likely than a scanner emitting it.
_GS_STAND_INS = ("<GS>", "{GS}", "[GS]", "\\x1d", "\\x1D", "\\u001d", "\\u001D", "\u241d")

# When a GS separator seems to be missing, a variable-length value is only split in front
# of these AIs: the ones a medicine pack's code carries.
_SPLIT_AIS = ("01", "10", "11", "15", "16", "17", "21")
_MAX_READINGS = 64

_HRI_AI = re.compile(r"\(\s*(\d{2,4})\s*\)")
_T = TypeVar("_T")


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


@dataclass(frozen=True)
class _Elem:
    ai: str
    value: str
    how: Literal["", "spaced", "space-separator", "inferred"] = ""


_Reading: TypeAlias = tuple[_Elem, ...]


def _parse_message(
    text: str,
    warnings: list[str],
    *,
    today: dt.date | None,
    accept: Callable[[list[tuple[str, str]]], _T],
) -> _T:
    """Split a GS1 message into element strings and return what ``accept`` makes of them.

    ``accept`` raises :class:`InvalidCodeError` for pairs it cannot use; when a separator
    seems lost, the reading it accepts is chosen as :func:`_readings` explains.
    """
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
    built: list[tuple[_Reading, _T]] = []
    first_error: InvalidCodeError | None = None
    for reading in readings:
        try:
            built.append((reading, accept([(e.ai, e.value) for e in reading])))
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
