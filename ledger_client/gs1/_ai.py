"""The GS1 Application Identifier table (from biip) and the names of the ledger's AIs."""

from __future__ import annotations

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier

# The Application Identifiers that make up the ledger's identities.
_NAMES = {
    "00": "SSCC (00)",
    "01": "GTIN (01)",
    "10": "lot number (10)",
    "17": "expiry date (17)",
    "21": "serial number (21)",
}
_CPV = "consumer product variant (22)"


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


def _describe(code: str) -> str:
    """How messages name an AI: ``GTIN (01)`` for the ledger's, ``AI (11) PROD DATE``
    for the others (biip's data title), ``AI (89)`` for one GS1 does not define."""
    if code in _NAMES:
        return _NAMES[code]
    ai = _known_ai(code)
    return f"AI ({code}) {ai.data_title}" if ai is not None else f"AI ({code})"
