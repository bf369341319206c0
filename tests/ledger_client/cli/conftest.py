"""Fixtures of the CLI tests that run against a node: one anvil per test module, and the
deployment file of the module's ``net`` fixture (the demo network it built there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork
from tests.utils.anvil import anvil_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    with anvil_node(tmp_path_factory.mktemp("anvil")) as anvil:
        yield anvil


@pytest.fixture(scope="module")
def deployment(net: DevNetwork, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dep") / "deployment.json"
    net.deployment.save(path)
    return path
