"""The soak's verdicts without a soak: the write check finds lost, doubled and misplaced
writes, and the memory trend tells a plateau from steady growth."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from _soak_checks import check_writes  # noqa: E402
from _soak_memory import memory_summary  # noqa: E402
from _soak_traffic import Acks  # noqa: E402

from ledger_client.types import PackStatus  # noqa: E402

A, B, C, D = (bytes([i]) * 32 for i in range(1, 5))
MB = 1024 * 1024


def counts(**kinds: Counter[bytes]) -> dict[str, Counter[bytes]]:
    names = ("dispensed", "undone", "shipped", "received", "anchors")
    return {k: kinds.get(k, Counter()) for k in names}


def test_matching_chain_passes() -> None:
    acks = Acks(dispensed=Counter({A: 2}), undone=Counter({A: 1}), final={A: PackStatus.ACTIVE})
    acks.applied_events[C] = 1
    seen = counts(dispensed=Counter({A: 2}), undone=Counter({A: 1}), anchors=Counter({C: 1}))
    result = check_writes(acks, seen, {A: PackStatus.ACTIVE, B: PackStatus.ACTIVE})
    assert (result["lost"], result["doubled"], result["wrong_final_state"]) == (0, 0, 0)


def test_lost_doubled_and_unacknowledged_writes_and_wrong_states_are_counted() -> None:
    acks = Acks(dispensed=Counter({A: 1, B: 1}), final={A: PackStatus.DECOMMISSIONED})
    acks.final[B] = PackStatus.DECOMMISSIONED
    acks.applied_events[C] = 1
    # A dispensed twice on chain, B never; an event anchored twice; D written though refused
    seen = counts(dispensed=Counter({A: 2, D: 1}), anchors=Counter({C: 2}))
    states = {A: PackStatus.DECOMMISSIONED, B: PackStatus.ACTIVE}
    result = check_writes(acks, seen, states)
    assert result["lost"] == 1
    assert result["doubled"] == 3
    assert result["wrong_final_state"] == 1


def test_packs_of_unknown_outcome_are_left_out() -> None:
    acks = Acks(dispensed=Counter({A: 1}), final={A: PackStatus.DECOMMISSIONED}, unsure={A})
    result = check_writes(acks, counts(), {A: PackStatus.ACTIVE})
    assert (result["lost"], result["wrong_final_state"], result["unsure_packs"]) == (0, 0, 1)


def samples(mb_at: list[float]) -> list[tuple[float, dict[int, dict[str, int]]]]:
    """One sample every 2 s of one process with ``mb_at[i]`` MB private and resident."""
    return [
        (2.0 * i, {7: {"RssAnon": int(v * MB), "VmRSS": int(v * MB), "RssFile": 0}})
        for i, v in enumerate(mb_at)
    ]


def test_memory_that_warms_up_then_stays_flat_has_no_late_slope() -> None:
    series = [100 + min(i, 60) + (0.3 if i % 2 else -0.3) for i in range(300)]
    summary = memory_summary(samples(series), 60, 7)
    assert summary["anon"]["growth_mb"] > 15
    assert abs(summary["anon"]["late_slope_mb_per_min"]) < 0.1
    assert summary["processes"] == 1 and summary["by_process"][0]["role"] == "supervisor"


def test_memory_that_keeps_growing_has_its_rate_as_late_slope() -> None:
    series = [100 + 0.1 * i for i in range(300)]  # 0.1 MB every 2 s
    assert memory_summary(samples(series), 60, 7)["anon"]["late_slope_mb_per_min"] == 3.0
