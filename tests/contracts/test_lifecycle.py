"""The life of packs on chain, step by step: events emitted, custody, and what `verify` says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger_client.devnet import DevNetwork
from ledger_client.ids import lot_hash, lot_tag, pack_hash, split_lot_tags, with_lot_tag
from ledger_client.types import (
    ZERO_ADDRESS,
    ZERO_HASH,
    Authority,
    DecommissionReason,
    LotStatus,
    PackFlag,
    PackStatus,
    UnitStatus,
    VerificationStatus,
)
from tests.utils.chain import Chain
from tests.utils.events import normalised, only_event
from tests.utils.factories import (
    EXPIRY,
    GTIN,
    commissioned,
    event_hash,
    owners,
    sscc,
    yymmdd_of,
)

V = VerificationStatus
CASE, CASE_2, PALLET = sscc(1), sscc(2), sscc(3)


def verdict(
    net: DevNetwork, serial: str, lot: str | None = "LOT1", expiry: int | None = EXPIRY
) -> V:
    """What a pharmacy scanning ``GTIN`` + ``serial`` (with lot and expiry) is told."""
    return net["pharmacy_b"].verify(GTIN, serial, lot, expiry).status


def custodian(net: DevNetwork, serial: str) -> str:
    return net["auditor"].pack_state(GTIN, serial).custodian


# ---------------------------------------------------------------- lots


def one_pack_moved(net: DevNetwork, unit: str, serial: str, tag: str) -> dict[str, object]:
    """The args of the manufacturer's ItemsPacked or ItemsUnpacked event that moved pack
    ``serial`` into or out of ``unit``, with event hash ``event_hash(tag)``."""
    return {
        "unitId": owners(net).unit_id(unit),
        "by": net["manufacturer"].address,
        "packIds": [owners(net).pack_id(GTIN, serial)],
        "unitIds": [],
        "eventHash": event_hash(tag),
    }


def test_register_lot_emits_lot_registered_and_stores_the_lot(net: DevNetwork) -> None:
    m = net["manufacturer"]
    event = only_event(m.register_lot(GTIN, "LOT1", EXPIRY, event_hash("lot")))
    assert event.name == "LotRegistered"
    assert normalised(event.args) == {
        "lotId": owners(net).lot_id(GTIN, "LOT1"),
        "owner": m.address,
        "expiry": EXPIRY,
        "eventHash": event_hash("lot"),
    }
    lot = m.lot_state(GTIN, "LOT1")
    assert (lot.owner, lot.expiry, lot.status) == (m.address, EXPIRY, LotStatus.ACTIVE)
    assert (lot.status_authority, lot.recall_requested_by) == (Authority.NONE, ZERO_ADDRESS)
    assert lot.expires_at == int(datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def test_lot_expiry_day_00_means_the_last_day_of_the_month(net: DevNetwork) -> None:
    net["manufacturer"].register_lot(GTIN, "LOT1", 280200)
    expires_at = net["manufacturer"].lot_state(GTIN, "LOT1").expires_at
    assert expires_at == int(datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC).timestamp())


QUARANTINE_RELEASE = [(LotStatus.QUARANTINED, V.QUARANTINED), (LotStatus.ACTIVE, V.VERIFIED)]


@pytest.mark.parametrize(
    ("actor", "steps"),
    [
        ("manufacturer", [*QUARANTINE_RELEASE, (LotStatus.RECALLED, V.RECALLED)]),
        # a regulator's recall of another member's lot waits for a second regulator
        # (tests/contracts/test_trust_model.py)
        ("regulator", QUARANTINE_RELEASE),
    ],
)
def test_lot_status_quarantine_release_by_owner_or_regulator_and_recall_by_owner(
    net: DevNetwork, actor: str, steps: list[tuple[LotStatus, V]]
) -> None:
    commissioned(net["manufacturer"], ["S1"])
    ledger = net[actor]
    authority = {"manufacturer": Authority.OWNER, "regulator": Authority.REGULATOR}
    for status, expected in steps:
        event = only_event(ledger.set_lot_status(GTIN, "LOT1", status, event_hash(status.name)))
        assert event.name == "LotStatusChanged"
        assert normalised(event.args) == {
            "lotId": owners(net).lot_id(GTIN, "LOT1"),
            "by": ledger.address,
            "status": status,
            "eventHash": event_hash(status.name),
        }
        lot = ledger.lot_state(GTIN, "LOT1")
        raised_by = Authority.NONE if status == LotStatus.ACTIVE else authority[actor]
        assert (lot.status, lot.status_authority) == (status, raised_by)
        assert verdict(net, "S1") == expected


# ---------------------------------------------------------------- commission, pack, ship


def test_commission_loose_packs_are_held_by_the_manufacturer_and_verify(net: DevNetwork) -> None:
    m = net["manufacturer"]
    m.register_lot(GTIN, "LOT1", EXPIRY)
    receipts = m.commission(GTIN, "LOT1", ["S1", "S2"], event_hash=event_hash("commission"))
    event = only_event(receipts)
    assert event.name == "PacksCommissioned"
    assert normalised(event.args) == {
        "lotId": owners(net).lot_id(GTIN, "LOT1"),
        "by": m.address,
        "unitId": ZERO_HASH,
        "packIds": [owners(net).pack_id(GTIN, "S1"), owners(net).pack_id(GTIN, "S2")],
        "lotTags": lot_tag(GTIN, "S1", "LOT1") + lot_tag(GTIN, "S2", "LOT1"),
        "eventHash": event_hash("commission"),
    }
    state = m.pack_state(GTIN, "S1")
    assert (state.status, state.custodian, state.parent, state.in_transit) == (
        PackStatus.ACTIVE,
        m.address,
        0,
        False,
    )
    assert state.lot_id == owners(net).lot_id(GTIN, "LOT1")
    result = net["pharmacy_b"].verify(GTIN, "S1", "LOT1", EXPIRY)
    assert result.status == V.VERIFIED
    assert result.pack_id == owners(net).pack_id(GTIN, "S1")
    assert result.product_owner == m.address


def test_a_pack_keeps_its_lot_tag_and_verifies_with_its_own_lot_only(net: DevNetwork) -> None:
    m, pharmacy = net["manufacturer"], net["pharmacy_b"]
    m.register_lot(GTIN, "LOT1", EXPIRY)
    m.register_lot(GTIN, "LOT2", EXPIRY)
    m.commission(GTIN, "LOT1", ["S1"])
    m.commission(GTIN, "LOT2", ["S2"])
    assert m.pack_state(GTIN, "S1").lot_tag == lot_tag(GTIN, "S1", "LOT1")
    assert pharmacy.verify(GTIN, "S1", "LOT1", EXPIRY).status == V.VERIFIED
    assert pharmacy.verify(GTIN, "S1", None, EXPIRY).status == V.VERIFIED  # no lot scanned
    # another lot of the same product, registered or not, is a lot mismatch
    assert pharmacy.verify(GTIN, "S1", "LOT2", EXPIRY).status == V.LOT_MISMATCH
    assert pharmacy.verify(GTIN, "S1", "LOT3", EXPIRY).status == V.LOT_MISMATCH
    assert pharmacy.verify(GTIN, "S2", "LOT1", EXPIRY).status == V.LOT_MISMATCH
    assert pharmacy.verify(GTIN, "S2", "LOT2", EXPIRY).status == V.VERIFIED


def test_verification_reads_the_lot_from_the_tag_not_from_the_lot_id(net: DevNetwork) -> None:
    """A pack word carrying the tag of lot LOTX, commissioned into lot LOT1: the scan is
    checked against the tag alone."""
    m, pharmacy = net["manufacturer"], net["pharmacy_b"]
    m.register_lot(GTIN, "LOT1", EXPIRY)
    word = with_lot_tag(pack_hash(GTIN, "S1"), lot_tag(GTIN, "S1", "LOTX"))
    event = only_event(m.commission_words(lot_hash(GTIN, "LOT1"), [word]))
    assert bytes(event.args["lotTags"]) == lot_tag(GTIN, "S1", "LOTX")
    assert m.pack_state(GTIN, "S1").lot_id == owners(net).lot_id(GTIN, "LOT1")
    assert pharmacy.verify(GTIN, "S1", "LOTX", EXPIRY).status == V.VERIFIED
    assert pharmacy.verify(GTIN, "S1", "LOT1", EXPIRY).status == V.LOT_MISMATCH


def test_commission_into_a_case_records_each_pack_s_lot_tag_in_the_event(net: DevNetwork) -> None:
    m = net["manufacturer"]
    m.register_lot(GTIN, "LOT1", EXPIRY)
    serials = ["S1", "S2", "S3"]
    event = only_event(m.commission(GTIN, "LOT1", serials, into_sscc=CASE))
    assert split_lot_tags(bytes(event.args["lotTags"])) == [
        lot_tag(GTIN, s, "LOT1") for s in serials
    ]
    assert [v.lot_tag for v in m.pack_states([(GTIN, s) for s in serials])] == [
        lot_tag(GTIN, s, "LOT1") for s in serials
    ]


def test_commission_straight_into_a_case_creates_the_case(net: DevNetwork) -> None:
    m = net["manufacturer"]
    m.register_lot(GTIN, "LOT1", EXPIRY)
    event = only_event(m.commission(GTIN, "LOT1", ["S1", "S2"], into_sscc=CASE))
    assert event.args["unitId"] == owners(net).unit_id(CASE)
    case = m.unit_state(CASE)
    assert (case.status, case.level, case.parent, case.custodian) == (
        UnitStatus.ACTIVE,
        1,
        0,
        m.address,
    )
    state = m.pack_state(GTIN, "S1")
    assert (state.parent, state.custodian) == (case.index, m.address)
    assert verdict(net, "S1") == V.VERIFIED


def test_commission_into_an_existing_case_adds_to_it(net: DevNetwork) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1"], into=CASE)
    m.commission(GTIN, "LOT1", ["S2"], into_sscc=CASE)
    assert m.pack_state(GTIN, "S2").parent == m.unit_state(CASE).index


def test_pack_cases_onto_a_pallet_and_loose_packs_into_a_case(net: DevNetwork) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1", "S2"], into=CASE)
    m.commission(GTIN, "LOT1", ["S3"])
    receipt = m.pack(CASE_2, packs=[(GTIN, "S3")], event_hash=event_hash("pack case"))
    assert normalised(only_event(receipt).args) == one_pack_moved(net, CASE_2, "S3", "pack case")
    event = only_event(m.pack(PALLET, units=[CASE, CASE_2], event_hash=event_hash("palletise")))
    assert event.name == "ItemsPacked"
    assert normalised(event.args)["unitIds"] == [
        owners(net).unit_id(CASE),
        owners(net).unit_id(CASE_2),
    ]
    pallet = m.unit_state(PALLET)
    assert (pallet.level, pallet.parent, pallet.custodian) == (2, 0, m.address)
    assert m.unit_state(CASE).parent == pallet.index
    assert m.pack_state(GTIN, "S3").parent == m.unit_state(CASE_2).index
    assert custodian(net, "S3") == m.address


def test_packs_on_a_pallet_follow_the_pallet_through_ship_and_receive(net: DevNetwork) -> None:
    m, w = net["manufacturer"], net["wholesaler_a"]
    commissioned(m, ["S1", "S2"], into=CASE)
    m.pack(PALLET, units=[CASE])
    event = only_event(m.ship(w.address, units=[PALLET], event_hash=event_hash("ship")))
    assert event.name == "ItemsShipped"
    assert normalised(event.args) == {
        "from": m.address,
        "to": w.address,
        "packIds": [],
        "unitIds": [owners(net).unit_id(PALLET)],
        "eventHash": event_hash("ship"),
    }
    in_transit = m.pack_state(GTIN, "S1")
    assert (
        in_transit.status,
        in_transit.custodian,
        in_transit.pending_to,
        in_transit.in_transit,
    ) == (
        PackStatus.ACTIVE,
        m.address,
        w.address,
        True,
    )
    assert m.unit_state(CASE).in_transit
    assert m.unit_state(PALLET).status == UnitStatus.IN_TRANSIT
    assert verdict(net, "S1") == V.IN_TRANSIT

    event = only_event(w.receive(units=[PALLET], event_hash=event_hash("receive")))
    assert event.name == "ItemsReceived"
    assert normalised(event.args) == {
        "by": w.address,
        "packIds": [],
        "unitIds": [owners(net).unit_id(PALLET)],
        "eventHash": event_hash("receive"),
    }
    received = m.pack_state(GTIN, "S2")
    assert (received.custodian, received.pending_to, received.in_transit) == (
        w.address,
        ZERO_ADDRESS,
        False,
    )
    assert m.unit_state(CASE).custodian == w.address
    assert verdict(net, "S1") == V.VERIFIED


def test_unpack_pallet_then_case_leaves_the_contents_with_the_unpacker(net: DevNetwork) -> None:
    m, w, p = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    commissioned(m, ["S1", "S2"], into=CASE)
    m.pack(PALLET, units=[CASE])
    m.ship(w.address, units=[PALLET])
    w.receive(units=[PALLET])

    event = only_event(w.unpack([PALLET], event_hash=event_hash("unpack pallet")))
    assert event.name == "UnitsDissolved"
    assert normalised(event.args) == {
        "by": w.address,
        "unitIds": [owners(net).unit_id(PALLET)],
        "eventHash": event_hash("unpack pallet"),
    }
    assert w.unit_state(PALLET).status == UnitStatus.DISSOLVED
    assert w.unit_state(CASE).custodian == w.address
    assert custodian(net, "S1") == w.address

    w.unpack([CASE])
    assert w.unit_state(CASE).status == UnitStatus.DISSOLVED
    assert custodian(net, "S1") == w.address
    assert verdict(net, "S1") == V.VERIFIED

    # A pack of a dissolved case is loose: it ships on its own and leaves the case.
    event = only_event(w.ship(p.address, packs=[(GTIN, "S1")]))
    assert normalised(event.args)["packIds"] == [owners(net).pack_id(GTIN, "S1")]
    shipped = w.pack_state(GTIN, "S1")
    assert (shipped.status, shipped.parent, shipped.pending_to) == (
        PackStatus.IN_TRANSIT,
        0,
        p.address,
    )
    assert verdict(net, "S1") == V.IN_TRANSIT
    assert custodian(net, "S2") == w.address  # its sibling stays


def test_unpack_items_takes_one_pack_out_and_the_case_stays(net: DevNetwork) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1", "S2"], into=CASE)
    receipt = m.unpack_items(CASE, packs=[(GTIN, "S1")], event_hash=event_hash("unpack items"))
    assert normalised(only_event(receipt).args) == one_pack_moved(net, CASE, "S1", "unpack items")
    assert (m.pack_state(GTIN, "S1").parent, custodian(net, "S1")) == (0, m.address)
    assert m.pack_state(GTIN, "S2").parent == m.unit_state(CASE).index
    assert m.unit_state(CASE).status == UnitStatus.ACTIVE


def test_unpack_items_takes_a_case_off_a_pallet(net: DevNetwork) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1"], into=CASE)
    m.pack(PALLET, units=[CASE])
    m.unpack_items(PALLET, units=[CASE])
    assert m.unit_state(CASE).parent == 0
    assert m.unit_state(PALLET).status == UnitStatus.ACTIVE


def test_ship_and_receive_a_loose_pack(net: DevNetwork) -> None:
    m, p = net["manufacturer"], net["pharmacy_a"]
    commissioned(m, ["S1"])
    event = only_event(m.ship(p.address, packs=[(GTIN, "S1")], event_hash=event_hash("ship")))
    assert normalised(event.args) == {
        "from": m.address,
        "to": p.address,
        "packIds": [owners(net).pack_id(GTIN, "S1")],
        "unitIds": [],
        "eventHash": event_hash("ship"),
    }
    state = m.pack_state(GTIN, "S1")
    assert (state.status, state.custodian, state.pending_to) == (
        PackStatus.IN_TRANSIT,
        m.address,
        p.address,
    )
    assert verdict(net, "S1") == V.IN_TRANSIT
    p.receive(packs=[(GTIN, "S1")])
    state = m.pack_state(GTIN, "S1")
    assert (state.status, state.custodian, state.pending_to) == (
        PackStatus.ACTIVE,
        p.address,
        ZERO_ADDRESS,
    )


# ---------------------------------------------------------------- decommission and undo


@pytest.mark.parametrize("reason", [r for r in DecommissionReason if r != DecommissionReason.NONE])
def test_decommission_with_each_reason(
    net: DevNetwork, chain: Chain, reason: DecommissionReason
) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1", "S2"], into=CASE)
    actor = m
    if reason == DecommissionReason.DISPENSED:
        actor = net["pharmacy_a"]
        m.ship(actor.address, units=[CASE])
        actor.receive(units=[CASE])
    receipts = actor.decommission([(GTIN, "S1")], reason, event_hash("decommission"))
    event = only_event(receipts)
    assert event.name == "PacksDecommissioned"
    assert normalised(event.args) == {
        "by": actor.address,
        "reason": reason,
        "packIds": [owners(net).pack_id(GTIN, "S1")],
        "eventHash": event_hash("decommission"),
    }
    state = m.pack_state(GTIN, "S1")
    block_time = chain.w3.eth.get_block(receipts[0].block_number)["timestamp"]
    assert (state.status, state.reason, state.custodian, state.parent) == (
        PackStatus.DECOMMISSIONED,
        reason,
        actor.address,
        0,  # it left the case
    )
    assert state.decommissioned_at == block_time
    assert verdict(net, "S1") == V.DECOMMISSIONED
    assert verdict(net, "S2") == V.VERIFIED


def test_undo_dispense_restores_the_pack_to_the_pharmacy(net: DevNetwork) -> None:
    m, p = net["manufacturer"], net["pharmacy_a"]
    commissioned(m, ["S1"])
    m.ship(p.address, packs=[(GTIN, "S1")])
    p.receive(packs=[(GTIN, "S1")])
    p.decommission([(GTIN, "S1")], DecommissionReason.DISPENSED)
    event = only_event(p.undo_decommission([(GTIN, "S1")], event_hash("undo")))
    assert event.name == "DecommissionsUndone"
    assert normalised(event.args) == {
        "by": p.address,
        "packIds": [owners(net).pack_id(GTIN, "S1")],
        "eventHash": event_hash("undo"),
    }
    state = p.pack_state(GTIN, "S1")
    assert (state.status, state.reason, state.decommissioned_at, state.custodian) == (
        PackStatus.ACTIVE,
        DecommissionReason.NONE,
        0,
        p.address,
    )
    assert verdict(net, "S1") == V.VERIFIED


def test_undo_within_the_window_near_its_end_is_allowed(net: DevNetwork, chain: Chain) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1"])
    m.decommission([(GTIN, "S1")], DecommissionReason.LOCKED)
    chain.advance(10 * 24 * 3600 - 60)
    m.undo_decommission([(GTIN, "S1")])
    assert m.pack_state(GTIN, "S1").status == PackStatus.ACTIVE


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("actor", "flags", "expected", "authority"),
    [
        ("regulator", PackFlag.SUSPECT, V.SUSPECT, Authority.REGULATOR),
        ("regulator", PackFlag.ILLEGITIMATE, V.ILLEGITIMATE, Authority.REGULATOR),
        (
            "regulator",
            PackFlag.SUSPECT | PackFlag.ILLEGITIMATE,
            V.ILLEGITIMATE,
            Authority.REGULATOR,
        ),
        ("manufacturer", PackFlag.ILLEGITIMATE, V.ILLEGITIMATE, Authority.OWNER),
        # the holder may raise suspicion
        ("pharmacy_a", PackFlag.SUSPECT, V.SUSPECT, Authority.HOLDER),
    ],
)
def test_flag_packs_and_clear(
    net: DevNetwork, actor: str, flags: PackFlag, expected: V, authority: Authority
) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1"])
    m.ship(net.address("pharmacy_a"), packs=[(GTIN, "S1")])
    net["pharmacy_a"].receive(packs=[(GTIN, "S1")])
    ledger = net[actor]
    event = only_event(ledger.flag([(GTIN, "S1")], flags, 7, event_hash("flag")))
    assert event.name == "PacksFlagged"
    assert normalised(event.args) == {
        "by": ledger.address,
        "flags": flags,
        "reasonCode": 7,
        "packIds": [owners(net).pack_id(GTIN, "S1")],
        "eventHash": event_hash("flag"),
    }
    state = m.pack_state(GTIN, "S1")
    assert (state.flags, state.flag_reason, state.flag_authority) == (flags, 7, authority)
    assert verdict(net, "S1") == expected

    net["regulator"].flag([(GTIN, "S1")], PackFlag(0), 0)
    cleared = m.pack_state(GTIN, "S1")
    assert (cleared.flags, cleared.flag_authority) == (PackFlag(0), Authority.NONE)
    assert verdict(net, "S1") == V.VERIFIED


# ---------------------------------------------------------------- verify


def test_verify_unknown_pack(net: DevNetwork) -> None:
    result = net["pharmacy_a"].verify(GTIN, "NEVER")
    assert result.status == V.UNKNOWN
    assert result.pack_id == owners(net).pack_id(GTIN, "NEVER")


def test_verify_lot_and_expiry_mismatch(net: DevNetwork) -> None:
    commissioned(net["manufacturer"], ["S1"])
    assert verdict(net, "S1", lot="LOT2") == V.LOT_MISMATCH
    assert verdict(net, "S1", expiry=301230) == V.EXPIRY_MISMATCH
    assert verdict(net, "S1", lot=None, expiry=None) == V.VERIFIED


def test_verify_after_expiry_is_expired(net: DevNetwork, chain: Chain) -> None:
    expiry = yymmdd_of(chain.now() + 24 * 3600)
    commissioned(net["manufacturer"], ["S1"], expiry=expiry)
    assert verdict(net, "S1", expiry=expiry) == V.VERIFIED
    expires_at = net["manufacturer"].lot_state(GTIN, "LOT1").expires_at
    chain.time_travel(expires_at + 1)
    assert verdict(net, "S1", expiry=expiry) == V.EXPIRED


def test_verify_precedence_most_serious_first(net: DevNetwork, chain: Chain) -> None:
    """PRODUCT > LOT > EXPIRY mismatch > ILLEGITIMATE > SUSPECT > RECALLED > QUARANTINED >
    DECOMMISSIONED > EXPIRED > IN_TRANSIT > VERIFIED."""
    m, r = net["manufacturer"], net["regulator"]
    expiry = yymmdd_of(chain.now() + 24 * 3600)
    commissioned(m, ["S1", "S2", "S3"], expiry=expiry)
    m.ship(net.address("wholesaler_a"), packs=[(GTIN, "S3")])
    m.decommission([(GTIN, "S2")], DecommissionReason.SAMPLE)
    m.set_lot_status(GTIN, "LOT1", LotStatus.QUARANTINED)
    r.flag([(GTIN, "S1")], PackFlag.SUSPECT)
    chain.time_travel(m.lot_state(GTIN, "LOT1").expires_at + 1)

    assert verdict(net, "S1", lot="OTHER", expiry=991231) == V.LOT_MISMATCH
    assert verdict(net, "S1", expiry=991231) == V.EXPIRY_MISMATCH
    assert verdict(net, "S1", expiry=expiry) == V.SUSPECT
    assert verdict(net, "S2", expiry=expiry) == V.QUARANTINED
    r.flag([(GTIN, "S1")], PackFlag.SUSPECT | PackFlag.ILLEGITIMATE)
    assert verdict(net, "S1", expiry=expiry) == V.ILLEGITIMATE
    m.set_lot_status(GTIN, "LOT1", LotStatus.RECALLED)
    assert verdict(net, "S2", expiry=expiry) == V.RECALLED
    assert verdict(net, "S3", expiry=expiry) == V.RECALLED


def test_verify_decommissioned_beats_expired_beats_in_transit(
    net: DevNetwork, chain: Chain
) -> None:
    m = net["manufacturer"]
    expiry = yymmdd_of(chain.now() + 24 * 3600)
    commissioned(m, ["S1", "S2"], expiry=expiry)
    m.ship(net.address("wholesaler_a"), packs=[(GTIN, "S2")])
    m.decommission([(GTIN, "S1")], DecommissionReason.SAMPLE)
    assert verdict(net, "S2", expiry=expiry) == V.IN_TRANSIT
    chain.time_travel(m.lot_state(GTIN, "LOT1").expires_at + 1)
    assert verdict(net, "S1", expiry=expiry) == V.DECOMMISSIONED
    assert verdict(net, "S2", expiry=expiry) == V.EXPIRED


def test_destroying_an_expired_pack_is_allowed(net: DevNetwork, chain: Chain) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1"], expiry=yymmdd_of(chain.now() + 24 * 3600))
    chain.time_travel(m.lot_state(GTIN, "LOT1").expires_at + 1)
    m.decommission([(GTIN, "S1")], DecommissionReason.DESTROYED)
    assert m.pack_state(GTIN, "S1").reason == DecommissionReason.DESTROYED
