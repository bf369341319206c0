"""Fixtures for the EPCIS tests."""

from __future__ import annotations

from typing import Any

import pytest
from epcis_files import load_example


@pytest.fixture
def shipping_doc() -> dict[str, Any]:
    return load_example("Example_9.6.1-ObjectEvent.jsonld")
