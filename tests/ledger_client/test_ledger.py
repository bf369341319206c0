"""The Ledger's batching: writes split into chunks, each chunk reported as it is done."""

from __future__ import annotations

from web3 import Web3

from ledger_client.devnet import DevNetwork
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason, PackStatus
from tests.utils.factories import EXPIRY, GTIN, serials


def test_batched_writes_report_each_chunk_to_progress(w3: Web3, net: DevNetwork) -> None:
    maker = Ledger(w3, net.deployment, net["manufacturer"].account, batch_size=2)
    maker.register_lot(GTIN, "LOT1", EXPIRY)
    done: list[int] = []
    receipts = maker.commission(GTIN, "LOT1", serials(5), progress=done.append)
    assert (done, len(receipts)) == ([2, 2, 1], 3)
    done.clear()
    packs = [(GTIN, s) for s in serials(5)]
    maker.decommission(packs, DecommissionReason.DESTROYED, progress=done.append)
    assert done == [2, 2, 1]
    assert maker.pack_state(GTIN, "S5").status == PackStatus.DECOMMISSIONED


def test_chunks_already_done_count_as_progress_without_a_transaction(
    w3: Web3, net: DevNetwork
) -> None:
    maker = Ledger(w3, net.deployment, net["manufacturer"].account, batch_size=2)
    maker.register_lot(GTIN, "LOT1", EXPIRY)
    maker.commission(GTIN, "LOT1", serials(2))
    done: list[int] = []
    receipts = maker.commission(GTIN, "LOT1", serials(3), skip_done=True, progress=done.append)
    assert (done, len(receipts)) == ([2, 1], 1)
