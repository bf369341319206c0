"""Lots keyed with their owner's lot key, on a real chain (eth-tester): the owner registers,
commissions and looks them up by number; the printed pack verifies at any member, lot
included; a member without the key cannot find the lot by its number; a regulator holding
the key quarantines it by number, and one without it asks for its recall through a pack. The
id is the same after a restart (a retry finds the lot it already registered), and key files
are checked."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.replay import replay_logs
from ledger_client.devnet import DevNetwork, gln
from ledger_client.epcis.capture import capture_document
from ledger_client.epcis.dscsa import transaction_information
from ledger_client.epcis.export import operations_to_events, to_epcis_json
from ledger_client.epcis.operations import Commission, RegisterLot, Ship
from ledger_client.epcis.store import EventStore
from ledger_client.errors import InvalidInputError
from ledger_client.ids import lot_id
from ledger_client.ledger import Ledger
from ledger_client.logs import fetch_logs
from ledger_client.lot_keys import read_lot_keys, write_lot_keys
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import LotStatus, VerificationStatus
from tests.utils.factories import make_sscc

GTIN = "09506000134352"
LOT = "A7"
SERIALS = ["K9XQ2M7RTP", "W4NB8ZC3LD"]
KEY = bytes.fromhex("11" * 32)


def keyed(net: DevNetwork, name: str = "manufacturer", **keys: object) -> Ledger:
    """``name``'s ledger on ``net`` with lot keys ``keys`` (``lot_key``, ``lot_keys``)."""
    base = net[name]
    return Ledger(base.w3, net.deployment, base.account, **keys)  # type: ignore[arg-type]


@pytest.fixture
def maker(net: DevNetwork) -> Ledger:
    """The manufacturer with its lot key, its lot A7 registered and two packs in it."""
    m = keyed(net, lot_key=KEY)
    m.register_lot(GTIN, LOT, "301231")
    m.commission(GTIN, LOT, SERIALS)
    return m


def test_the_owner_finds_its_keyed_lot_by_number_and_others_do_not(
    maker: Ledger, net: DevNetwork
) -> None:
    index = maker.member_index
    assert maker.lot_state(GTIN, LOT).status == LotStatus.ACTIVE
    assert maker.pack_state(GTIN, SERIALS[0]).lot_id == lot_id(GTIN, LOT, owner=index, key=KEY)
    assert net["auditor"].lot_state(GTIN, LOT).status == LotStatus.NONE
    assert net["auditor"].lot_of_pack(GTIN, SERIALS[0]) == maker.owners.lot_id(GTIN, LOT)


def test_the_printed_pack_verifies_with_its_lot_at_any_member(
    maker: Ledger, net: DevNetwork
) -> None:
    pharmacy = net["pharmacy_a"]
    assert pharmacy.verify(GTIN, SERIALS[0], LOT, "301231").status == VerificationStatus.VERIFIED
    assert pharmacy.verify(GTIN, SERIALS[0], "A8").status == VerificationStatus.LOT_MISMATCH


def test_a_regulator_acts_by_number_with_the_key_and_through_a_pack_without_it(
    maker: Ledger, net: DevNetwork
) -> None:
    with_key = keyed(net, "regulator", lot_keys={maker.member_index: KEY})
    with_key.set_lot_status(GTIN, LOT, LotStatus.QUARANTINED)
    assert maker.lot_state(GTIN, LOT).status == LotStatus.QUARANTINED
    without = net["regulator"]
    with pytest.raises(LedgerRevertError, match="SerialRegistryUnknownLot"):
        without.set_lot_status(GTIN, LOT, LotStatus.RECALLED)
    without.set_lot_status_by_id(without.lot_of_pack(GTIN, SERIALS[1]), LotStatus.RECALLED)
    assert maker.lot_state(GTIN, LOT).recall_requested_by == net.address("regulator")
    maker.set_lot_status(GTIN, LOT, LotStatus.RECALLED)  # its owner confirms, by number
    assert net["pharmacy_a"].verify(GTIN, SERIALS[0]).status == VerificationStatus.RECALLED


def test_the_same_key_after_a_restart_finds_the_lot_it_registered(
    maker: Ledger, net: DevNetwork
) -> None:
    again = keyed(net, lot_key=KEY)
    with pytest.raises(LedgerRevertError, match="SerialRegistryLotExists"):
        again.register_lot(GTIN, LOT, "301231")
    other = keyed(net, lot_key=bytes(32))
    other.register_lot(GTIN, LOT, "301231")  # another key: another lot id, nothing shared
    assert other.lot_state(GTIN, LOT).owner == maker.lot_state(GTIN, LOT).owner


def test_a_pack_not_on_the_ledger_names_no_lot(net: DevNetwork) -> None:
    with pytest.raises(InvalidInputError, match="no pack 09506000134352 NOPE"):
        net["regulator"].lot_of_pack(GTIN, "NOPE")


def test_key_files_are_checked_and_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "lot.keys"
    address = "0x" + "ab" * 20
    write_lot_keys(path, {address: KEY})
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(read_lot_keys(path).values()) == [KEY]
    for text, problem in [
        ("[1]", "should be a JSON object"),
        ('{"nobody": "00"}', "is not a member address"),
        (json.dumps({address: "0x1234"}), "is not 64 hex digits"),
    ]:
        path.write_text(text)
        with pytest.raises(InvalidInputError, match=problem):
            read_lot_keys(path)


def test_the_ti_and_an_auditor_s_catalogue_name_a_keyed_lot(net: DevNetwork) -> None:
    """The maker captures the lot, a case of it and its shipment as EPCIS; its TI names the
    lot whether the lot ids are resolved with its key or only through its packs' events, and
    so does an auditor's catalogue built from its store."""
    m = keyed(net, lot_key=KEY)
    case = make_sscc("0614141", 7)
    ops = [
        RegisterLot(GTIN, "T5", date(2030, 12, 31)),
        Commission(GTIN, "T5", ("TK1", "TK2", "TK3"), case),
        Ship((), (case,), str(gln("401234500001")), str(gln("061414100001"))),
    ]
    with EventStore() as store:
        for k, operation in enumerate(ops):
            event_time = f"2026-01-0{k + 1}T10:00:00Z"
            doc = to_epcis_json(operations_to_events([operation], event_time=event_time))
            _, result = capture_document(m, doc, store)
            assert {e.status for e in result.events} == {"applied"}, result
        for keys in ({m.member_index: KEY}, None):
            ti = transaction_information(m.w3, net.deployment, store, case, lot_keys=keys)
            (line,) = ti["transaction_information"]["products"]
            assert (line["lot"], line["number_of_containers"]) == ("T5", 3)
        catalogue = Catalogue()  # an auditor's, from the owner's store and the replayed chain
        catalogue.add_store(store, replay_logs(fetch_logs(m.w3, net.deployment)).model)
        assert catalogue.lots[m.owners.lot_id(GTIN, "T5")] == (GTIN, "T5")
