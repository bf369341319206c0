"""A local anvil node for the tests that need a real JSON-RPC node (marked ``anvil``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger_client.dev.anvil import Anvil
from tests.utils.ports import free_port


@contextmanager
def anvil_node(state_dir: Path) -> Iterator[Anvil]:
    """An anvil node on a free port, keeping its state in ``state_dir``; stopped on exit."""
    with Anvil(port=free_port(), state_file=state_dir / "state.json") as node:
        yield node
