"""Replay of the scenario's history: zero divergences, tampering detected."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ledger_client.audit import (
    LogFileError,
    audit,
    compare_with_chain,
    export_logs,
    load_logs,
    replay_logs,
)
from ledger_client.events import PacksCommissioned, decode
from tests.utils.audit_scenario import GTIN_A, GTIN_B, Scenario, pid


def test_honest_history_replays_with_zero_divergences(scenario: Scenario, logs: list) -> None:
    result = replay_logs(logs)
    found, counts = compare_with_chain(result.model, scenario.w3, scenario.net.deployment)
    assert result.divergences == [] and found == []
    assert counts == {"packs": 311, "units": 8, "lots": 6, "exceptions": 3}
    summary = result.summary()
    assert summary["events"] == len(logs) and summary["packs"] == 311
    assert summary["pack_operations"] >= 311 * 2
    # the access grants' events are read and decoded too; they change no rule's state
    assert {"AccessGranted", "AccessRevoked"} <= {e.name for e in result.model.events}


def test_export_then_offline_replay_matches_chain(
    scenario: Scenario, logs: list, tmp_path: Path
) -> None:
    path = tmp_path / "logs.jsonl"
    assert export_logs(logs, scenario.net.deployment, path, scenario.w3.eth.block_number) == len(
        logs
    )
    export = load_logs(path)
    assert export.logs == logs and export.deployment == scenario.net.deployment
    result = audit(scenario.w3, log_file=path)
    assert result.divergences == [] and result.compared["packs"] == 311


def _drop(logs: list, path: Path, scenario: Scenario, which: int) -> Path:
    export_logs([g for i, g in enumerate(logs) if i != which], scenario.net.deployment, path)
    return path


def test_dropped_receive_log_is_reported_as_divergence(
    scenario: Scenario, logs: list, tmp_path: Path
) -> None:
    events = decode(logs)
    recv = next(i for i, e in enumerate(events) if e.tx_hash == scenario.tx["recv_pa"])
    result = audit(scenario.w3, log_file=_drop(logs, tmp_path / "l.jsonl", scenario, recv))
    kinds = {d.kind for d in result.divergences}
    assert {"PACK_STATE", "IMPOSSIBLE_EVENT"} <= kinds
    moved = {
        "0x" + pid(GTIN_A, s).hex()
        for s in scenario.case_serials[list(scenario.case_serials)[1]][:10]
    }
    state = [d for d in result.divergences if d.kind == "PACK_STATE"]
    # packs the pharmacy dispensed or returned re-converge; the rest differ
    assert {d.subject for d in state} == moved - {
        "0x" + pid(GTIN_A, s).hex() for s in [*scenario.dispensed, scenario.returned]
    }
    rules = {d.fields["rule"]["model"] for d in result.divergences if d.kind == "IMPOSSIBLE_EVENT"}
    assert "NotCustodian" in rules  # the pharmacy dispensed packs the model says are in transit
    sample = state[0].as_dict()
    assert sample["fields"]["in_transit"] == {"model": True, "chain": False}
    assert sample["evidence"][-1]["tx"].startswith("0x")


def test_tampered_recipient_is_reported(scenario: Scenario, logs: list, tmp_path: Path) -> None:
    events = decode(logs)
    ship = next(i for i, e in enumerate(events) if e.tx_hash == scenario.tx["ship_pa"])
    fake = bytes(12) + bytes.fromhex(scenario.addr("pharmacy_b")[2:])
    tampered = list(logs)
    g = tampered[ship]
    tampered[ship] = dataclasses.replace(g, topics=(*g.topics[:2], fake))
    result = replay_logs(tampered)
    found, _ = compare_with_chain(result.model, scenario.w3, scenario.net.deployment)
    assert any(d.fields["rule"]["model"] == "NotRecipient" for d in result.divergences)
    assert found == []  # the model re-converges after the receive, but the lie is still reported


def test_missing_commission_names_unknown_packs_found_on_chain(
    scenario: Scenario, logs: list
) -> None:
    events = decode(logs)
    first = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, PacksCommissioned) and e.unit_id == bytes(32)
    )
    result = replay_logs([g for i, g in enumerate(logs) if i != first])
    found, _ = compare_with_chain(result.model, scenario.w3, scenario.net.deployment)
    loose = "0x" + pid(GTIN_B, scenario.loose_serials[0]).hex()
    assert any(d.kind == "PACK_STATE" and d.subject == loose for d in found)
    assert any(d.fields.get("rule", {}).get("model") == "UnknownPack" for d in result.divergences)


def test_malformed_log_file_is_refused_with_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"kind": "something-else"}) + "\n")
    with pytest.raises(LogFileError, match="not an RxLedger log export"):
        load_logs(path)
    path.write_text(
        json.dumps(
            {
                "kind": "rxledger-log-export",
                "version": 1,
                "deployment": {
                    "chain_id": 1,
                    "forwarder": "0x",
                    "consortium": "0x",
                    "directory": "0x",
                    "registry": "0x",
                    "grants": "0x",
                    "exceptions": "0x",
                    "block": 0,
                    "members": {},
                },
            }
        )
        + "\n{oops\n"
    )
    with pytest.raises(LogFileError, match=r"bad.jsonl:2"):
        load_logs(path)


def test_a_tampered_lot_tag_is_reported_against_the_chain(scenario: Scenario, logs: list) -> None:
    events = decode(logs)
    first = next(i for i, e in enumerate(events) if isinstance(e, PacksCommissioned))
    event, log = events[first], logs[first]
    assert isinstance(event, PacksCommissioned)
    at = log.data.rindex(event.lot_tags)
    forged = bytes([log.data[at] ^ 0xFF])
    tampered = list(logs)
    tampered[first] = dataclasses.replace(log, data=log.data[:at] + forged + log.data[at + 1 :])
    found, _ = compare_with_chain(replay_logs(tampered).model, scenario.w3, scenario.net.deployment)
    [divergence] = found
    chain_tag = event.lot_tags[:3]
    assert divergence.subject == "0x" + event.pack_ids[0].hex()
    assert divergence.kind == "PACK_STATE" and set(divergence.fields) == {"lot_tag"}
    assert divergence.fields["lot_tag"]["chain"] == "0x" + chain_tag.hex()
