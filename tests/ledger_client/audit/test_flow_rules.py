"""The flow- and custody-aware rules on a real chain (the flows scenario): each legitimate
flow raises nothing, the incident beside it raises its finding."""

from __future__ import annotations

import pytest

from ledger_client.audit import RegistryModel, fetch_logs, replay_logs
from ledger_client.audit.alerts import shortage, stock_on_hand
from ledger_client.audit.anomalies import detect
from ledger_client.audit.findings import Finding
from ledger_client.audit.flows import shipped_packs
from ledger_client.events import ItemsReceived
from tests.utils.flows_scenario import GTIN, Flows, build_flows


@pytest.fixture(scope="module")
def flows() -> Flows:
    with pytest.warns(Warning):  # the scenario's serials are a counter, on purpose
        return build_flows()


@pytest.fixture(scope="module")
def model(flows: Flows) -> RegistryModel:
    replayed = replay_logs(fetch_logs(flows.w3, flows.deployment))
    assert replayed.model.violations == []
    return replayed.model


@pytest.fixture(scope="module")
def found(flows: Flows, model: RegistryModel) -> list[Finding]:
    return detect(model, flows.catalogue(), flows.scans, now=flows.now())


def _on(flows: Flows, found: list[Finding], *keys: str) -> dict[str, set[str]]:
    """Kinds of the findings on the named transactions."""
    subjects = {"0x" + flows.tx[k].hex(): k for k in keys}
    out: dict[str, set[str]] = {}
    for f in found:
        if f.subject in subjects:
            out.setdefault(subjects[f.subject], set()).add(f.kind)
    return out


def _pack(model: RegistryModel, serial: str) -> str:
    return "0x" + model.pack_id(GTIN, serial).hex()


def _kinds_of(found: list[Finding], subject: str) -> set[str]:
    return {f.kind for f in found if f.subject == subject}


def test_expired_stock_goes_to_the_reverse_distributor_unflagged_not_to_a_pharmacy(
    flows: Flows, found: list[Finding]
) -> None:
    assert _on(flows, found, "expired_to_returns", "expired_to_pharmacy", "to_wa") == {
        "expired_to_pharmacy": {"EXPIRED_MOVING"}
    }
    (ship,) = [f for f in found if f.subject == "0x" + flows.tx["expired_to_pharmacy"].hex()]
    assert "wholesaler_a" in ship.seen and "pharmacy_a" in ship.seen
    assert "reverse distributor" in ship.threshold


def test_recalled_stock_returns_unflagged_and_shipped_to_a_pharmacy_is_recalled_shipped(
    flows: Flows, found: list[Finding]
) -> None:
    keys = ("recalled_to_returns", "recalled_to_maker", "recalled_to_pharmacy")
    assert _on(flows, found, *keys) == {"recalled_to_pharmacy": {"RECALLED_SHIPPED"}}
    (f,) = [f for f in found if f.kind == "RECALLED_SHIPPED"]
    assert "lot recalled" in f.seen and f.evidence[0]["to_name"] == "pharmacy_b"


def test_a_reverse_distributor_ships_only_to_the_maker(flows: Flows, found: list[Finding]) -> None:
    assert _on(flows, found, "recalled_to_maker", "returns_onward", "damaged_to_returns") == {
        "returns_onward": {"ROLE_ORDER"}
    }


def test_a_transfer_for_a_patient_passes_and_a_pharmacy_trading_onward_is_role_order(
    flows: Flows, found: list[Finding]
) -> None:
    keys = ("patient_transfer", "pc_transfer_1", "pc_transfer_2", "pc_transfer_3")
    assert _on(flows, found, *keys) == {
        "pc_transfer_2": {"ROLE_ORDER"},  # 6 packs to other dispensers against 2 dispensed
        "pc_transfer_3": {"ROLE_ORDER"},
    }
    f = next(f for f in found if f.subject == "0x" + flows.tx["pc_transfer_2"].hex())
    assert f.inputs == {"packs": 3, "transferred_packs": 6, "dispensed_packs": 2, "allowed": 5}
    assert "5%" in f.threshold and "30 days" in f.threshold and "at most 3 packs" in f.threshold


def test_a_secondary_wholesaler_and_stock_balancing_raise_nothing(
    flows: Flows, found: list[Finding]
) -> None:
    assert _on(flows, found, "secondary", "balancing", "wb_to_pb", "wa_to_pa") == {}


def test_a_saleable_return_verified_and_resold_is_not_two_places(
    model: RegistryModel, found: list[Finding]
) -> None:
    assert _kinds_of(found, _pack(model, "N005")) == set()


def test_a_rescan_at_the_counter_and_an_undo_within_minutes_are_no_finding_a_clone_is(
    model: RegistryModel, found: list[Finding]
) -> None:
    assert _kinds_of(found, _pack(model, "N001")) == set()
    assert _kinds_of(found, _pack(model, "N002")) == {"DECOMMISSIONED_VERIFIED"}  # 3 days on
    (f,) = [f for f in found if f.subject == _pack(model, "N002")]
    assert [e["location_name"] for e in f.evidence if e["type"] == "scan"] == ["pharmacy_b"]


def test_scans_at_two_places_three_days_apart_are_verified_two_places(
    model: RegistryModel, found: list[Finding]
) -> None:
    assert _kinds_of(found, _pack(model, "N003")) == {"VERIFIED_TWO_PLACES", "SCAN_WITHOUT_CUSTODY"}
    (f,) = [
        f for f in found if f.subject == _pack(model, "N003") and f.kind == "VERIFIED_TWO_PLACES"
    ]
    assert f.inputs["hours_apart"] > 48
    assert "beyond 48 h" in f.seen and "held by pharmacy_a" in f.seen


def test_a_scan_where_the_pack_never_went_is_scan_without_custody(
    model: RegistryModel, found: list[Finding]
) -> None:
    (f,) = [f for f in found if f.subject == _pack(model, "N055")]
    assert f.kind == "SCAN_WITHOUT_CUSTODY" and "held by wholesaler_a" in f.seen
    assert [e["type"] for e in f.evidence] == ["scan", "transaction"]


def test_a_serial_never_commissioned_is_an_uncommissioned_scan(
    model: RegistryModel, found: list[Finding]
) -> None:
    (f,) = [f for f in found if f.subject == _pack(model, "FAKE001")]
    assert f.kind == "UNCOMMISSIONED_SCAN" and f.severity == "CRITICAL"
    assert "pharmacy_b" in f.seen and f.evidence[0]["serial"] == "FAKE001"


def test_the_scenario_raises_its_incidents_and_nothing_else(
    flows: Flows, model: RegistryModel, found: list[Finding]
) -> None:
    incidents = {"expired_to_pharmacy", "recalled_to_pharmacy", "returns_onward"}
    incidents |= {"pc_transfer_2", "pc_transfer_3"}
    expected = {"0x" + flows.tx[k].hex() for k in incidents}
    expected |= {_pack(model, s) for s in ("N002", "N003", "N055", "FAKE001")}
    expired = model.pack_id(GTIN, "X002")
    expected |= {
        "0x" + e.tx_hash.hex()
        for e in model.events
        if isinstance(e, ItemsReceived)
        and expired in e.pack_ids
        and e.by == flows.addr("pharmacy_a")  # the pharmacy's receipt, after the expiry
    }
    assert {f.subject for f in found} == expected


def test_a_reverse_distributor_s_stock_is_no_alternative_supplier(
    flows: Flows, model: RegistryModel
) -> None:
    catalogue = flows.catalogue()
    returns = flows.addr("returns")
    assert stock_on_hand(model, catalogue, flows.now())[(returns, GTIN)] == 1
    signals = shortage(model, catalogue, flows.now(), alerts_only=False)
    assert signals
    for s in signals:
        kinds = {a["member"]: a["kind"] for a in s.alternatives}
        assert returns not in kinds
        assert kinds.get(flows.addr("wholesaler_a")) == "wholesaler"


def test_a_model_fed_more_events_after_a_run_is_judged_on_all_of_them(
    flows: Flows, found: list[Finding]
) -> None:
    """The shipment index the detectors share is computed once per history length: a model
    that grows after a run, as a gateway's live model does, is indexed again."""
    logs = fetch_logs(flows.w3, flows.deployment)
    growing = replay_logs(logs[: len(logs) // 2]).model
    early = shipped_packs(growing)
    detect(growing, flows.catalogue(), flows.scans, now=flows.now())
    replay_logs(logs[len(logs) // 2 :], growing)
    assert shipped_packs(growing) != early
    assert detect(growing, flows.catalogue(), flows.scans, now=flows.now()) == found
