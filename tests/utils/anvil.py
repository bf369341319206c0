"""A local anvil node for the tests that need a real JSON-RPC node (marked ``anvil``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from web3 import Web3

from ledger_client.dev.anvil import Anvil
from tests.utils.ports import free_port


@contextmanager
def anvil_node(state_dir: Path) -> Iterator[Anvil]:
    """An anvil node on a free port, keeping its state in ``state_dir``; stopped on exit."""
    with Anvil(port=free_port(), state_file=state_dir / "state.json") as node:
        yield node


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    """Call a node's JSON-RPC ``method`` (anvil's ``evm_*``/``anvil_*`` too); its result."""
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method} failed: {response['error']}")
    return response["result"]
