"""Fixtures of the auditor's tests: the scenario's logs, fetched once per module, and the
registry model replayed from them."""

from __future__ import annotations

import pytest

from ledger_client.audit import RegistryModel, fetch_logs, replay_logs
from tests.utils.audit_scenario import Scenario


@pytest.fixture(scope="module")
def logs(scenario: Scenario) -> list:
    return fetch_logs(scenario.w3, scenario.net.deployment)


@pytest.fixture(scope="module")
def model(logs: list) -> RegistryModel:
    return replay_logs(logs).model
