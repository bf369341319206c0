from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from ledger_client.epcis import (
    convert_12_xml,
    event_hash,
    map_document,
    operations_to_events,
    to_epcis_12_xml,
    to_epcis_json,
    validate_document,
)
from ledger_client.epcis import operations as op
from ledger_client.ids import gs1_check_digit
from ledger_client.types import FlagReason, PackFlag

TIME = "2024-03-01T09:30:00.000+01:00"


def _with_check(body: str) -> str:
    return body + str(gs1_check_digit(body))


gtins = st.from_regex(r"[0-9]{13}", fullmatch=True).map(_with_check)
ssccs = st.from_regex(r"[0-9]{17}", fullmatch=True).map(_with_check)
glns = st.from_regex(r"[0-9]{12}", fullmatch=True).map(_with_check)
texts = st.from_regex(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}", fullmatch=True)
packs = st.tuples(gtins, texts)
pack_lists = st.lists(packs, min_size=1, max_size=3, unique=True).map(tuple)
unit_lists = st.lists(ssccs, max_size=2, unique=True).map(tuple)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))

operations: st.SearchStrategy[op.LedgerOperation] = st.one_of(
    st.builds(op.RegisterLot, gtins, texts, expiries),
    st.builds(
        op.Commission, gtins, texts, st.lists(texts, min_size=1, max_size=3, unique=True).map(tuple)
    ),
    st.builds(op.Pack, ssccs, pack_lists, unit_lists),
    st.builds(op.Pack, st.none(), pack_lists, unit_lists, parent_pack=packs),
    st.builds(op.Unpack, ssccs, st.just(()), st.just(())),
    st.builds(op.Unpack, ssccs, pack_lists, unit_lists),
    st.builds(op.Ship, pack_lists, unit_lists, st.none() | glns, st.none() | glns),
    st.builds(
        op.Receive, st.just(()), st.lists(ssccs, min_size=1, max_size=2, unique=True).map(tuple)
    ),
    *(
        st.builds(step, pack_lists, unit_lists, st.none() | glns, st.none() | glns)
        for step in (op.CancelShipment, op.Refuse, op.ReportLost, op.ReportFound)
    ),
    st.builds(op.Decommission, pack_lists, st.sampled_from(list(op.DecommissionReason)[1:])),
    st.builds(op.UndoDecommission, pack_lists),
    st.builds(op.SetLotStatus, gtins, texts, st.sampled_from(list(op.LotStatus)[1:])),
    st.builds(
        op.FlagPacks,
        pack_lists,
        st.sampled_from([PackFlag(bits) for bits in range(4)]),
        st.sampled_from(list(FlagReason)),
    ),
)


def _without_hash(ops: tuple[op.LedgerOperation, ...]) -> list[op.LedgerOperation]:
    return [dataclasses.replace(operation, event_hash=b"") for operation in ops]


@given(st.lists(operations, min_size=1, max_size=6))
def test_operations_exported_as_events_map_back_to_the_same_operations(
    ops: list[op.LedgerOperation],
) -> None:
    doc = to_epcis_json(operations_to_events(ops, event_time=TIME), creation_date=TIME)
    assert validate_document(doc) == []
    report = map_document(doc)
    assert _without_hash(report.operations) == ops
    for entry in report.events:
        event = doc["epcisBody"]["eventList"][entry.index]
        assert all(op.event_hash == event_hash(event, doc["@context"]) for op in entry.operations)


@given(st.lists(operations, min_size=1, max_size=4))
def test_exported_history_survives_a_round_trip_through_epcis_12(
    ops: list[op.LedgerOperation],
) -> None:
    doc = to_epcis_json(operations_to_events(ops, event_time=TIME), creation_date=TIME)
    back = convert_12_xml(to_epcis_12_xml(doc))
    assert back["epcisBody"] == doc["epcisBody"]
    assert map_document(back).operations == map_document(doc).operations


def test_register_and_commission_of_one_lot_share_one_commissioning_event_with_ilmd() -> None:
    ops = [
        op.RegisterLot("00355154944954", "PR456", date(2026, 3, 15)),
        op.Commission("00355154944954", "PR456", ("1", "2")),
    ]
    (event,) = operations_to_events(ops, event_time=TIME)
    assert (event["type"], event["action"], event["bizStep"]) == (
        "ObjectEvent",
        "ADD",
        "commissioning",
    )
    assert event["ilmd"] == {
        "cbvmda:lotNumber": "PR456",
        "cbvmda:itemExpirationDate": "2026-03-15",
    }
    assert event["epcList"] == [
        "https://id.gs1.org/01/00355154944954/21/1",
        "https://id.gs1.org/01/00355154944954/21/2",
    ]


def test_commission_into_a_case_exports_as_commissioning_then_packing() -> None:
    into_case = op.Commission("00355154944954", "PR456", ("1",), into_sscc="409876506700001010")
    doc = to_epcis_json(operations_to_events([into_case], event_time=TIME), creation_date=TIME)
    commission, pack = _without_hash(map_document(doc).operations)
    assert commission == dataclasses.replace(into_case, into_sscc=None)
    assert pack == op.Pack("409876506700001010", (("00355154944954", "1"),), ())
