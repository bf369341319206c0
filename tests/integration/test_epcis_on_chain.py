"""EPCIS documents imported onto a real chain (eth-tester), exported back, and TI/TS."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from ledger_client.chain import connect, dev_account, fund
from ledger_client.contracts import Role
from ledger_client.devnet import DEMO_MEMBERS, DevNetwork, deploy_devnet, gln
from ledger_client.epcis import InvalidEPCISError, map_document, validate_document
from ledger_client.epcis.apply import ImportResult
from ledger_client.epcis.capture import capture_document
from ledger_client.epcis.dscsa import TRANSACTION_STATEMENT, transaction_information
from ledger_client.epcis.export import operations_to_events, to_epcis_json
from ledger_client.epcis.export12 import to_epcis_12_xml
from ledger_client.epcis.history import Kind, export_history
from ledger_client.epcis.import12 import convert_12_xml
from ledger_client.epcis.operations import (
    Commission,
    Decommission,
    LedgerOperation,
    Pack,
    Receive,
    RegisterLot,
    SetLotStatus,
    Ship,
    UndoDecommission,
    Unpack,
)
from ledger_client.epcis.store import EventStore
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason, LotStatus, VerificationStatus
from tests.utils.factories import owners
from tests.utils.governance import govern

DSCSA = Path(__file__).resolve().parents[2] / ".." / "shared" / "epcis" / "dscsa-1.2"
DISTRO_GLN = 399999999298  # GS1 Drug Distro LLC, the cardinal sample's receiver
CASE = ("30355154944955", "40072894693743")
ITEM = ("00355154944954", "40095247428196")
#: The GS1 company prefixes of the samples' products (Cardinal Health's, the hospital's), the
#: manufacturer's here: a member commissions only codes of its own prefixes.
SAMPLE_PREFIXES = ("0355154", "409876")


def _add_member(net: DevNetwork, w3: Web3, name: str, gln: int, roles: Role) -> Ledger:
    """Admit a member through a council proposal (manufacturer proposes, wholesaler_a approves)."""
    account = dev_account(name)
    fund(w3, [account.address])
    consortium = net["manufacturer"].consortium
    expiry = int(w3.eth.get_block("latest")["timestamp"]) + 10**8
    data = consortium.encode_abi("addMember", args=[account.address, gln, int(roles), expiry])
    net["manufacturer"].transact(consortium.functions.propose(data))
    proposal = consortium.functions.proposalCount().call() - 1
    net["wholesaler_a"].transact(consortium.functions.approve(proposal))
    return Ledger(w3, net.deployment, account)


@pytest.fixture(scope="module")
def chain() -> tuple[Web3, DevNetwork]:
    w3 = connect("eth-tester")
    net = deploy_devnet(w3)
    _add_member(net, w3, "gs1-drug-distro", DISTRO_GLN, Role.WHOLESALER)
    for prefix in SAMPLE_PREFIXES:
        govern(net, "assignPrefix", prefix, net.address("manufacturer"))
    return w3, net


@pytest.fixture(scope="module")
def store() -> Iterator[EventStore]:
    with EventStore() as s:
        yield s


@pytest.fixture(scope="module")
def cardinal(chain: tuple[Web3, DevNetwork], store: EventStore) -> ImportResult:
    _, net = chain
    _, result = capture_document(
        net["manufacturer"], DSCSA / "epcis_1.2.cardinal_health.xml", store
    )
    return result


def test_dscsa_cardinal_sample_imports_onto_the_chain(
    chain: tuple[Web3, DevNetwork], cardinal: ImportResult
) -> None:
    _, net = chain
    assert [e.status for e in cardinal.events] == ["applied", "applied", "applied"]
    assert cardinal.to_dict()["counts"] == {
        "applied": 3,
        "skipped": 0,
        "stored_only": 0,
        "failed": 0,
    }
    ship = cardinal.events[2].operations[0]
    assert ship.notes == (
        "no destination party in the event: shipped to the document's receiver 0399999999298",
    )
    manufacturer = net["manufacturer"]
    # the SGTIN case is a logistic unit whose id is made from its pack code's hash, now in
    # transit with its contents
    case_unit = manufacturer.unit_state(manufacturer.owners.pack_id(*CASE))
    assert case_unit.in_transit and case_unit.pending_to == dev_account("gs1-drug-distro").address
    assert manufacturer.pack_state(*ITEM).in_transit
    assert manufacturer.verify(*ITEM).status is VerificationStatus.EXPIRED  # in 2015


def test_a_member_importing_codes_of_another_member_s_prefix_writes_nothing(
    chain: tuple[Web3, DevNetwork], cardinal: ImportResult
) -> None:
    w3, net = chain
    before = w3.eth.block_number
    with EventStore() as own_store:
        _, result = capture_document(
            net["wholesaler_a"], DSCSA / "epcis_1.2.cardinal_health.xml", own_store
        )
    # the packing and the shipment are the manufacturer's, on chain already: skipped
    assert [e.status for e in result.events] == ["failed", "skipped", "skipped"]
    register = result.events[0].operations[0]
    assert register.error == "UnknownPrefix" and "not this member's" in str(register.message)
    assert w3.eth.block_number == before


def test_reimporting_a_document_writes_nothing(
    chain: tuple[Web3, DevNetwork], store: EventStore, cardinal: ImportResult
) -> None:
    w3, net = chain
    before = w3.eth.block_number
    _, again = capture_document(net["manufacturer"], DSCSA / "epcis_1.2.cardinal_health.xml", store)
    assert [e.status for e in again.events] == ["skipped", "skipped", "skipped"]
    assert all(op.status == "skipped" for e in again.events for op in e.operations)
    assert w3.eth.block_number == before


def test_malformed_dscsa_sample_imports_nothing(
    chain: tuple[Web3, DevNetwork], store: EventStore
) -> None:
    w3, net = chain
    before, stored = w3.eth.block_number, store.count()
    with pytest.raises(InvalidEPCISError) as raised:
        capture_document(net["manufacturer"], DSCSA / "epcis_1.2.master_data_sample.xml", store)
    assert raised.value.errors == [
        "line 17, column 32: Opening and ending tag mismatch: Address line 11 and Address"
    ]
    assert (w3.eth.block_number, store.count()) == (before, stored)


def test_hospital_sample_reports_each_failure_and_keeps_what_applied(
    chain: tuple[Web3, DevNetwork], store: EventStore
) -> None:
    _, net = chain
    _, result = capture_document(
        net["manufacturer"], DSCSA / "epcis_1.2.sample_hospital.xml", store
    )
    statuses = [e.status for e in result.events]
    assert statuses == ["stored_only", "failed", "failed", "failed"]
    register_a, register_b, commission = result.events[1].operations
    assert (register_a.status, register_b.status) == ("applied", "applied")
    # the sample's ILMD expiry is no date, so lot 00123 was never registered
    assert (commission.status, commission.error) == ("failed", "SerialRegistryUnknownLot")
    # the sample packs GTIN 01234567890128, whose prefix no member owns: it names no pack
    assert result.events[2].operations[0].error == "UnknownPrefix"
    ship = result.events[3].operations[0]
    assert (ship.error, ship.message) == (
        "UnknownParty",
        "destination GLN 5412341237772 is not a member of the consortium",
    )
    assert net["manufacturer"].lot_state("04098760000015", "L1").status is LotStatus.ACTIVE
    assert store.event(bytes.fromhex(result.events[0].event_hash[14:78])) is not None  # type: ignore[index]


def test_decommissioning_without_reason_fails_with_advice(
    chain: tuple[Web3, DevNetwork], store: EventStore
) -> None:
    _, net = chain
    event = operations_to_events(
        [Decommission((("09506000134352", "NR1"),), DecommissionReason.DESTROYED)],
        event_time="2025-01-01T00:00:00Z",
    )[0]
    event.update(bizStep="decommissioning", disposition="inactive")
    _, result = capture_document(net["manufacturer"], to_epcis_json([event]), store)
    (only,) = result.events
    assert only.status == "failed" and only.operations == ()
    assert only.message is not None and "rxl:decommissionReason" in only.message
    assert store.event(bytes.fromhex(only.event_hash[14:78])) is not None  # type: ignore[index]


def test_ti_ts_of_a_shipment_names_products_parties_and_statement(
    chain: tuple[Web3, DevNetwork], store: EventStore, cardinal: ImportResult
) -> None:
    w3, net = chain
    ti_ts = transaction_information(
        w3, net.deployment, store, "urn:epc:id:sgtin:0355154.394495.40072894693743"
    )
    ti = ti_ts["transaction_information"]
    item = next(p for p in ti["products"] if p["gtin"] == ITEM[0])
    assert {k: item[k] for k in ("product_name", "ndc", "strength", "dosage_form",
                                 "container_size", "lot", "expiry", "number_of_containers")} == {
        "product_name": "EpcistraiTEM", "ndc": "05515494495", "strength": "100mg",
        "dosage_form": "PILL", "container_size": "500 pills", "lot": "PR456",
        "expiry": "2015-03-15", "number_of_containers": 4,
    }  # fmt: skip
    assert ti["shipment_date"] == "2012-03-27T17:10:18Z"
    assert ti["buyer"]["gln"] == "0399999999298" and ti["buyer"]["name"] == "GS1 Drug Distro LLC"
    assert ti["buyer"]["address"]["city"] == "New York"
    assert ti["seller"]["name"] == "GS1 Pharma LLC"
    assert ti_ts["transaction_statement"]["text"] == TRANSACTION_STATEMENT
    partner = ti_ts["transaction_statement"]["partner_statement"]
    assert partner["gs1ushc:affirmTransactionStatement"] == "true"


# --------------------------------------------------------------------------- full scenario

GTIN = "09506000134352"
LOT, RECALL_LOT = "SCN1", "SCN2"
CASE1, CASE2, PALLET = "095060000000000015", "095060000000000022", "095060000000000039"
SERIALS = tuple(f"S{i}" for i in range(1, 7))
P = {s: (GTIN, s) for s in (*SERIALS, "R1")}
GLN = {name: f"{gln(DEMO_MEMBERS[name][1]):013d}" for name in ("wholesaler_a", "pharmacy_a")}


def _steps() -> list[tuple[str, list[LedgerOperation]]]:
    """The scenario: (member, operations of one EPCIS document)."""
    return [
        ("manufacturer", [
            RegisterLot(GTIN, LOT, date(2030, 12, 31)),
            Commission(GTIN, LOT, SERIALS[:4]),
            Pack(CASE1, tuple(P[s] for s in SERIALS[:4]), ()),
            Commission(GTIN, LOT, SERIALS[4:]),
            Pack(CASE2, tuple(P[s] for s in SERIALS[4:]), ()),
            Pack(PALLET, (), (CASE1, CASE2)),
            Ship((), (PALLET,), to_party=GLN["wholesaler_a"]),
        ]),
        ("wholesaler_a", [
            Receive((), (PALLET,)),
            Unpack(PALLET, (), ()),
            Ship((), (CASE1,), to_party=GLN["pharmacy_a"]),
        ]),
        ("pharmacy_a", [
            Receive((), (CASE1,)),
            Unpack(CASE1, (P["S2"],), ()),
            Decommission((P["S1"],), DecommissionReason.DISPENSED),
            Decommission((P["S2"],), DecommissionReason.DESTROYED),
            UndoDecommission((P["S1"],)),
        ]),
        ("manufacturer", [
            RegisterLot(GTIN, RECALL_LOT, date(2031, 6, 30)),
            Commission(GTIN, RECALL_LOT, ("R1",)),
            SetLotStatus(GTIN, RECALL_LOT, LotStatus.RECALLED),
        ]),
    ]  # fmt: skip


def _document(step: int, ops: list[LedgerOperation]) -> dict[str, Any]:
    events = []
    for i, op in enumerate(ops):  # one time per operation: every event has its own hash
        events += operations_to_events([op], event_time=f"2025-0{step + 1}-01T00:{i:02d}:00Z")
    return to_epcis_json(events, creation_date="2025-01-01T00:00:00Z")


def _drive_api(net: DevNetwork, member: str, op: LedgerOperation) -> None:
    ledger = net[member]
    addresses = {gln: net.address(name) for name, gln in GLN.items()}
    if isinstance(op, RegisterLot):
        ledger.register_lot(op.gtin, op.lot, op.expiry)
    elif isinstance(op, Commission):
        ledger.commission(op.gtin, op.lot, op.serials)
    elif isinstance(op, Pack):
        assert op.parent_sscc is not None
        ledger.pack(op.parent_sscc, op.packs, op.units)
    elif isinstance(op, Unpack):
        assert op.parent_sscc is not None
        if op.packs or op.units:
            ledger.unpack_items(op.parent_sscc, op.packs, op.units)
        else:
            ledger.unpack([op.parent_sscc])
    elif isinstance(op, Ship):
        assert op.to_party is not None
        ledger.ship(addresses[op.to_party], op.packs, op.units)
    elif isinstance(op, Receive):
        ledger.receive(op.packs, op.units)
    elif isinstance(op, Decommission):
        ledger.decommission(op.packs, op.reason)
    elif isinstance(op, UndoDecommission):
        ledger.undo_decommission(op.packs)
    elif isinstance(op, SetLotStatus):
        ledger.set_lot_status(op.gtin, op.lot, op.status)


def _state(net: DevNetwork) -> dict[str, Any]:
    ledger = net["auditor"]
    packs = [dataclasses.replace(v, decommissioned_at=0, undo_deadline=0)
             for v in ledger.pack_states([P[s] for s in sorted(P)])]  # fmt: skip
    lots = [
        dataclasses.replace(ledger.lot_state(GTIN, lot), expires_at=0) for lot in (LOT, RECALL_LOT)
    ]
    units = [ledger.unit_state(u) for u in (CASE1, CASE2, PALLET)]
    return {"packs": packs, "lots": lots, "units": units}


@dataclasses.dataclass
class Imported:
    """The scenario imported as EPCIS documents, each member with its own store."""

    w3: Web3
    net: DevNetwork
    stores: dict[str, EventStore]
    docs: list[dict[str, Any]]
    results: list[ImportResult]

    def history(self, member: str, kind: Kind, code: str) -> dict[str, Any]:
        """``member``'s EPCIS export of the history of ``code`` (a pack, lot or SSCC)."""
        return export_history(self.w3, self.net.deployment, self.stores[member], kind, code)


@pytest.fixture(scope="module")
def scenario() -> Imported:
    """The scenario imported on a fresh chain, so unit indexes compare with the API-driven one."""
    w3 = connect("eth-tester")
    net = deploy_devnet(w3)
    stores = {name: EventStore() for name in ("manufacturer", "wholesaler_a", "pharmacy_a")}
    docs: list[dict[str, Any]] = []
    results: list[ImportResult] = []
    for step, (member, ops) in enumerate(_steps()):
        docs.append(_document(step, ops))
        results.append(capture_document(net[member], docs[-1], stores[member])[1])
    return Imported(w3, net, stores, docs, results)


def test_scenario_captured_as_epcis_matches_the_python_api(scenario: Imported) -> None:
    net = scenario.net
    assert [r.ok for r in scenario.results] == [True] * 4, [r.to_dict() for r in scenario.results]
    w3b = connect("eth-tester")
    api = deploy_devnet(w3b)
    for member, ops in _steps():
        for op in ops:
            _drive_api(api, member, op)
    assert _state(net) == _state(api)
    assert net["auditor"].lot_state(GTIN, RECALL_LOT).status is LotStatus.RECALLED
    assert net["auditor"].pack_state(*P["S2"]).reason is DecommissionReason.DESTROYED


def test_exported_pack_history_validates_and_holds_every_step(scenario: Imported) -> None:
    doc = scenario.history("pharmacy_a", "pack", f"(01){GTIN}(21)S1")
    assert validate_document(doc) == []
    events = doc["epcisBody"]["eventList"]
    # the manufacturer's and wholesaler's steps are id-only for the pharmacy; its own are clear
    genuine = owners(scenario.net)
    s1 = f"urn:rxledger:pack:0x{genuine.pack_id(*P['S1']).hex()}"
    assert any(s1 in e.get("epcList", []) for e in events if e.get("bizStep") == "commissioning")
    shipped = [e for e in events if e.get("bizStep") == "shipping"]
    assert [e["epcList"] for e in shipped] == [
        [f"urn:rxledger:unit:0x{genuine.unit_id(PALLET).hex()}"],
        [f"urn:rxledger:unit:0x{genuine.unit_id(CASE1).hex()}"],
    ]
    clear = [e for e in events if not any(k.startswith("rxl:") for k in e)]
    # S2 left CASE1 at the pharmacy, S1 did not: that unpacking is not in S1's history
    assert [e.get("bizStep") for e in clear] == ["receiving", "dispensing", "decommissioning"]
    assert "errorDeclaration" in clear[-1]
    assert validate_document(convert_12_xml(to_epcis_12_xml(doc))) == []


def test_lot_and_sscc_histories_export_as_valid_epcis(scenario: Imported) -> None:
    lot_doc = scenario.history("manufacturer", "lot", f"(01){GTIN}(10){LOT}")
    sscc_doc = scenario.history("manufacturer", "sscc", f"(00){CASE2}")
    assert validate_document(lot_doc) == validate_document(sscc_doc) == []
    lot_events = lot_doc["epcisBody"]["eventList"]
    assert sum(1 for e in lot_events if e.get("bizStep") == "shipping") == 2
    genuine = owners(scenario.net)
    assert genuine.lot_id(GTIN, LOT) != genuine.lot_id(GTIN, RECALL_LOT)
    sscc_steps = [e.get("bizStep") for e in sscc_doc["epcisBody"]["eventList"]]
    assert sscc_steps[-2:] == ["receiving", "unpacking"]  # the pallet that held it


def test_import_export_import_gives_the_same_state_and_event_hashes(scenario: Imported) -> None:
    net = scenario.net
    exported = scenario.history("manufacturer", "lot", f"(01){GTIN}(10){RECALL_LOT}")
    original = scenario.docs[3]
    assert [e.event_hash for e in map_document(exported).events] == [
        e.event_hash for e in map_document(original).events
    ]
    fresh_w3 = connect("eth-tester")
    fresh = deploy_devnet(fresh_w3)
    with EventStore() as fresh_store:
        _, result = capture_document(fresh["manufacturer"], exported, fresh_store)
    assert result.ok
    for net_ in (net, fresh):
        assert net_["auditor"].lot_state(GTIN, RECALL_LOT).status is LotStatus.RECALLED
    old, new = net["auditor"], fresh["auditor"]
    assert old.pack_state(*P["R1"]) == new.pack_state(*P["R1"])
    assert dataclasses.replace(
        old.lot_state(GTIN, RECALL_LOT), expires_at=0
    ) == dataclasses.replace(new.lot_state(GTIN, RECALL_LOT), expires_at=0)


def test_a_lot_registered_with_day_00_is_the_lot_an_epcis_end_of_month_expiry_names(
    chain: tuple[Web3, DevNetwork], store: EventStore
) -> None:
    _, net = chain
    net["manufacturer"].register_lot(GTIN, "D0", "280600")
    doc = _document(0, [RegisterLot(GTIN, "D0", date(2028, 6, 30))])
    _, result = capture_document(net["manufacturer"], doc, store)
    (op,) = result.events[0].operations
    assert op.status == "skipped"
    assert op.notes == ("this member registered the lot with the same expiry before",)
