"""Where the EPCIS test files live: GS1's shared ones in X/shared/epcis beside the repository
X/main, partner files in tests/data/partner-files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "epcis"
EXAMPLES = SHARED / "examples"
DSCSA = SHARED / "dscsa-1.2"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.jsonld"))
# GS1's EPCIS 1.2 XML examples (tests/data/gs1-epcis-1.2/SOURCE.md)
GS1_12 = Path(__file__).resolve().parents[2] / "data" / "gs1-epcis-1.2"
#: Partner files with tolerated flaws (tests/data/partner-files/SOURCE.md).
PARTNER_FILES = Path(__file__).resolve().parents[2] / "data" / "partner-files"


def load_example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def gs1_12_xml(name: str) -> bytes:
    return (GS1_12 / f"{name}.xml").read_bytes()


def dscsa_xml(name: str) -> bytes:
    return (DSCSA / f"epcis_1.2.{name}.xml").read_bytes()
