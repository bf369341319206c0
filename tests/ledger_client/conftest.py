"""Fixtures of the library tests: one scenario history shared by the whole session."""

from __future__ import annotations

import pytest

from tests.utils.audit_scenario import Scenario, build_scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return build_scenario()
