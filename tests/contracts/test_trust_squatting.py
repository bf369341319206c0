"""No member can squat another's records: what anyone else creates under a member's codes
lands under its own owner-scoped id, never blocks the genuine owner and is never what a
lookup of the printed code finds (design: owner-scoped record ids)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger_client import ids
from ledger_client.devnet import DevNetwork
from ledger_client.errors import UnknownPrefixError
from ledger_client.ids import lot_hash, pack_hash, pack_word, unit_hash
from ledger_client.ledger import Ledger
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import (
    ZERO_ADDRESS,
    ZERO_HASH,
    DecommissionReason,
    LotStatus,
    LotView,
    PackStatus,
    UnitStatus,
    Verification,
    VerificationStatus,
)
from tests.utils.factories import (
    CASE,
    EXPIRY,
    FOREIGN_GTIN,
    GTIN,
    PALLET,
    REPACKAGER_GTIN,
    REPACKAGER_PREFIX,
    commissioned,
    make_sscc,
    owners,
    registry_call,
    serials,
)

V = VerificationStatus


def squat_lot(squatter: Ledger, gtin: str, lot: str) -> bytes:
    """``squatter`` registers lot ``lot`` of ``gtin`` straight on chain; return its id."""
    registry_call(squatter, "registerLot", lot_hash(gtin, lot), EXPIRY, ZERO_HASH)
    return ids.lot_id(gtin, lot, owner=squatter.member_index)


def squat_packs(squatter: Ledger, gtin: str, lot: str, names: list[str]) -> list[bytes]:
    """``squatter`` commissions ``names`` of ``gtin`` into its own lot ``lot`` straight on
    chain; return the ids of its records."""
    words = [pack_word(gtin, s, lot) for s in names]
    registry_call(squatter, "commission", lot_hash(gtin, lot), ZERO_HASH, words, ZERO_HASH)
    return [ids.record_id(squatter.member_index, pack_hash(gtin, s)) for s in names]


def squatted_pack_verified(net: DevNetwork, gtin: str, lot: str) -> Verification:
    """The manufacturer squats lot ``lot`` and pack S1 of ``gtin``; pharmacy_a verifies S1."""
    m = net["manufacturer"]
    squat_lot(m, gtin, lot)
    squat_packs(m, gtin, lot, ["S1"])
    return net["pharmacy_a"].verify(gtin, "S1", lot, EXPIRY)


# ---------------------------------------------------------------- lots


def test_a_lot_registered_first_by_another_producer_does_not_block_the_owner(
    net: DevNetwork,
) -> None:
    m, squatter = net["manufacturer"], net["repackager"]
    squatted = squat_lot(squatter, GTIN, "LOT2")

    m.register_lot(GTIN, "LOT2", EXPIRY)
    m.commission(GTIN, "LOT2", ["S1"])
    assert net["pharmacy_a"].verify(GTIN, "S1", "LOT2", EXPIRY).status == V.VERIFIED
    m.set_lot_status(GTIN, "LOT2", LotStatus.RECALLED)

    genuine = m.lot_state(GTIN, "LOT2")
    assert (genuine.id, genuine.owner, genuine.status) == (
        owners(net).lot_id(GTIN, "LOT2"),
        m.address,
        LotStatus.RECALLED,
    )
    assert net["pharmacy_a"].verify(GTIN, "S1", "LOT2", EXPIRY).status == V.RECALLED
    other = LotView.from_tuple(squatter.registry.functions.lotState(squatted).call())
    assert (other.owner, other.status) == (squatter.address, LotStatus.ACTIVE)  # not recalled


# ---------------------------------------------------------------- packs


def test_serials_squatted_into_another_producers_lot_do_not_block_the_genuine_batch(
    net: DevNetwork,
) -> None:
    m, squatter, scanner = net["manufacturer"], net["repackager"], net["pharmacy_a"]
    squat_lot(squatter, GTIN, "R1")
    names = serials(3)
    squatted = squat_packs(squatter, GTIN, "R1", names)
    assert scanner.verify(GTIN, "S1").status == V.UNKNOWN  # the squatter's record is not found

    commissioned(m, names)
    result = scanner.verify(GTIN, "S1", "LOT1", EXPIRY)
    assert result.status == V.VERIFIED
    assert result.pack_id == owners(net).pack_id(GTIN, "S1") != squatted[0]
    assert (result.product_owner, result.lot.owner) == (m.address, m.address)
    assert result.pack.lot_id == owners(net).lot_id(GTIN, "LOT1")
    # the squatter's records stay its own, in its own lot
    states = scanner.pack_states(squatted)
    assert {s.custodian for s in states} == {squatter.address}
    lot = ids.lot_id(GTIN, "R1", owner=squatter.member_index)
    assert {s.lot_id for s in states} == {lot}


def test_front_running_a_pending_commission_changes_nothing_for_the_owner(
    net: DevNetwork,
) -> None:
    """Another producer copies the hashes of the owner's pending transactions and lands first."""
    m, squatter = net["manufacturer"], net["repackager"]
    register = m.registry.functions.registerLot(lot_hash(GTIN, "LOT1"), EXPIRY, ZERO_HASH)
    words = [pack_word(GTIN, s, "LOT1") for s in serials(3)]
    commission = m.registry.functions.commission(
        lot_hash(GTIN, "LOT1"), unit_hash(CASE), words, ZERO_HASH
    )
    squatter.transact(register)
    squatter.transact(commission)

    m.transact(register)
    receipt = m.transact(commission)
    (event,) = receipt.events
    genuine = owners(net)
    assert (event.args["lotId"], event.args["unitId"], list(event.args["packIds"])) == (
        genuine.lot_id(GTIN, "LOT1"),
        genuine.unit_id(CASE),
        [genuine.pack_id(GTIN, s) for s in serials(3)],
    )
    assert m.verify(GTIN, "S2", "LOT1", EXPIRY).status == V.VERIFIED
    assert m.unit_state(CASE).custodian == m.address
    squatted_case = ids.unit_id(CASE, owner=squatter.member_index)
    assert m.unit_state(squatted_case).custodian == squatter.address


# ---------------------------------------------------------------- units


def test_units_pre_created_by_a_supply_chain_member_do_not_block_the_owner(
    net: DevNetwork,
) -> None:
    """A wholesaler creates the manufacturer's next SSCCs (pack, then unpackItems) first."""
    m, w = net["manufacturer"], net["wholesaler_a"]
    held = commissioned(m, ["H1"])
    m.ship(w.address, packs=held)
    w.receive(packs=held)
    h1 = owners(net).pack_id(*held[0])
    for unit in (CASE, PALLET):
        registry_call(w, "pack", unit_hash(unit), [h1], [], ZERO_HASH)
        own_id = ids.unit_id(unit, owner=w.member_index)
        registry_call(w, "unpackItems", own_id, [h1], [], ZERO_HASH)

    m.commission(GTIN, "LOT1", ["S1", "S2"], into_sscc=CASE)
    m.pack(PALLET, units=[CASE])
    case, pallet = m.unit_state(CASE), m.unit_state(PALLET)
    assert (case.parent, case.custodian) == (pallet.index, m.address)
    assert (pallet.status, pallet.custodian) == (UnitStatus.ACTIVE, m.address)
    assert m.pack_state(GTIN, "S1").parent == case.index
    for unit in (CASE, PALLET):
        squatted = m.unit_state(ids.unit_id(unit, owner=w.member_index))
        assert (squatted.status, squatted.custodian) == (UnitStatus.ACTIVE, w.address)
        assert squatted.index not in (case.index, pallet.index)


def test_packing_into_a_unit_another_member_created_makes_a_unit_of_ones_own(
    net: DevNetwork,
) -> None:
    """The holder of the manufacturer's case packs into its SSCC: the case stays as it was."""
    m, w = net["manufacturer"], net["wholesaler_a"]
    commissioned(m, ["S1"], into=CASE)
    loose = commissioned(m, ["S2"], register=False)
    m.ship(w.address, packs=loose, units=[CASE])
    w.receive(packs=loose, units=[CASE])
    with pytest.raises(UnknownPrefixError):
        w.pack(CASE, packs=loose)  # the client refuses another member's SSCC

    s2 = owners(net).pack_id(*loose[0])
    registry_call(w, "pack", unit_hash(CASE), [s2], [], ZERO_HASH)
    case = m.unit_state(CASE)
    own = m.unit_state(ids.unit_id(CASE, owner=w.member_index))
    assert own.index != case.index and own.custodian == w.address
    assert m.pack_state(*loose[0]).parent == own.index
    assert m.pack_state(GTIN, "S1").parent == case.index  # the case holds only its own pack


# ---------------------------------------------------------------- foreign and unowned codes


def test_a_squatted_pack_cannot_be_dispensed_through_the_ledger_with_its_codes(
    net: DevNetwork,
) -> None:
    squatter, pharmacy = net["repackager"], net["pharmacy_a"]
    squat_lot(squatter, GTIN, "LOT1")
    squatted = squat_packs(squatter, GTIN, "LOT1", ["S1"])
    squatter.ship(pharmacy.address, squatted)
    pharmacy.receive(squatted)

    with pytest.raises(LedgerRevertError) as caught:
        pharmacy.decommission([(GTIN, "S1")], DecommissionReason.DISPENSED)
    assert caught.value.error == "SerialRegistryUnknownPack"
    assert caught.value.args_by_name["packId"] == owners(net).pack_id(GTIN, "S1")
    assert pharmacy.verify(GTIN, "S1", "LOT1", EXPIRY).status == V.UNKNOWN
    assert pharmacy.pack_states(squatted)[0].status == PackStatus.ACTIVE


def test_a_gtin_whose_prefix_no_member_owns_verifies_as_product_mismatch(
    net: DevNetwork,
) -> None:
    result = squatted_pack_verified(net, FOREIGN_GTIN, "F1")
    assert (result.status, result.pack_id, result.product_owner) == (
        V.PRODUCT_MISMATCH,
        ZERO_HASH,
        ZERO_ADDRESS,
    )
    assert net["pharmacy_a"].verify(FOREIGN_GTIN, "NEVER").status == V.PRODUCT_MISMATCH


def test_another_members_gtin_created_by_a_producer_is_unknown_under_its_owner(
    net: DevNetwork,
) -> None:
    result = squatted_pack_verified(net, REPACKAGER_GTIN, "R1")
    assert result.status == V.UNKNOWN
    assert result.product_owner == net.address("repackager")


def test_a_repackager_commissions_under_its_own_prefix(net: DevNetwork) -> None:
    m, r = net["manufacturer"], net["repackager"]
    bought = commissioned(m, ["S1"])
    m.ship(r.address, packs=bought)
    r.receive(packs=bought)
    r.decommission(bought, DecommissionReason.DESTROYED)  # repacked: the old pack is gone
    own_case = make_sscc(REPACKAGER_PREFIX, 1)
    commissioned(r, ["P1", "P2"], gtin=REPACKAGER_GTIN, lot="R1", into=own_case)

    result = net["pharmacy_a"].verify(REPACKAGER_GTIN, "P1", "R1", EXPIRY)
    assert result.status == V.VERIFIED
    assert (result.product_owner, result.lot.owner) == (r.address, r.address)
    assert result.pack_id == ids.pack_id(REPACKAGER_GTIN, "P1", owner=r.member_index)
    assert r.unit_state(own_case).custodian == r.address


CREATE_UNDER_A_FOREIGN_PREFIX: dict[str, Callable[[Ledger], object]] = {
    "register a lot of another member's GTIN": lambda m: m.register_lot(
        REPACKAGER_GTIN, "X", EXPIRY
    ),
    "register a lot of an unowned GTIN": lambda m: m.register_lot(FOREIGN_GTIN, "X", EXPIRY),
    "commission another member's GTIN": lambda m: m.commission(REPACKAGER_GTIN, "LOT1", ["X"]),
    "commission into another member's SSCC": lambda m: m.commission(
        GTIN, "LOT1", ["X"], into_sscc=make_sscc(REPACKAGER_PREFIX, 1)
    ),
    "pack into another member's SSCC": lambda m: m.pack(
        make_sscc(REPACKAGER_PREFIX, 1), packs=[(GTIN, "S1")]
    ),
}


@pytest.mark.parametrize("case", sorted(CREATE_UNDER_A_FOREIGN_PREFIX))
def test_the_ledger_refuses_to_create_under_a_foreign_prefix(net: DevNetwork, case: str) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1"])
    block = m.w3.eth.block_number
    with pytest.raises(UnknownPrefixError, match="create lots, packs and units under your own"):
        CREATE_UNDER_A_FOREIGN_PREFIX[case](m)
    assert m.w3.eth.block_number == block  # nothing was sent
