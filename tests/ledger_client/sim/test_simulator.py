"""The anomaly simulator on anvil: every injected kind is found with its subject, the regular
traffic raises nothing, and the learned detectors work on a real chain history whose block
times span weeks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.findings import AnomalyConfig, Finding
from ledger_client.audit.lanes import transit_outliers
from ledger_client.audit.learned import quiet_hour_activity, volume_changes
from ledger_client.audit.logs import load_logs
from ledger_client.audit.replay import replay_logs
from ledger_client.audit.scans import read_scans
from ledger_client.sim.calendar import next_monday
from ledger_client.sim.evaluate import evaluate, read_truth, score, table
from ledger_client.sim.plan import DAY, KINDS
from ledger_client.sim.planner import plan
from ledger_client.sim.run import simulate
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate(out, seed=7, packs=600, anomaly_rate=0.05, port=free_port())
    return out


def test_every_kind_is_injected_and_found_with_its_subject(sim: Path) -> None:
    report = evaluate(sim)
    by_kind = {k["kind"]: k for k in report["kinds"]}
    assert set(KINDS) <= set(by_kind)
    for kind in KINDS:
        k = by_kind[kind]
        assert k["injected"] >= 3, kind
        assert (k["tp"], k["fp"], k["fn"]) == (k["injected"], 0, 0), k
    assert report["divergences"] == 0
    assert "NIGHT_ACTIVITY" in table(report)


def test_regular_traffic_alone_raises_no_finding(sim: Path) -> None:
    """Drop every finding whose subject is injected: nothing may remain."""
    model = replay_logs(load_logs(sim / "logs.jsonl").logs).model
    meta = json.loads((sim / "meta.json").read_text())
    truth = read_truth(sim / "truth.jsonl")
    injected = set().union(*truth.values())
    found = detect(
        model,
        Catalogue.load(sim / "catalogue.json"),
        read_scans(sim / "verifications.jsonl"),
        now=meta["now"],
    )
    assert [f for f in found if f.subject.lower() not in injected] == []


def test_history_spans_weeks_of_business_hours_on_chain(sim: Path) -> None:
    model = replay_logs(load_logs(sim / "logs.jsonl").logs).model
    meta = json.loads((sim / "meta.json").read_text())
    times = [e.timestamp for e in model.events if e.contract == "SerialRegistry"]
    assert max(times) - min(times) > 3 * 7 * DAY
    hours = Counter((t % DAY) // 3600 for t in times)
    night = sum(hours[h] for h in range(5))
    assert night == meta["injected_per_kind"]["NIGHT_ACTIVITY"]  # only the injected ones
    weekend = [t for t in times if (t // DAY - 4) % 7 >= 5]
    assert weekend == []


def test_learned_detectors_explain_their_inputs_on_the_chain_history(sim: Path) -> None:
    model = replay_logs(load_logs(sim / "logs.jsonl").logs).model
    cfg = AnomalyConfig()
    truth = read_truth(sim / "truth.jsonl")
    slow = transit_outliers(model, cfg)
    assert {f.subject for f in slow} == truth["TRANSIT_OUTLIER"]
    for f in slow:
        assert f.inputs["samples"] >= cfg.min_lane_samples
        assert f.inputs["delay_hours"] > f.inputs["threshold_hours"] >= cfg.transit_delay_hours
    spikes = volume_changes(model, cfg)
    assert {f.subject.lower() for f in spikes} == truth["VOLUME_SPIKE"]
    assert all(f.inputs["count"] > cfg.volume_ratio * f.inputs["median"] for f in spikes)
    night = quiet_hour_activity(model, cfg)
    assert all(f.inputs["hour"] < 5 for f in night)
    # a stricter spike threshold than the injected size finds nothing: the score is the lever
    assert volume_changes(model, AnomalyConfig(volume_ratio=1000)) == []


def test_matching_counts_same_kind_and_subject_only() -> None:
    truth = {"ROLE_ORDER": {"0xaa", "0xbb"}}
    found = [
        Finding("ROLE_ORDER", "HIGH", "0xAA", "", ""),
        Finding("ROLE_ORDER", "HIGH", "0xcc", "", ""),
        Finding("UNUSUAL_ROUTE", "MEDIUM", "0xbb", "", ""),
    ]
    s = {k.kind: k for k in score(found, truth)}
    assert (s["ROLE_ORDER"].tp, s["ROLE_ORDER"].fp, s["ROLE_ORDER"].fn) == (1, 1, 1)
    assert (s["UNUSUAL_ROUTE"].fp, s["UNUSUAL_ROUTE"].precision) == (1, 0.0)
    assert s["NIGHT_ACTIVITY"].precision == s["NIGHT_ACTIVITY"].recall == 1.0


def test_plan_is_deterministic() -> None:
    start = next_monday(1_700_000_000)
    a, b = plan(3, 300, 0.05, start), plan(3, 300, 0.05, start)
    assert a.actions == b.actions and a.scans == b.scans
    assert [t.as_dict() for t in a.truth] == [t.as_dict() for t in b.truth]
    with pytest.raises(ValueError):
        plan(3, 300, 0.05, start + 3600)
