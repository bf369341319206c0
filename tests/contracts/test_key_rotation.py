"""A member's key rotated by the council: the member keeps its index, and with it every record
it created, holds or has coming, its roles, licence, GLN, prefixes and council seat; the old
key is no member and can do nothing more. The auditor's replay follows the rotation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from web3 import Web3

from ledger_client.audit import audit
from ledger_client.contracts import MemberStatus
from ledger_client.devnet import DevNetwork
from ledger_client.ledger import Ledger
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import ZERO_ADDRESS, LotStatus, PackStatus, VerificationStatus
from tests.utils.chain import Chain
from tests.utils.factories import EXPIRY, GTIN, commissioned, make_sscc, owners
from tests.utils.governance import approve, encode, govern, propose

CASE = make_sscc("0614141", 901)
UNDO_WINDOW = b"UNDO_WINDOW".ljust(32, b"\0")


@dataclass
class Rotated:
    """The manufacturer rotated to a new key, with goods held, in transit to it and sent."""

    old: Ledger
    new: Ledger
    index: int
    gln: int
    open_proposal: int


def _member(net: DevNetwork, account: str) -> tuple:  # type: ignore[type-arg]
    return tuple(net["auditor"].consortium.functions.member(account).call())


@pytest.fixture
def rotated(net: DevNetwork, chain: Chain) -> Rotated:
    """The manufacturer holds case CASE (R1, R2), has R3 coming back from wholesaler_a, has
    sent R4 to wholesaler_a, and proposed a change; then the council (wholesaler_a and the
    regulator) rotates its key to a new account."""
    m, w = net["manufacturer"], net["wholesaler_a"]
    commissioned(m, ["R1", "R2"], into=CASE)
    commissioned(m, ["R3", "R4"], register=False)
    m.ship(w.address, packs=[(GTIN, "R3"), (GTIN, "R4")])
    w.receive(packs=[(GTIN, "R3")])
    w.ship(m.address, packs=[(GTIN, "R3")])
    consortium = net["auditor"].consortium
    index, gln = _member(net, m.address)[1], consortium.functions.gln(m.address).call()
    open_proposal, _ = propose(net, "manufacturer", encode(net, "setParameter", UNDO_WINDOW, 7200))
    new = chain.ledger("outsider")
    receipt = govern(
        net, "rotateMemberKey", m.address, new.address, by=("wholesaler_a", "regulator")
    )
    rotation = next(e for e in receipt.events if e.name == "MemberKeyRotated")
    assert rotation.args == {"account": m.address, "newAccount": new.address, "index": index}
    return Rotated(m, new, index, gln, open_proposal)


def test_the_new_key_is_the_same_member_and_the_old_one_is_none(
    net: DevNetwork, rotated: Rotated
) -> None:
    consortium = net["auditor"].consortium
    old, new = rotated.old.address, rotated.new.address
    roles, licence = _member(net, new)[2], _member(net, new)[4]
    assert _member(net, new) == (new, rotated.index, roles, MemberStatus.ACTIVE, licence)
    assert _member(net, old) == (ZERO_ADDRESS, 0, 0, MemberStatus.NONE, 0)
    assert consortium.functions.accountAt(rotated.index).call() == new
    assert consortium.functions.gln(new).call() == rotated.gln
    assert consortium.functions.gln(old).call() == 0
    assert consortium.functions.councilSize().call() == 3
    assert consortium.functions.prefixOwner(GTIN).call() == new
    assert consortium.functions.prefixOwnerIndex(GTIN).call() == rotated.index


def test_the_new_key_ships_receives_and_commissions_what_the_member_holds(
    net: DevNetwork, rotated: Rotated
) -> None:
    new, pharmacy = rotated.new, net["pharmacy_a"]
    assert new.unit_state(CASE).custodian == new.address
    assert new.pack_state(GTIN, "R3").pending_to == new.address
    assert new.pack_state(GTIN, "R4").custodian == new.address  # the sender, while in transit
    new.receive(packs=[(GTIN, "R3")])
    new.ship(pharmacy.address, units=[CASE], packs=[(GTIN, "R3")])
    pharmacy.receive(units=[CASE], packs=[(GTIN, "R3")])
    commissioned(new, ["R5"], register=False)  # into the lot the old key registered
    new.set_lot_status(GTIN, "LOT1", LotStatus.QUARANTINED)
    assert pharmacy.pack_state(GTIN, "R1").custodian == pharmacy.address
    lot = new.lot_state(GTIN, "LOT1")
    assert (lot.id, lot.owner) == (owners(net).lot_id(GTIN, "LOT1"), new.address)
    verification = pharmacy.verify(GTIN, "R5", "LOT1", EXPIRY)
    assert verification.status == VerificationStatus.QUARANTINED
    assert verification.product_owner == new.address
    assert new.pack_state(GTIN, "R5").status == PackStatus.ACTIVE


@pytest.mark.parametrize("action", ["ship", "receive", "commission", "propose", "approve"])
def test_the_old_key_can_do_nothing(net: DevNetwork, rotated: Rotated, action: str) -> None:
    old = rotated.old
    calls = {
        "ship": lambda: old.ship(net.address("pharmacy_a"), units=[CASE]),
        "receive": lambda: old.receive(packs=[(GTIN, "R3")]),
        "commission": lambda: commissioned(old, ["R9"], register=False),
        "propose": lambda: old.transact(
            old.consortium.functions.propose(encode(net, "revokePrefix", "9506000"))
        ),
        "approve": lambda: old.transact(old.consortium.functions.approve(rotated.open_proposal)),
    }
    with pytest.raises(LedgerRevertError) as caught:
        calls[action]()
    assert caught.value.error == "ConsortiumNotMember"
    assert Web3.to_checksum_address(caught.value.args_by_name["account"]) == old.address


def test_the_old_keys_approvals_stop_counting_and_its_proposals_are_the_councils_to_cancel(
    net: DevNetwork, rotated: Rotated
) -> None:
    consortium, pid = net["auditor"].consortium, rotated.open_proposal
    assert consortium.functions.countedApprovals(pid).call() == 0
    with pytest.raises(LedgerRevertError) as caught:
        rotated.old.transact(consortium.functions.cancel(pid))
    assert caught.value.error == "ConsortiumNotMember"
    with pytest.raises(LedgerRevertError) as caught:
        rotated.new.transact(consortium.functions.cancel(pid))
    assert caught.value.error == "ConsortiumNotProposer"
    rotated.new.transact(consortium.functions.approve(pid))  # the member's one approval
    assert consortium.functions.countedApprovals(pid).call() == 1
    receipt = approve(net, "regulator", pid)
    assert receipt.events[-1].name == "ProposalExecuted"


def test_the_auditors_replay_follows_the_rotation(net: DevNetwork, rotated: Rotated) -> None:
    rotated.new.receive(packs=[(GTIN, "R3")])
    result = audit(net["auditor"].w3, net.deployment)
    assert result.divergences == []
    assert result.compared["packs"] == 4
    assert result.model.member_accounts[rotated.index] == rotated.new.address
    assert result.model.prefix_owner(GTIN) == rotated.new.address


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("wholesaler_b", "pharmacy_a", "ConsortiumMemberExists"),
        ("wholesaler_b", "wholesaler_b", "ConsortiumMemberExists"),
        ("wholesaler_b", None, "ConsortiumInvalidMember"),
        ("outsider", "logistics", "ConsortiumNotMember"),
    ],
)
def test_a_rotation_to_a_member_zero_or_from_a_non_member_is_refused(
    net: DevNetwork, chain: Chain, old: str, new: str | None, error: str
) -> None:
    old_address = chain.ledger(old).address
    new_address = ZERO_ADDRESS if new is None else chain.ledger(new).address
    before = _member(net, old_address)
    with pytest.raises(LedgerRevertError) as caught:
        govern(net, "rotateMemberKey", old_address, new_address)
    assert caught.value.error == error
    assert _member(net, old_address) == before


def test_a_rotated_regulators_recall_request_stays_its_own(net: DevNetwork, chain: Chain) -> None:
    """A recall request is the requesting regulator's, by index: after its rotation the new
    key is that same regulator (it cannot confirm its own request) and the auditor agrees."""
    commissioned(net["manufacturer"], ["Q1"])
    regulator = net["regulator"]
    regulator.set_lot_status(GTIN, "LOT1", LotStatus.RECALLED)  # a request: quarantined
    new = chain.ledger("outsider")
    govern(net, "rotateMemberKey", regulator.address, new.address)
    assert new.lot_state(GTIN, "LOT1").recall_requested_by == new.address
    with pytest.raises(LedgerRevertError) as caught:
        new.set_lot_status(GTIN, "LOT1", LotStatus.RECALLED)
    assert caught.value.error == "SerialRegistryRecallAlreadyRequested"
    assert audit(net["auditor"].w3, net.deployment).divergences == []
