"""Who may raise and lower what: pack flags and lot status carry the authority that set them
(holder < owner < regulator < council), a regulator's recall of another member's lot needs a
second regulator, and a revoked manufacturer's packs keep answering by their own state."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger_client import types
from ledger_client.chain import dev_account, fund
from ledger_client.contracts import MemberStatus, Role
from ledger_client.devnet import DevNetwork
from ledger_client.ledger import Ledger
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import ZERO_ADDRESS, Authority, DecommissionReason, PackFlag
from tests.utils.chain import Chain
from tests.utils.events import normalised
from tests.utils.factories import EXPIRY, GTIN, commissioned, event_hash, owners
from tests.utils.governance import as_council, govern

V = types.VerificationStatus
L = types.LotStatus
FAR_FUTURE = 4_102_444_800  # 2100-01-01
HELD = (GTIN, "S1")
"""The pack pharmacy_a holds; the manufacturer holds S2."""


@pytest.fixture
def stock(net: DevNetwork) -> DevNetwork:
    """The manufacturer's lot LOT1: S1 held by pharmacy_a, S2 by the manufacturer."""
    m, p = net["manufacturer"], net["pharmacy_a"]
    commissioned(m, ["S1", "S2"])
    m.ship(p.address, packs=[HELD])
    p.receive(packs=[HELD])
    return net


@pytest.fixture
def regulator_2(stock: DevNetwork, chain: Chain) -> Ledger:
    """A second regulator, admitted by the council."""
    ledger = chain.ledger("regulator_2")
    fund(chain.w3, [ledger.address])
    govern(stock, "addMember", ledger.address, 4012354000015, int(Role.REGULATOR), FAR_FUTURE)
    return ledger


def lot(net: DevNetwork) -> types.LotView:
    return net["auditor"].lot_state(GTIN, "LOT1")


def standing(net: DevNetwork) -> tuple[types.LotStatus, Authority, str]:
    """The lot's status, the authority that set it, and the regulator whose recall waits."""
    view = lot(net)
    return view.status, view.status_authority, view.recall_requested_by


def pack(net: DevNetwork, serial: str = "S1") -> types.PackView:
    return net["auditor"].pack_state(GTIN, serial)


def verdict(net: DevNetwork, serial: str = "S1") -> V:
    return net["pharmacy_b"].verify(GTIN, serial, "LOT1", EXPIRY).status


def lot_id(net: DevNetwork) -> bytes:
    return owners(net).lot_id(GTIN, "LOT1")


def names(receipt: types.Receipt) -> list[str]:
    return [e.name for e in receipt.events]


def status_change(event: types.ChainEvent) -> tuple[object, object]:
    """The status a ``LotStatusChanged`` event set and who set it."""
    assert event.name == "LotStatusChanged"
    return event.args["status"], event.args["by"]


def refused(call: Callable[[], object], error: str, **args: object) -> None:
    """``call`` reverts with ``error``, whose arguments include ``args``."""
    with pytest.raises(LedgerRevertError) as caught:
        call()
    assert caught.value.error == error, str(caught.value)
    for name, value in args.items():
        got = caught.value.args_by_name[name]
        assert (got.lower() if isinstance(got, str) else got) == (
            value.lower() if isinstance(value, str) else value
        ), name


def council_sets_lot(net: DevNetwork, status: types.LotStatus) -> types.Receipt:
    registry = net["auditor"].registry
    return as_council(net, registry, "setLotStatus", lot_id(net), int(status), event_hash("c"))


def recalled_by_two_regulators(net: DevNetwork, second: Ledger) -> None:
    net["regulator"].set_lot_status(GTIN, "LOT1", L.RECALLED)
    second.set_lot_status(GTIN, "LOT1", L.RECALLED)
    assert lot(net).status == L.RECALLED


# ---------------------------------------------------------------- regulators and lots


def test_a_regulators_quarantine_takes_effect_at_once(stock: DevNetwork) -> None:
    receipt = stock["regulator"].set_lot_status(GTIN, "LOT1", L.QUARANTINED)
    assert names(receipt) == ["LotStatusChanged"]
    assert (lot(stock).status, lot(stock).status_authority) == (L.QUARANTINED, Authority.REGULATOR)
    assert verdict(stock) == V.QUARANTINED
    refused(
        lambda: stock["pharmacy_a"].decommission([HELD], DecommissionReason.DISPENSED),
        "SerialRegistryLotNotActive",
    )


def test_a_regulators_recall_of_another_members_lot_quarantines_it_and_records_the_request(
    stock: DevNetwork,
) -> None:
    r = stock["regulator"]
    receipt = r.set_lot_status(GTIN, "LOT1", L.RECALLED, event_hash("recall"))
    requested, changed = receipt.events
    assert (requested.name, normalised(requested.args)) == (
        "LotRecallRequested",
        {"lotId": lot_id(stock), "by": r.address, "eventHash": event_hash("recall")},
    )
    assert status_change(changed) == (L.QUARANTINED, r.address)
    assert standing(stock) == (L.QUARANTINED, Authority.REGULATOR, r.address)
    assert verdict(stock) == V.QUARANTINED


def test_the_same_regulator_recalling_again_reverts_recall_already_requested(
    stock: DevNetwork,
) -> None:
    r = stock["regulator"]
    r.set_lot_status(GTIN, "LOT1", L.RECALLED)
    refused(
        lambda: r.set_lot_status(GTIN, "LOT1", L.RECALLED),
        "SerialRegistryRecallAlreadyRequested",
        lotId=lot_id(stock),
        regulator=r.address,
    )
    assert lot(stock).status == L.QUARANTINED


def test_a_second_regulator_confirms_the_recall(stock: DevNetwork, regulator_2: Ledger) -> None:
    stock["regulator"].set_lot_status(GTIN, "LOT1", L.RECALLED)
    receipt = regulator_2.set_lot_status(GTIN, "LOT1", L.RECALLED)
    (changed,) = receipt.events
    assert status_change(changed) == (L.RECALLED, regulator_2.address)
    assert standing(stock) == (L.RECALLED, Authority.REGULATOR, ZERO_ADDRESS)
    assert verdict(stock) == V.RECALLED
    refused(
        lambda: stock["pharmacy_a"].decommission([HELD], DecommissionReason.DISPENSED),
        "SerialRegistryLotNotActive",
        status=L.RECALLED,
    )


def test_a_request_of_a_regulator_revoked_since_does_not_count_towards_a_recall(
    stock: DevNetwork, regulator_2: Ledger
) -> None:
    stock["regulator"].set_lot_status(GTIN, "LOT1", L.RECALLED)
    govern(stock, "setMemberStatus", stock.address("regulator"), int(MemberStatus.REVOKED))
    receipt = regulator_2.set_lot_status(GTIN, "LOT1", L.RECALLED)
    assert names(receipt) == ["LotRecallRequested"]
    assert standing(stock) == (L.QUARANTINED, Authority.REGULATOR, regulator_2.address)
    assert verdict(stock) == V.QUARANTINED


def test_a_recall_request_on_a_lot_a_regulator_quarantined_only_records_the_request(
    stock: DevNetwork, regulator_2: Ledger
) -> None:
    regulator_2.set_lot_status(GTIN, "LOT1", L.QUARANTINED)
    r = stock["regulator"]
    assert names(r.set_lot_status(GTIN, "LOT1", L.RECALLED)) == ["LotRecallRequested"]
    assert standing(stock) == (L.QUARANTINED, Authority.REGULATOR, r.address)


def test_a_recall_request_takes_over_an_owners_quarantine_at_regulator_level(
    stock: DevNetwork,
) -> None:
    m = stock["manufacturer"]
    m.set_lot_status(GTIN, "LOT1", L.QUARANTINED)
    receipt = stock["regulator"].set_lot_status(GTIN, "LOT1", L.RECALLED)
    assert names(receipt) == ["LotRecallRequested", "LotStatusChanged"]
    assert (lot(stock).status, lot(stock).status_authority) == (L.QUARANTINED, Authority.REGULATOR)
    refused(
        lambda: m.set_lot_status(GTIN, "LOT1", L.ACTIVE),
        "SerialRegistryAuthorityTooLow",
        raisedBy=Authority.REGULATOR,
        caller=Authority.OWNER,
    )


def test_regulators_are_peers_one_releases_and_clears_what_another_raised(
    stock: DevNetwork, regulator_2: Ledger
) -> None:
    stock["regulator"].set_lot_status(GTIN, "LOT1", L.RECALLED)
    stock["regulator"].flag([HELD], PackFlag.ILLEGITIMATE, 9)
    regulator_2.set_lot_status(GTIN, "LOT1", L.ACTIVE)
    regulator_2.flag([HELD], PackFlag(0))
    assert standing(stock) == (L.ACTIVE, Authority.NONE, ZERO_ADDRESS)
    assert (pack(stock).flags, pack(stock).flag_authority) == (PackFlag(0), Authority.NONE)
    assert verdict(stock) == V.VERIFIED


def test_releasing_the_quarantine_clears_a_pending_recall_request(stock: DevNetwork) -> None:
    r = stock["regulator"]
    r.set_lot_status(GTIN, "LOT1", L.RECALLED)
    r.set_lot_status(GTIN, "LOT1", L.ACTIVE)
    assert standing(stock) == (L.ACTIVE, Authority.NONE, ZERO_ADDRESS)
    assert verdict(stock) == V.VERIFIED
    # a new request, not a repeated one
    assert names(r.set_lot_status(GTIN, "LOT1", L.RECALLED))[0] == "LotRecallRequested"


def test_the_owner_recalls_its_own_lot_at_once_and_cannot_undo_it(stock: DevNetwork) -> None:
    m, r = stock["manufacturer"], stock["regulator"]
    receipt = m.set_lot_status(GTIN, "LOT1", L.RECALLED)
    assert names(receipt) == ["LotStatusChanged"]
    assert standing(stock) == (L.RECALLED, Authority.OWNER, ZERO_ADDRESS)
    assert verdict(stock) == V.RECALLED
    for who in (m, r):  # only the council changes a recalled lot
        refused(
            lambda who=who: who.set_lot_status(GTIN, "LOT1", L.ACTIVE),
            "SerialRegistryInvalidLotStatus",
            to=L.ACTIVE,
        )


def test_the_owner_may_still_recall_a_lot_a_regulator_quarantined(stock: DevNetwork) -> None:
    stock["regulator"].set_lot_status(GTIN, "LOT1", L.QUARANTINED)
    stock["manufacturer"].set_lot_status(GTIN, "LOT1", L.RECALLED)
    assert lot(stock).status == L.RECALLED


def test_the_owner_cannot_lift_a_regulators_quarantine(stock: DevNetwork) -> None:
    stock["regulator"].set_lot_status(GTIN, "LOT1", L.QUARANTINED)
    refused(
        lambda: stock["manufacturer"].set_lot_status(GTIN, "LOT1", L.ACTIVE),
        "SerialRegistryAuthorityTooLow",
        id=lot_id(stock),
        raisedBy=Authority.REGULATOR,
        caller=Authority.OWNER,
    )
    assert lot(stock).status == L.QUARANTINED


def test_a_higher_authority_takes_over_a_quarantine_an_equal_or_lower_one_cannot_repeat_it(
    stock: DevNetwork,
) -> None:
    m, r = stock["manufacturer"], stock["regulator"]
    m.set_lot_status(GTIN, "LOT1", L.QUARANTINED)
    refused(lambda: m.set_lot_status(GTIN, "LOT1", L.QUARANTINED), "SerialRegistryInvalidLotStatus")
    receipt = r.set_lot_status(GTIN, "LOT1", L.QUARANTINED)
    assert names(receipt) == ["LotStatusChanged"]
    assert lot(stock).status_authority == Authority.REGULATOR
    for who in (r, m):
        refused(
            lambda who=who: who.set_lot_status(GTIN, "LOT1", L.QUARANTINED),
            "SerialRegistryInvalidLotStatus",
        )


# ---------------------------------------------------------------- the council


def test_the_council_recalls_a_lot_at_once(stock: DevNetwork) -> None:
    receipt = council_sets_lot(stock, L.RECALLED)
    changed = next(e for e in receipt.events if e.name == "LotStatusChanged")
    consortium = stock["auditor"].consortium.address
    assert (changed.args["by"], changed.args["status"]) == (consortium, L.RECALLED)
    assert "LotRecallRequested" not in names(receipt)
    assert (lot(stock).status, lot(stock).status_authority) == (L.RECALLED, Authority.COUNCIL)
    assert verdict(stock) == V.RECALLED


@pytest.mark.parametrize("restored", [L.ACTIVE, L.QUARANTINED])
def test_the_council_restores_a_lot_two_regulators_recalled(
    stock: DevNetwork, regulator_2: Ledger, restored: types.LotStatus
) -> None:
    recalled_by_two_regulators(stock, regulator_2)
    council_sets_lot(stock, restored)
    view = lot(stock)
    authority = Authority.NONE if restored == L.ACTIVE else Authority.COUNCIL
    assert (view.status, view.status_authority) == (restored, authority)
    if restored == L.ACTIVE:
        assert verdict(stock) == V.VERIFIED
        stock["pharmacy_a"].decommission([HELD], DecommissionReason.DISPENSED)
    else:  # nobody below the council lifts its quarantine
        refused(
            lambda: stock["regulator"].set_lot_status(GTIN, "LOT1", L.ACTIVE),
            "SerialRegistryAuthorityTooLow",
            raisedBy=Authority.COUNCIL,
            caller=Authority.REGULATOR,
        )


def test_the_council_clears_a_regulators_illegitimate_flag(stock: DevNetwork) -> None:
    stock["regulator"].flag([HELD], PackFlag.ILLEGITIMATE, 9)
    held = owners(stock).pack_id(*HELD)
    registry = stock["auditor"].registry
    receipt = as_council(stock, registry, "flagPacks", [held], 0, 0, types.ZERO_HASH)
    flagged = next(e for e in receipt.events if e.name == "PacksFlagged")
    assert flagged.args["by"] == stock["auditor"].consortium.address
    assert (pack(stock).flags, pack(stock).flag_authority) == (PackFlag(0), Authority.NONE)
    assert verdict(stock) == V.VERIFIED


# ---------------------------------------------------------------- pack flags


@pytest.mark.parametrize("flags", [PackFlag(0), PackFlag.SUSPECT])
def test_the_owner_cannot_clear_or_downgrade_a_regulators_illegitimate_flag(
    stock: DevNetwork, flags: PackFlag
) -> None:
    stock["regulator"].flag([HELD], PackFlag.ILLEGITIMATE, 9)
    refused(
        lambda: stock["manufacturer"].flag([HELD], flags),
        "SerialRegistryAuthorityTooLow",
        id=owners(stock).pack_id(*HELD),
        raisedBy=Authority.REGULATOR,
        caller=Authority.OWNER,
    )
    view = pack(stock)
    assert (view.flags, view.flag_reason, view.flag_authority) == (
        PackFlag.ILLEGITIMATE,
        9,
        Authority.REGULATOR,
    )


def test_a_holder_cannot_overwrite_a_regulators_illegitimate_with_suspect(
    stock: DevNetwork,
) -> None:
    stock["regulator"].flag([HELD], PackFlag.ILLEGITIMATE, 9)
    refused(
        lambda: stock["pharmacy_a"].flag([HELD], PackFlag.SUSPECT, 1),
        "SerialRegistryAuthorityTooLow",
        raisedBy=Authority.REGULATOR,
        caller=Authority.HOLDER,
    )
    assert verdict(stock) == V.ILLEGITIMATE


def test_a_holder_raises_suspect_and_the_owner_clears_it(stock: DevNetwork) -> None:
    stock["pharmacy_a"].flag([HELD], PackFlag.SUSPECT, 3)
    view = pack(stock)
    assert (view.flags, view.flag_reason, view.flag_authority) == (
        PackFlag.SUSPECT,
        3,
        Authority.HOLDER,
    )
    assert verdict(stock) == V.SUSPECT
    stock["manufacturer"].flag([HELD], PackFlag(0))
    assert (pack(stock).flags, pack(stock).flag_authority) == (PackFlag(0), Authority.NONE)
    assert verdict(stock) == V.VERIFIED


def test_a_holder_cannot_clear_even_its_own_suspect(stock: DevNetwork) -> None:
    p = stock["pharmacy_a"]
    p.flag([HELD], PackFlag.SUSPECT)
    refused(lambda: p.flag([HELD], PackFlag(0)), "SerialRegistryNotAuthorised", caller=p.address)


def test_an_owners_flag_is_raised_at_owner_level_and_a_regulator_takes_it_over(
    stock: DevNetwork,
) -> None:
    stock["manufacturer"].flag([HELD], PackFlag.SUSPECT)
    assert pack(stock).flag_authority == Authority.OWNER
    stock["regulator"].flag([HELD], PackFlag.SUSPECT | PackFlag.ILLEGITIMATE)
    assert pack(stock).flag_authority == Authority.REGULATOR


# ---------------------------------------------------------------- a manufacturer removed


def _remove_manufacturer(net: DevNetwork, status: MemberStatus) -> None:
    address = net.address("manufacturer")
    govern(net, "setMemberStatus", address, int(status), by=("wholesaler_a", "regulator"))


@pytest.mark.parametrize("status", [MemberStatus.SUSPENDED, MemberStatus.REVOKED])
def test_a_removed_manufacturers_packs_keep_answering_by_their_own_state(
    stock: DevNetwork, status: MemberStatus
) -> None:
    _remove_manufacturer(stock, status)
    assert verdict(stock, "S1") == verdict(stock, "S2") == V.VERIFIED
    stock["pharmacy_a"].decommission([HELD], DecommissionReason.DISPENSED)
    assert pack(stock).status == types.PackStatus.DECOMMISSIONED
    assert verdict(stock, "S1") == V.DECOMMISSIONED


WRITES: dict[str, Callable[[Ledger], object]] = {
    "register a lot": lambda m: m.register_lot(GTIN, "LOT2", EXPIRY),
    "commission": lambda m: m.commission(GTIN, "LOT1", ["S9"]),
    "recall its lot": lambda m: m.set_lot_status(GTIN, "LOT1", L.RECALLED),
    "ship": lambda m: m.ship(dev_account("pharmacy_a").address, packs=[(GTIN, "S2")]),
    "flag": lambda m: m.flag([(GTIN, "S2")], PackFlag.ILLEGITIMATE),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_revoked_manufacturer_can_no_longer_write(stock: DevNetwork, write: str) -> None:
    _remove_manufacturer(stock, MemberStatus.REVOKED)
    refused(
        lambda: WRITES[write](stock["manufacturer"]),
        "ConsortiumMemberNotActive",
        status=MemberStatus.REVOKED,
    )


def test_two_regulators_still_recall_a_revoked_manufacturers_lot(
    stock: DevNetwork, regulator_2: Ledger
) -> None:
    _remove_manufacturer(stock, MemberStatus.REVOKED)
    recalled_by_two_regulators(stock, regulator_2)
    assert verdict(stock, "S1") == verdict(stock, "S2") == V.RECALLED


def test_a_revoked_manufacturers_codes_answer_product_mismatch_once_its_prefix_is_revoked(
    stock: DevNetwork,
) -> None:
    _remove_manufacturer(stock, MemberStatus.REVOKED)
    govern(stock, "revokePrefix", "0614141", by=("wholesaler_a", "regulator"))
    assert verdict(stock, "S1") == verdict(stock, "S2") == V.PRODUCT_MISMATCH
