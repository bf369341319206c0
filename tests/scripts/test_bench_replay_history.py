"""The replay benchmark's history builder gives each pharmacy pack at most one fate at any
size (a dispense batch that ran past the 90% cut once decommissioned packs that were then
destroyed, and the build failed at 132,000 packs), and builds an awkward size on anvil."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from bench_replay import build_history, pharmacy_fates  # noqa: E402

from ledger_client.audit.replay import compare_with_chain, replay_logs  # noqa: E402
from ledger_client.chain import connect  # noqa: E402
from ledger_client.dev.anvil import Anvil  # noqa: E402
from ledger_client.logs import fetch_logs  # noqa: E402
from tests.utils.ports import free_port  # noqa: E402


@given(
    held=st.integers(min_value=0, max_value=3000),
    batch=st.integers(min_value=1, max_value=12),
    flags=st.integers(min_value=0, max_value=300),
)
def test_every_pharmacy_pack_has_at_most_one_fate(held: int, batch: int, flags: int) -> None:
    at_pharmacy = [
        ("pharmacy_a" if k % 3 else "pharmacy_b", k.to_bytes(32, "big")) for k in range(held)
    ]
    fates = pharmacy_fates(at_pharmacy, batch=batch, flags=flags)
    dispensed = [i for b in fates.dispense for _, i in b]
    chosen = dispensed + [i for _, i in fates.destroy] + [i for _, i in fates.flag]
    assert len(chosen) == len(set(chosen))
    assert len(dispensed) == int(held * 0.9)
    assert all(0 < len(b) <= batch for b in fates.dispense)
    assert len(fates.flag) <= flags


@pytest.mark.anvil
def test_a_history_whose_dispensed_share_is_not_a_whole_number_of_batches_builds() -> None:
    # 102 packs -> 4 lots of 26 = 104 held, 90% = 93: the last batch of five would hold 3
    with Anvil(port=free_port(), auto_impersonate=True) as node:
        deployment = build_history(node.url, 102, seed=1)
        w3 = connect(node.url)
        result = replay_logs(fetch_logs(w3, deployment))
        found, counts = compare_with_chain(result.model, w3, deployment)
    assert (found, result.divergences) == ([], [])
    assert counts["packs"] == 104
