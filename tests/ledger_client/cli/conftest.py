"""Fixtures of the CLI tests that run against a node: one anvil per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger_client.dev.anvil import Anvil
from tests.utils.anvil import anvil_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    with anvil_node(tmp_path_factory.mktemp("anvil")) as anvil:
        yield anvil
