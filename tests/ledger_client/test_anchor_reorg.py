"""The capture's anchor index after a fork is undone, on a real anvil node: the blocks that
anchored a document's events are reverted and other blocks mined at their heights. The
index forgets those anchors, so capturing the document again writes it again instead of
skipping its events as already on chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from web3 import Web3

from ledger_client.chain import connect
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.capture import capture_document
from ledger_client.epcis.export import operations_to_events, to_epcis_json
from ledger_client.epcis.operations import Commission, RegisterLot
from ledger_client.epcis.store import EventStore
from ledger_client.types import LotStatus
from tests.utils.anvil import rpc
from tests.utils.factories import GTIN
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
LOT = "ANCHOR1"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Web3, DevNetwork]]:
    with Anvil(port=free_port()) as node:
        w3 = connect(node.url)
        yield w3, deploy_devnet(w3)


def _document() -> dict[str, Any]:
    events = operations_to_events(
        [RegisterLot(GTIN, LOT, date(2031, 6, 30))], event_time="2025-01-01T00:00:00Z"
    ) + operations_to_events(
        [Commission(GTIN, LOT, ("A1", "A2"))], event_time="2025-01-01T00:01:00Z"
    )
    return to_epcis_json(events, creation_date="2025-01-01T00:00:00Z")


@pytest.mark.parametrize("read_back", [False, True], ids=["from-receipts", "read-from-chain"])
def test_anchors_orphaned_by_a_reorg_are_forgotten_and_the_document_is_written_again(
    deployed: tuple[Web3, DevNetwork], read_back: bool
) -> None:
    """``from-receipts``: the anchors were recorded from the write's receipts only (above the
    index's cursor); ``read-from-chain``: a refresh read them, so the cursor's block is one
    of the orphaned blocks."""
    w3, net = deployed
    maker = net["manufacturer"]
    snap = rpc(w3, "evm_snapshot")
    anchors = AnchorIndex.load(w3, net.deployment)
    with EventStore() as store:
        fork = rpc(w3, "evm_snapshot")
        _, first = capture_document(maker, _document(), store, anchors=anchors)
        assert [e.status for e in first.events] == ["applied", "applied"]
        if read_back:
            anchors.refresh(w3, net.deployment)
        assert rpc(w3, "evm_revert", fork)
        rpc(w3, "anvil_mine", hex(3))  # the other side's blocks, past the orphaned ones
        _, again = capture_document(maker, _document(), store, anchors=anchors)
        _, third = capture_document(maker, _document(), store, anchors=anchors)
    assert [e.status for e in again.events] == ["applied", "applied"]
    assert [e.status for e in third.events] == ["skipped", "skipped"]
    assert maker.lot_state(GTIN, LOT).status is LotStatus.ACTIVE
    assert rpc(w3, "evm_revert", snap)
