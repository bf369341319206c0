"""Between (AI, value) pairs and codes: which pairs make which code, and back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1._ai import _NAMES, _describe
from ledger_client.gs1._rules import _check_associations
from ledger_client.gs1._values import _check_extra, _check_value
from ledger_client.gs1.codes import Code, LotCode, PackCode, ProductCode, UnitCode
from ledger_client.gs1.dates import expiry_to_date


@dataclass
class _Built:
    code: Code
    extras: tuple[tuple[str, str], ...]
    warnings: list[str] = field(default_factory=list)


def _checked(
    pairs: Sequence[tuple[str, str]], warnings: list[str], *, today: dt.date | None
) -> dict[str, str]:
    """Check every value; return AI -> value, an AI repeated with its value kept once.

    Raises:
        InvalidCodeError: for a bad value, an AI GS1 does not define, or an AI repeated with
            another value.
    """
    values: dict[str, str] = {}
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
            _check_extra(ai, value, today)
    return values


def _check_ai_data(
    pairs: Sequence[tuple[str, str]], warnings: list[str], *, today: dt.date | None
) -> dict[str, str]:
    """:func:`_checked`, then the associations between the AIs (GS1 General Specifications
    4.14): the checks of AI data, whatever code it names."""
    values = _checked(pairs, warnings, today=today)
    _check_associations(list(values), _describe)
    return values


def _build(
    pairs: Sequence[tuple[str, str]], *, today: dt.date | None, require_serial: bool
) -> _Built:
    warnings: list[str] = []
    values = _checked(pairs, warnings, today=today)
    extras = [(ai, value) for ai, value in values.items() if ai not in _NAMES]
    for ai, _ in extras:
        warnings.append(f"{_describe(ai)} is not used by the ledger; kept in extras")

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
    _check_associations(list(values), _describe)
    return _Built(code, tuple(extras), warnings)


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
