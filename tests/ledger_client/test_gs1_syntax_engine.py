"""GS1's own unit-test cases (gs1/gs1-syntax-engine) run through RxLedger's parsers.

The cases are in tests/data/gs1-syntax-engine/cases.json (origin and licence in SOURCE.md).
Each says what the engine expects; where RxLedger differs on purpose, its ``rxledger``
entry says what RxLedger does and why (also in docs/identifiers.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from biip.gs1_application_identifiers import GS1ApplicationIdentifier

from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import parse_ai_data
from ledger_client.gs1.message import GS

DATA = json.loads(
    (Path(__file__).parents[1] / "data" / "gs1-syntax-engine" / "cases.json").read_text()
)
TODAY = dt.date.fromisoformat(DATA["today"])  # the engine's date linters assume 2021
CASES: list[dict[str, Any]] = DATA["cases"]


def _scanned(case: dict[str, Any]) -> str:
    """The text RxLedger is given: the engine writes FNC1 as ``^`` in its scan data."""
    text: str = case["input"]
    if case["kind"] == "scan_data":
        return text.removeprefix("^").replace("^", GS)
    return text


def _unbracketed(elements: tuple[tuple[str, str], ...]) -> str:
    """AI data the way the engine prints it: ``^`` first and after each variable-length AI."""
    out, separator = "", True
    for ai, value in elements:
        out += ("^" if separator else "") + ai + value
        separator = GS1ApplicationIdentifier.extract(ai).separator_required
    return out


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{n}:{case['input'][:60]}" for n, case in enumerate(CASES)]
)
def test_rxledger_reads_each_gs1_syntax_engine_case_as_expected(case: dict[str, Any]) -> None:
    expected = case.get("rxledger", {}).get("valid", case["valid"])
    try:
        data = parse_ai_data(_scanned(case), today=TODAY, strict=case["mode"] == "strict")
    except InvalidCodeError as exc:
        assert not expected, f"refused: {exc}"
        if case.get("check") == "value":  # a bad value, not a missing or invalid partner AI
            assert "same code" not in str(exc), str(exc)
        return
    assert expected, f"accepted as {data.elements}"
    if "expect" in case and "rxledger" not in case:
        assert _unbracketed(data.elements) == case["expect"]
    if case["mode"] == "scan":
        assert data.warnings, "a repair in scan mode is told"


def test_every_disagreement_with_the_engine_is_on_purpose_and_explained() -> None:
    differing = [case for case in CASES if "rxledger" in case]
    assert all(case["rxledger"]["valid"] != case["valid"] for case in differing)
    assert all(len(case["rxledger"]["why"]) > 20 for case in differing)
    assert len(CASES) >= 400
    assert len(differing) <= len(CASES) // 10
