"""No member captures governance or acts alone irreversibly: approvals count only while their
council member stands, proposals can be cancelled, licence renewals never lock the council,
and an undo deadline is fixed when the decommission is made."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger_client.contracts import MemberStatus, Role
from ledger_client.devnet import DevNetwork
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import DecommissionReason, PackStatus
from tests.utils.chain import Chain
from tests.utils.factories import GTIN, commissioned
from tests.utils.governance import approve, encode, govern, propose

FAR_FUTURE = 4_102_444_800  # 2100-01-01
DAY = 24 * 3600
UNDO_WINDOW = b"UNDO_WINDOW".ljust(32, b"\0")
PROPOSER, DEADLINE, APPROVALS, EXECUTED, CANCELLED, DATA = range(6)
"""Fields of a Consortium proposal, in order."""


def proposal(net: DevNetwork, proposal_id: int) -> tuple:  # type: ignore[type-arg]
    return tuple(net["auditor"].consortium.functions.proposal(proposal_id).call())


def counted(net: DevNetwork, proposal_id: int) -> int:
    return int(net["auditor"].consortium.functions.countedApprovals(proposal_id).call())


def member_status(net: DevNetwork, account: str) -> MemberStatus:
    return MemberStatus(net["auditor"].consortium.functions.member(account).call()[3])


def refused(call: Callable[[], object]) -> LedgerRevertError:
    with pytest.raises(LedgerRevertError) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------- approvals that count


def _lose_seat(net: DevNetwork, chain: Chain, how: str) -> None:
    """wholesaler_a stops being a council member in good standing, by ``how``."""
    w, by = net.address("wholesaler_a"), ("manufacturer", "regulator")
    if how == "lost COUNCIL":
        govern(net, "setMemberRoles", w, int(Role.WHOLESALER), by=by)
    elif how == "licence expired":
        govern(net, "setLicenceExpiry", w, chain.now() + 60, by=by)
        chain.advance(120)
    else:
        govern(net, "setMemberStatus", w, int(MemberStatus[how.upper()]), by=by)


@pytest.mark.parametrize("how", ["lost COUNCIL", "suspended", "revoked", "licence expired"])
def test_a_proposal_of_a_member_that_lost_its_seat_needs_two_standing_approvals(
    net: DevNetwork, chain: Chain, how: str
) -> None:
    """wholesaler_a proposes to admit an outsider as council, then loses its seat: one more
    approval no longer executes it; two standing ones do."""
    outsider = chain.ledger("outsider").address
    data = encode(net, "addMember", outsider, 4012353000016, int(Role.COUNCIL), FAR_FUTURE)
    proposal_id, _ = propose(net, "wholesaler_a", data)
    _lose_seat(net, chain, how)

    receipt = approve(net, "regulator", proposal_id)
    assert [e.name for e in receipt.events] == ["ProposalApproved"]
    assert (proposal(net, proposal_id)[APPROVALS], counted(net, proposal_id)) == (2, 1)
    assert not proposal(net, proposal_id)[EXECUTED]
    assert member_status(net, outsider) == MemberStatus.NONE

    receipt = approve(net, "manufacturer", proposal_id)
    assert receipt.events[-1].name == "ProposalExecuted"
    assert member_status(net, outsider) == MemberStatus.ACTIVE


# ---------------------------------------------------------------- cancel


def test_the_proposer_cancels_its_proposal_and_it_is_closed(net: DevNetwork) -> None:
    proposal_id, _ = propose(net, "manufacturer", encode(net, "revokePrefix", "9506000"))
    m = net["manufacturer"]
    receipt = m.transact(m.consortium.functions.cancel(proposal_id))
    (event,) = receipt.events
    assert (event.name, event.args["id"], event.args["by"]) == (
        "ProposalCancelled",
        proposal_id,
        m.address,
    )
    assert proposal(net, proposal_id)[EXECUTED : CANCELLED + 1] == (False, True)
    assert refused(lambda: approve(net, "regulator", proposal_id)).error == (
        "ConsortiumProposalClosed"
    )
    again = refused(lambda: m.transact(m.consortium.functions.cancel(proposal_id)))
    assert again.error == "ConsortiumProposalClosed"


def test_the_council_cancels_a_proposal_through_a_proposal(net: DevNetwork) -> None:
    target, _ = propose(net, "wholesaler_a", encode(net, "revokePrefix", "9506000"))
    receipt = govern(net, "cancel", target, by=("manufacturer", "regulator"))
    cancelled = next(e for e in receipt.events if e.name == "ProposalCancelled")
    consortium = net["auditor"].consortium.address
    assert (cancelled.args["id"], cancelled.args["by"]) == (target, consortium)
    assert proposal(net, target)[CANCELLED]
    error = refused(lambda: approve(net, "manufacturer", target))
    assert (error.error, error.args_by_name) == ("ConsortiumProposalClosed", {"id": target})


@pytest.mark.parametrize("caller", ["regulator", "wholesaler_a", "auditor", "outsider"])
def test_a_cancel_by_anyone_but_the_proposer_reverts_not_proposer(
    net: DevNetwork, chain: Chain, caller: str
) -> None:
    proposal_id, _ = propose(net, "manufacturer", encode(net, "revokePrefix", "9506000"))
    ledger = chain.ledger(caller)
    error = refused(lambda: ledger.transact(ledger.consortium.functions.cancel(proposal_id)))
    assert error.error == "ConsortiumNotProposer"
    assert error.args_by_name["id"] == proposal_id
    assert error.args_by_name["caller"].lower() == ledger.address.lower()
    assert not proposal(net, proposal_id)[CANCELLED]


def test_a_proposer_that_lost_its_seat_may_still_withdraw_its_proposal(
    net: DevNetwork, chain: Chain
) -> None:
    proposal_id, _ = propose(net, "wholesaler_a", encode(net, "revokePrefix", "9506000"))
    _lose_seat(net, chain, "revoked")
    w = net["wholesaler_a"]
    w.transact(w.consortium.functions.cancel(proposal_id))
    assert proposal(net, proposal_id)[CANCELLED]


def test_an_executed_or_unknown_proposal_cannot_be_cancelled(net: DevNetwork) -> None:
    proposal_id, _ = propose(net, "manufacturer", encode(net, "revokePrefix", "9506000"))
    approve(net, "regulator", proposal_id)
    m = net["manufacturer"]
    closed = refused(lambda: m.transact(m.consortium.functions.cancel(proposal_id)))
    assert closed.error == "ConsortiumProposalClosed"
    unknown = refused(lambda: m.transact(m.consortium.functions.cancel(99)))
    assert unknown.error == "ConsortiumUnknownProposal"


# ---------------------------------------------------------------- licence renewals


def test_licence_renewal_passes_with_two_of_three_council_licences_expired(
    net: DevNetwork, chain: Chain
) -> None:
    m, w = net.address("manufacturer"), net.address("wholesaler_a")
    pending, _ = propose(net, "manufacturer", encode(net, "revokePrefix", "9506000"))
    for account in (m, w):
        govern(net, "setLicenceExpiry", account, chain.now() + 60)
    chain.advance(120)  # only the regulator's licence is valid now

    # a non-renewal proposal: lapsed members neither act nor count
    assert [e.name for e in approve(net, "regulator", pending).events] == ["ProposalApproved"]
    assert counted(net, pending) == 1
    lapsed = refused(lambda: propose(net, "manufacturer", encode(net, "revokePrefix", "0614142")))
    assert lapsed.error == "ConsortiumLicenceExpired"
    assert refused(lambda: approve(net, "wholesaler_a", pending)).error == (
        "ConsortiumLicenceExpired"
    )

    # the renewal: proposed and approved by the two lapsed members
    receipt = govern(net, "setLicenceExpiry", m, FAR_FUTURE, by=("manufacturer", "wholesaler_a"))
    assert receipt.events[-1].name == "ProposalExecuted"
    assert net["auditor"].consortium.functions.member(m).call()[4] == FAR_FUTURE
    assert counted(net, pending) == 2  # the manufacturer's approval counts again

    # normal proposals work again
    receipt = govern(net, "setParameter", UNDO_WINDOW, 5 * DAY, by=("manufacturer", "regulator"))
    assert receipt.events[-1].name == "ProposalExecuted"


# ---------------------------------------------------------------- the undo deadline


@pytest.fixture
def dispensed(net: DevNetwork) -> int:
    """pharmacy_a dispensed S1 under the default 10-day undo window; return when."""
    p = net["pharmacy_a"]
    packs = commissioned(net["manufacturer"], ["S1", "S2"])
    net["manufacturer"].ship(p.address, packs=packs)
    p.receive(packs=packs)
    p.decommission([(GTIN, "S1")], DecommissionReason.DISPENSED)
    state = p.pack_state(GTIN, "S1")
    assert state.undo_deadline == state.decommissioned_at + 10 * DAY
    return state.decommissioned_at


def test_a_longer_undo_window_set_after_a_dispense_does_not_extend_it(
    net: DevNetwork, chain: Chain, dispensed: int
) -> None:
    p = net["pharmacy_a"]
    govern(net, "setParameter", UNDO_WINDOW, 20 * DAY)
    assert p.pack_state(GTIN, "S1").undo_deadline == dispensed + 10 * DAY
    p.decommission([(GTIN, "S2")], DecommissionReason.DISPENSED)
    later = p.pack_state(GTIN, "S2")
    assert later.undo_deadline == later.decommissioned_at + 20 * DAY  # a new dispense: new window

    chain.time_travel(dispensed + 10 * DAY + 1)
    error = refused(lambda: p.undo_decommission([(GTIN, "S1")]))
    assert (error.error, error.args_by_name["deadline"]) == (
        "SerialRegistryUndoWindowClosed",
        dispensed + 10 * DAY,
    )
    p.undo_decommission([(GTIN, "S2")])


def test_a_shorter_undo_window_set_after_a_dispense_does_not_shorten_it(
    net: DevNetwork, chain: Chain, dispensed: int
) -> None:
    p = net["pharmacy_a"]
    govern(net, "setParameter", UNDO_WINDOW, 3600)
    chain.time_travel(dispensed + 10 * DAY - 60)
    p.undo_decommission([(GTIN, "S1")])
    assert p.pack_state(GTIN, "S1").status == PackStatus.ACTIVE


@pytest.mark.parametrize("reason", [DecommissionReason.DESTROYED, DecommissionReason.STOLEN])
def test_a_final_decommission_has_no_undo_deadline(
    net: DevNetwork, reason: DecommissionReason
) -> None:
    m = net["manufacturer"]
    commissioned(m, ["S1"])
    m.decommission([(GTIN, "S1")], reason)
    assert m.pack_state(GTIN, "S1").undo_deadline == 0
