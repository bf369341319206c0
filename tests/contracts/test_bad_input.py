"""Bad input gets the precise custom error and leaves the chain as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger_client import ids
from ledger_client.devnet import DevNetwork
from ledger_client.errors import DuplicateInBatchError, InvalidCodeError, UnknownPrefixError
from ledger_client.ids import lot_hash, pack_hash
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import ZERO_HASH, DecommissionReason, LotStatus, PackFlag
from tests.utils.chain import Chain
from tests.utils.factories import (
    CASE,
    EXPIRY,
    GTIN,
    PALLET,
    REPACKAGER_GTIN,
    WHOLESALER_A_PREFIX,
    commissioned,
    make_gtin,
    make_sscc,
    owners,
    sscc,
    yymmdd_of,
)

D = DecommissionReason
SERIALS = ["S1", "S2", "S3"]


def snapshot_of(net: DevNetwork) -> tuple[Any, ...]:
    """Everything the tests here can touch: packs, the lot, units."""
    a = net["auditor"]
    packs = tuple(a.pack_state(GTIN, s) for s in SERIALS)
    units = tuple(a.unit_state(u) for u in (CASE, PALLET, sscc(3), sscc(4), sscc(5), sscc(6)))
    return packs, a.lot_state(GTIN, "LOT1"), units


def assert_rejected(net: DevNetwork, call: Callable[[], object], error: str, **args: Any) -> None:
    """``call`` reverts with custom ``error`` (and ``args``) and changes nothing."""
    before = snapshot_of(net)
    with pytest.raises(LedgerRevertError) as caught:
        call()
    assert caught.value.error == error, str(caught.value)
    for name, value in args.items():
        got = caught.value.args_by_name[name]
        if isinstance(value, str):  # addresses decode in lower case
            got, value = got.lower(), value.lower()
        assert got == value, (name, caught.value.args_by_name)
    assert snapshot_of(net) == before


@pytest.fixture
def stock(net: DevNetwork) -> DevNetwork:
    """The manufacturer holds loose S1, S2 and S3 in lot LOT1."""
    commissioned(net["manufacturer"], SERIALS)
    return net


def test_unknown_ids_are_rejected(stock: DevNetwork) -> None:
    m, w = stock["manufacturer"], stock["wholesaler_a"]
    unknown = owners(stock).pack_id(GTIN, "NOPE")
    assert_rejected(
        stock,
        lambda: m.ship(w.address, packs=[(GTIN, "NOPE")]),
        "SerialRegistryUnknownPack",
        packId=unknown,
    )
    assert_rejected(
        stock, lambda: m.decommission([(GTIN, "NOPE")], D.DESTROYED), "SerialRegistryUnknownPack"
    )
    assert_rejected(
        stock, lambda: m.undo_decommission([(GTIN, "NOPE")]), "SerialRegistryUnknownPack"
    )
    assert_rejected(
        stock,
        lambda: stock["regulator"].flag([(GTIN, "NOPE")], PackFlag.SUSPECT),
        "SerialRegistryUnknownPack",
    )
    assert_rejected(stock, lambda: w.receive(packs=[(GTIN, "NOPE")]), "SerialRegistryUnknownPack")
    assert_rejected(
        stock,
        lambda: m.commission(GTIN, "NOLOT", ["S9"]),
        "SerialRegistryUnknownLot",
        lotId=owners(stock).lot_id(GTIN, "NOLOT"),
    )
    assert_rejected(
        stock,
        lambda: m.set_lot_status(GTIN, "NOLOT", LotStatus.RECALLED),
        "SerialRegistryUnknownLot",
    )
    assert_rejected(
        stock,
        lambda: m.unpack([sscc(9)]),
        "SerialRegistryUnknownUnit",
        unitId=owners(stock).unit_id(sscc(9)),
    )
    assert_rejected(stock, lambda: m.ship(w.address, units=[sscc(9)]), "SerialRegistryUnknownUnit")
    assert_rejected(stock, lambda: m.pack(CASE, units=[sscc(9)]), "SerialRegistryUnknownUnit")
    assert_rejected(
        stock, lambda: m.unpack_items(sscc(9), packs=[(GTIN, "S1")]), "SerialRegistryUnknownUnit"
    )


def test_double_commission_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    assert_rejected(
        stock,
        lambda: m.commission(GTIN, "LOT1", ["S1"]),
        "SerialRegistryPackExists",
        packId=owners(stock).pack_id(GTIN, "S1"),
    )


def test_duplicate_ids_inside_one_batch_are_rejected_on_chain(net: DevNetwork) -> None:
    m = net["manufacturer"]
    m.register_lot(GTIN, "LOT1", EXPIRY)
    s1 = pack_hash(GTIN, "S1")
    # The client refuses duplicates before sending; the contract refuses them too.
    fn = m.registry.functions.commission(
        lot_hash(GTIN, "LOT1"), ZERO_HASH, [s1, pack_hash(GTIN, "S2"), s1], ZERO_HASH
    )
    assert_rejected(
        net,
        lambda: m.transact(fn),
        "SerialRegistryPackExists",
        packId=owners(net).pack_id(GTIN, "S1"),
    )
    before = snapshot_of(net)
    with pytest.raises(DuplicateInBatchError) as caught:
        m.commission(GTIN, "LOT1", ["S1", "S1"])
    # commissioning sends code hashes (the contract scopes them to the caller)
    assert caught.value.args_by_name == {"what": "pack ids", "id": s1}
    assert snapshot_of(net) == before


def test_duplicate_ids_in_ship_and_receive_batches_are_rejected(stock: DevNetwork) -> None:
    m, w = stock["manufacturer"], stock["wholesaler_a"]
    s1 = owners(stock).pack_id(GTIN, "S1")
    ship = m.registry.functions.ship([s1, s1], [], w.address, ZERO_HASH)
    assert_rejected(stock, lambda: m.transact(ship), "SerialRegistryInTransit", id=s1)
    m.ship(w.address, packs=[(GTIN, "S1")])
    receive = w.registry.functions.receiveItems([s1, s1], [], ZERO_HASH)
    assert_rejected(stock, lambda: w.transact(receive), "SerialRegistryNotInTransit", id=s1)
    decommission = m.registry.functions.decommission(
        [owners(stock).pack_id(GTIN, "S2")] * 2, int(D.DESTROYED), ZERO_HASH
    )
    assert_rejected(stock, lambda: m.transact(decommission), "SerialRegistryPackDecommissioned")


def test_empty_batches_are_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    fn = m.registry.functions.decommission([], int(D.DESTROYED), ZERO_HASH)
    assert_rejected(stock, lambda: m.transact(fn), "SerialRegistryEmptyBatch")
    assert_rejected(stock, lambda: m.pack(CASE), "SerialRegistryEmptyBatch")
    assert_rejected(stock, lambda: m.unpack([]), "SerialRegistryEmptyBatch")


def test_ship_by_a_non_custodian_is_rejected(stock: DevNetwork) -> None:
    w = stock["wholesaler_a"]
    assert_rejected(
        stock,
        lambda: w.ship(stock.address("pharmacy_a"), packs=[(GTIN, "S1")]),
        "SerialRegistryNotCustodian",
        id=owners(stock).pack_id(GTIN, "S1"),
        caller=w.address,
    )


def test_ship_of_a_packed_pack_or_a_unit_in_transit_is_rejected(stock: DevNetwork) -> None:
    m, w = stock["manufacturer"], stock["wholesaler_a"]
    m.pack(CASE, packs=[(GTIN, "S1")])
    assert_rejected(
        stock, lambda: m.ship(w.address, packs=[(GTIN, "S1")]), "SerialRegistryStillPacked"
    )
    m.ship(w.address, units=[CASE])
    assert_rejected(stock, lambda: m.ship(w.address, units=[CASE]), "SerialRegistryInTransit")
    assert_rejected(stock, lambda: m.unpack([CASE]), "SerialRegistryInTransit")
    assert_rejected(
        stock, lambda: m.decommission([(GTIN, "S1")], D.DESTROYED), "SerialRegistryInTransit"
    )


def test_receive_by_the_wrong_member_is_rejected(stock: DevNetwork) -> None:
    m, w, b = stock["manufacturer"], stock["wholesaler_a"], stock["wholesaler_b"]
    m.ship(w.address, packs=[(GTIN, "S1")])
    assert_rejected(
        stock,
        lambda: b.receive(packs=[(GTIN, "S1")]),
        "SerialRegistryNotRecipient",
        caller=b.address,
    )
    assert_rejected(stock, lambda: w.receive(packs=[(GTIN, "S2")]), "SerialRegistryNotInTransit")


@pytest.mark.parametrize("to", ["manufacturer", "outsider", "regulator"])
def test_shipping_to_self_or_a_non_supply_chain_member_is_rejected(
    stock: DevNetwork, chain: Chain, to: str
) -> None:
    m = stock["manufacturer"]
    address = chain.ledger(to).address
    error = {
        "manufacturer": "SerialRegistryShipToSelf",
        "outsider": "ConsortiumNotMember",
        "regulator": "ConsortiumMissingRole",
    }[to]
    assert_rejected(stock, lambda: m.ship(address, packs=[(GTIN, "S1")]), error)


def test_decommission_twice_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    m.decommission([(GTIN, "S1")], D.SAMPLE)
    assert_rejected(
        stock,
        lambda: m.decommission([(GTIN, "S1")], D.DESTROYED),
        "SerialRegistryPackDecommissioned",
        reason=D.SAMPLE,
    )


def test_decommission_with_reason_none_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    assert_rejected(
        stock, lambda: m.decommission([(GTIN, "S1")], D.NONE), "SerialRegistryInvalidReason"
    )


def test_undo_after_the_window_is_rejected(stock: DevNetwork, chain: Chain) -> None:
    m = stock["manufacturer"]
    m.decommission([(GTIN, "S1")], D.EXPORTED)
    decommissioned_at = m.pack_state(GTIN, "S1").decommissioned_at
    chain.time_travel(decommissioned_at + 10 * 24 * 3600 + 1)
    assert_rejected(
        stock,
        lambda: m.undo_decommission([(GTIN, "S1")]),
        "SerialRegistryUndoWindowClosed",
        deadline=decommissioned_at + 10 * 24 * 3600,
    )


def test_undo_by_another_member_is_rejected(stock: DevNetwork) -> None:
    m, w = stock["manufacturer"], stock["wholesaler_a"]
    m.decommission([(GTIN, "S1")], D.SAMPLE)
    assert_rejected(
        stock,
        lambda: w.undo_decommission([(GTIN, "S1")]),
        "SerialRegistryNotDecommissioner",
        caller=w.address,
    )


@pytest.mark.parametrize("reason", [D.DESTROYED, D.STOLEN])
def test_undo_of_destroyed_or_stolen_is_not_allowed(stock: DevNetwork, reason: D) -> None:
    m = stock["manufacturer"]
    m.decommission([(GTIN, "S1")], reason)
    assert_rejected(
        stock,
        lambda: m.undo_decommission([(GTIN, "S1")]),
        "SerialRegistryUndoNotAllowed",
        reason=reason,
    )


def test_undo_of_an_active_pack_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    assert_rejected(
        stock, lambda: m.undo_decommission([(GTIN, "S1")]), "SerialRegistryPackNotDecommissioned"
    )


@pytest.fixture
def at_pharmacy(stock: DevNetwork) -> DevNetwork:
    """S1, S2 and S3 are held by pharmacy_a."""
    p = stock["pharmacy_a"]
    packs = [(GTIN, s) for s in SERIALS]
    stock["manufacturer"].ship(p.address, packs=packs)
    p.receive(packs=packs)
    return stock


def test_dispense_of_a_recalled_or_quarantined_pack_is_rejected(at_pharmacy: DevNetwork) -> None:
    p = at_pharmacy["pharmacy_a"]
    for setter, status in (
        ("regulator", LotStatus.QUARANTINED),
        ("manufacturer", LotStatus.RECALLED),
    ):
        at_pharmacy[setter].set_lot_status(GTIN, "LOT1", status)
        assert_rejected(
            at_pharmacy,
            lambda: p.decommission([(GTIN, "S1")], D.DISPENSED),
            "SerialRegistryLotNotActive",
            status=status,
        )
    # A recalled pack may still be destroyed.
    p.decommission([(GTIN, "S1")], D.DESTROYED)


def test_dispense_of_an_expired_pack_is_rejected(net: DevNetwork, chain: Chain) -> None:
    m, p = net["manufacturer"], net["pharmacy_a"]
    commissioned(m, SERIALS, expiry=yymmdd_of(chain.now() + 24 * 3600))
    m.ship(p.address, packs=[(GTIN, "S1")])
    p.receive(packs=[(GTIN, "S1")])
    expires_at = m.lot_state(GTIN, "LOT1").expires_at
    chain.time_travel(expires_at + 1)
    assert_rejected(
        net,
        lambda: p.decommission([(GTIN, "S1")], D.DISPENSED),
        "SerialRegistryPackExpired",
        expiresAt=expires_at,
    )


@pytest.mark.parametrize("flags", [PackFlag.SUSPECT, PackFlag.ILLEGITIMATE])
def test_dispense_of_a_flagged_pack_is_rejected(at_pharmacy: DevNetwork, flags: PackFlag) -> None:
    p = at_pharmacy["pharmacy_a"]
    at_pharmacy["regulator"].flag([(GTIN, "S1")], flags)
    assert_rejected(
        at_pharmacy,
        lambda: p.decommission([(GTIN, "S1")], D.DISPENSED),
        "SerialRegistryPackFlagged",
        flags=flags,
    )


def test_dispense_by_a_non_dispenser_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    assert_rejected(
        stock, lambda: m.decommission([(GTIN, "S1")], D.DISPENSED), "ConsortiumMissingRole"
    )


def test_registering_a_product_under_another_members_prefix_is_rejected(net: DevNetwork) -> None:
    m = net["manufacturer"]
    with pytest.raises(LedgerRevertError) as caught:
        m.register_product(REPACKAGER_GTIN, "Paracetamol 500 mg")
    assert caught.value.error == "ProductDirectoryNotPrefixOwner"
    assert caught.value.args_by_name["owner"] == net.address("repackager").lower()
    assert m.product(REPACKAGER_GTIN)["owner"] == "0x" + "00" * 20


@pytest.mark.parametrize(
    ("gtin", "name", "error"),
    [
        (GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10), "X", "ProductDirectoryInvalidGtin"),
        (GTIN[:-1], "X", "ProductDirectoryInvalidGtin"),
        ("0061414100001A", "X", "ProductDirectoryInvalidGtin"),
        (GTIN, "", "ProductDirectoryMissingName"),
    ],
)
def test_registering_a_malformed_product_is_rejected(
    net: DevNetwork, gtin: str, name: str, error: str
) -> None:
    m = net["manufacturer"]
    with pytest.raises(LedgerRevertError) as caught:
        m.register_product(gtin, name)
    assert caught.value.error == error
    assert net["manufacturer"].directory.functions.productCount().call() == 0


@pytest.mark.parametrize("expiry", [301301, 300230, 290229, 301232, 1000101, 300000 + 1300])
def test_invalid_expiry_is_rejected(net: DevNetwork, expiry: int) -> None:
    m = net["manufacturer"]
    # straight to the contract: the client refuses these before sending (next test)
    assert_rejected(
        net,
        lambda: m.transact(
            m.registry.functions.registerLot(lot_hash(GTIN, "LOT1"), expiry, ZERO_HASH)
        ),
        "SerialRegistryInvalidExpiry",
        expiry=expiry,
    )


@pytest.mark.parametrize("expiry", ["301301", "xx", "28063", 290229, 1000101])
def test_client_refuses_an_invalid_expiry_before_sending(net: DevNetwork, expiry: object) -> None:
    m = net["manufacturer"]
    block = m.w3.eth.block_number
    with pytest.raises(InvalidCodeError, match="expiry"):
        m.register_lot(GTIN, "LOT1", expiry)  # type: ignore[arg-type]
    assert m.w3.eth.block_number == block


def test_leap_day_expiry_is_valid(net: DevNetwork) -> None:
    net["manufacturer"].register_lot(GTIN, "LOT1", 280229)


def test_register_the_same_lot_twice_is_rejected(stock: DevNetwork) -> None:
    assert_rejected(
        stock,
        lambda: stock["manufacturer"].register_lot(GTIN, "LOT1", EXPIRY),
        "SerialRegistryLotExists",
    )


def test_commission_into_a_lot_that_is_not_active_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    m.set_lot_status(GTIN, "LOT1", LotStatus.QUARANTINED)
    assert_rejected(stock, lambda: m.commission(GTIN, "LOT1", ["S9"]), "SerialRegistryLotNotActive")


def test_invalid_lot_status_changes_are_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    assert_rejected(
        stock,
        lambda: m.set_lot_status(GTIN, "LOT1", LotStatus.ACTIVE),
        "SerialRegistryInvalidLotStatus",
    )
    assert_rejected(
        stock,
        lambda: m.set_lot_status(GTIN, "LOT1", LotStatus.NONE),
        "SerialRegistryInvalidLotStatus",
    )
    m.set_lot_status(GTIN, "LOT1", LotStatus.RECALLED)
    assert_rejected(
        stock,
        lambda: m.set_lot_status(GTIN, "LOT1", LotStatus.ACTIVE),
        "SerialRegistryInvalidLotStatus",
        to=LotStatus.ACTIVE,
    )


def test_invalid_flags_are_rejected(stock: DevNetwork) -> None:
    r = stock["regulator"]
    fn = r.registry.functions.flagPacks([owners(stock).pack_id(GTIN, "S1")], 4, 0, ZERO_HASH)
    assert_rejected(stock, lambda: r.transact(fn), "SerialRegistryInvalidFlags", flags=4)


def test_pack_a_unit_into_itself_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    m.pack(CASE, packs=[(GTIN, "S1")])
    assert_rejected(
        stock,
        lambda: m.pack(CASE, units=[CASE]),
        "SerialRegistrySelfNesting",
        unitId=owners(stock).unit_id(CASE),
    )


def test_pack_a_unit_into_its_own_child_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    m.pack(CASE, packs=[(GTIN, "S1")])
    m.pack(PALLET, units=[CASE])
    assert_rejected(stock, lambda: m.pack(CASE, units=[PALLET]), "SerialRegistryStillPacked")


def test_nesting_deeper_than_max_level_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    assert m.registry.functions.MAX_LEVEL().call() == 4
    m.pack(sscc(3), packs=[(GTIN, "S1")])
    m.pack(sscc(4), units=[sscc(3)])
    m.pack(sscc(5), units=[sscc(4)])
    m.pack(sscc(6), units=[sscc(5)])
    assert m.unit_state(sscc(6)).level == 4
    assert_rejected(
        stock,
        lambda: m.pack(PALLET, units=[sscc(6)]),
        "SerialRegistryNestingTooDeep",
        unitId=owners(stock).unit_id(PALLET),
        level=5,
    )


def test_pack_a_pack_held_by_someone_else_is_rejected(stock: DevNetwork) -> None:
    w = stock["wholesaler_a"]
    own_case = make_sscc(WHOLESALER_A_PREFIX, 1)
    assert_rejected(
        stock, lambda: w.pack(own_case, packs=[(GTIN, "S1")]), "SerialRegistryNotCustodian"
    )
    assert w.unit_state(own_case).index == 0  # the unit was not created either


def test_unpack_items_not_in_the_unit_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    m.pack(CASE, packs=[(GTIN, "S1")])
    assert_rejected(
        stock,
        lambda: m.unpack_items(CASE, packs=[(GTIN, "S2")]),
        "SerialRegistryNotInUnit",
        unitId=owners(stock).unit_id(CASE),
    )


def test_unpack_twice_is_rejected(stock: DevNetwork) -> None:
    m = stock["manufacturer"]
    m.pack(CASE, packs=[(GTIN, "S1")])
    m.unpack([CASE])
    assert_rejected(stock, lambda: m.unpack([CASE]), "SerialRegistryUnitDissolved")
    assert_rejected(
        stock, lambda: m.unpack_items(CASE, packs=[(GTIN, "S1")]), "SerialRegistryUnitDissolved"
    )


def test_commission_into_a_unit_held_by_someone_else_is_rejected(stock: DevNetwork) -> None:
    m, w = stock["manufacturer"], stock["wholesaler_a"]
    m.pack(CASE, packs=[(GTIN, "S1")])
    m.ship(w.address, units=[CASE])
    w.receive(units=[CASE])
    assert_rejected(
        stock,
        lambda: m.commission(GTIN, "LOT1", ["S9"], into_sscc=CASE),
        "SerialRegistryNotCustodian",
    )


def test_commission_into_another_members_lot_is_refused_by_the_client(stock: DevNetwork) -> None:
    r = stock["repackager"]
    before = snapshot_of(stock)
    with pytest.raises(UnknownPrefixError, match="not this member's"):
        r.commission(GTIN, "LOT1", ["S9"])
    assert snapshot_of(stock) == before


def test_commission_into_another_members_lot_finds_no_lot_of_the_caller(
    stock: DevNetwork,
) -> None:
    """Sent straight to the contract, the lot hash names the caller's own lot: it has none."""
    r = stock["repackager"]
    fn = r.registry.functions.commission(
        lot_hash(GTIN, "LOT1"), ZERO_HASH, [pack_hash(GTIN, "S9")], ZERO_HASH
    )
    assert_rejected(
        stock,
        lambda: r.transact(fn),
        "SerialRegistryUnknownLot",
        lotId=ids.lot_id(GTIN, "LOT1", owner=r.member_index),
    )


def test_invalid_codes_never_reach_the_chain(net: DevNetwork) -> None:
    from ledger_client.errors import InvalidCodeError

    m = net["manufacturer"]
    with pytest.raises(InvalidCodeError):
        m.register_lot(
            make_gtin("0614141", 1)[:-1] + "0" if GTIN[-1] != "0" else GTIN[:-1] + "1", "L", EXPIRY
        )
    with pytest.raises(InvalidCodeError):
        m.commission(GTIN, "LOT1", ["bad serial with spaces"])
