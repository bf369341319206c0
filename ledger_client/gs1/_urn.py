"""EPC URN syntax of packs, units and lots (GS1 EPC Tag Data Standard, section 6.3), as read
by :func:`~ledger_client.gs1.parse_code` and written by :func:`~ledger_client.gs1.to_epc_urn`."""

from __future__ import annotations

import re

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1.codes import LotCode, PackCode, UnitCode
from ledger_client.gs1.digital_link import _unquote
from ledger_client.ids import gs1_check_digit, with_check_digit

# Characters of set 82 that an EPC URN escapes (GS1 EPC Tag Data Standard, table A-1).
_URN_ESCAPED = frozenset('"%&/<>?')

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
        return UnitCode(with_check_digit(payload)), len(prefix)
    if len(parts) != 3:
        what = "Serial" if scheme.endswith("sgtin") else "Lot"
        raise InvalidCodeError(
            f"{scheme} needs CompanyPrefix.IndicatorItemReference.{what}, got {body!r}"
        )
    prefix, reference, tail = parts
    _epc_digits(scheme, prefix, reference, 13)
    payload = reference[0] + prefix + reference[1:]
    gtin = with_check_digit(payload)
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
