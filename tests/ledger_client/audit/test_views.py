"""The auditor's batched reads of the registry's views, on a real JSON-RPC node."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_client.audit.views import call_data, eth_calls
from ledger_client.chain import connect
from ledger_client.devnet import deploy_devnet
from tests.utils.anvil import anvil_node

pytestmark = pytest.mark.anvil


def test_many_large_view_calls_are_sent_in_batches_the_node_accepts(tmp_path: Path) -> None:
    """200 ``packStates`` calls of 500 ids (3.2 MB of calldata) in one HTTP batch were refused
    by anvil as a whole ("Invalid request"); split by size, every call gets its answer."""
    with anvil_node(tmp_path) as node:
        w3 = connect(node.url)
        registry = deploy_devnet(w3).deployment.registry
        calls = [
            call_data("packStates(bytes32[])", [i.to_bytes(2, "big") * 16] * 500)
            for i in range(200)
        ]
        out = eth_calls(w3, registry, calls, "latest")
    assert len(out) == 200
    # each answer is an ABI array of 500 PackViews (offset, length, then 500 x 14 words)
    assert {len(o) for o in out} == {32 * (2 + 500 * 14)}
