"""The GS1 Application Identifier table (from biip) and the names of the ledger's AIs."""

from __future__ import annotations

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from ledger_client.errors import InvalidCodeError

# The Application Identifiers that make up the ledger's identities.
_NAMES = {
    "00": "SSCC (00)",
    "01": "GTIN (01)",
    "10": "lot number (10)",
    "17": "expiry date (17)",
    "21": "serial number (21)",
}
_CPV = "consumer product variant (22)"

_NO_DATE_CHECK = ParseConfig(gs1_element_strings_verify_date=False)


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
