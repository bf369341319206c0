"""Access grants on chain: a lot's owner grants an auditor read access to the lot's events,
until an expiry or until revoked; the council does the same by proposal and overrules the
owner; nobody else changes a grant, and only auditors receive one."""

from __future__ import annotations

import pytest

from ledger_client.contracts import MemberStatus, Role
from ledger_client.devnet import DevNetwork
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import AccessGrant, GrantAuthority
from tests.utils.chain import Chain
from tests.utils.factories import EXPIRY, GTIN, owners
from tests.utils.governance import as_council, govern

NONE = AccessGrant(0, GrantAuthority.NONE)


@pytest.fixture
def lot(net: DevNetwork) -> bytes:
    """The manufacturer's lot LOT1, its on-chain id."""
    net["manufacturer"].register_lot(GTIN, "LOT1", EXPIRY)
    return owners(net).lot_id(GTIN, "LOT1")


def grant_of(net: DevNetwork, lot: bytes, name: str = "auditor") -> AccessGrant:
    return net["regulator"].access_grant(lot, net.address(name))


def has_access(net: DevNetwork, lot: bytes, name: str = "auditor") -> bool:
    grants = net["regulator"].grants
    return bool(grants.functions.hasAccess(lot, net.address(name)).call())


def refused(call: object) -> LedgerRevertError:
    assert callable(call)
    with pytest.raises(LedgerRevertError) as caught:
        call()
    return caught.value


def test_the_owner_grants_an_auditor_until_revoked(net: DevNetwork, lot: bytes) -> None:
    m, auditor = net["manufacturer"], net.address("auditor")
    receipt = m.grant_access(lot, auditor)
    [event] = receipt.events
    assert (event.name, event.args) == (
        "AccessGranted",
        {"lotId": lot, "grantee": auditor, "by": m.address, "expiresAt": 0},
    )
    assert grant_of(net, lot) == AccessGrant(0, GrantAuthority.OWNER)
    assert has_access(net, lot)
    [revoked] = m.revoke_access(lot, auditor).events
    assert (revoked.name, revoked.args) == (
        "AccessRevoked",
        {"lotId": lot, "grantee": auditor, "by": m.address},
    )
    assert grant_of(net, lot) == NONE and not has_access(net, lot)


def test_a_grant_expires_at_its_time(net: DevNetwork, chain: Chain, lot: bytes) -> None:
    until = chain.now() + 3600
    net["manufacturer"].grant_access(lot, net.address("auditor"), until)
    assert has_access(net, lot)
    chain.time_travel(until)
    assert not has_access(net, lot)
    assert grant_of(net, lot) == AccessGrant(until, GrantAuthority.OWNER)  # kept, but dead
    net["manufacturer"].revoke_access(lot, net.address("auditor"))  # and still revocable
    assert grant_of(net, lot) == NONE


def test_an_expiry_in_the_past_is_refused(net: DevNetwork, chain: Chain, lot: bytes) -> None:
    now = chain.now()
    error = refused(lambda: net["manufacturer"].grant_access(lot, net.address("auditor"), now))
    assert error.error == "AccessGrantsInvalidExpiry"
    assert error.args_by_name["expiresAt"] == now


def test_granting_twice_changes_the_expiry_or_is_refused(
    net: DevNetwork, chain: Chain, lot: bytes
) -> None:
    m, auditor = net["manufacturer"], net.address("auditor")
    m.grant_access(lot, auditor)
    error = refused(lambda: m.grant_access(lot, auditor))
    assert (error.error, error.args_by_name["expiresAt"]) == ("AccessGrantsUnchanged", 0)
    later = chain.now() + 600
    m.grant_access(lot, auditor, later)
    assert grant_of(net, lot) == AccessGrant(later, GrantAuthority.OWNER)


@pytest.mark.parametrize("grantee", ["wholesaler_a", "regulator", "pharmacy_a", "outsider"])
def test_only_an_active_auditor_may_be_granted(
    net: DevNetwork, chain: Chain, lot: bytes, grantee: str
) -> None:
    address = chain.ledger(grantee).address
    error = refused(lambda: net["manufacturer"].grant_access(lot, address))
    assert error.error == "AccessGrantsInvalidGrantee"
    assert error.args_by_name == {"grantee": address.lower()}


def test_a_suspended_auditor_may_not_be_granted(net: DevNetwork, lot: bytes) -> None:
    govern(net, "setMemberStatus", net.address("auditor"), int(MemberStatus.SUSPENDED))
    error = refused(lambda: net["manufacturer"].grant_access(lot, net.address("auditor")))
    assert error.error == "AccessGrantsInvalidGrantee"


@pytest.mark.parametrize("caller", ["repackager", "wholesaler_a", "regulator", "auditor"])
def test_no_member_but_the_owner_grants_or_revokes(
    net: DevNetwork, lot: bytes, caller: str
) -> None:
    auditor = net.address("auditor")
    error = refused(lambda: net[caller].grant_access(lot, auditor))
    assert error.error == "AccessGrantsNotLotOwner"
    assert error.args_by_name == {"lotId": lot, "caller": net.address(caller).lower()}
    net["manufacturer"].grant_access(lot, auditor)
    error = refused(lambda: net[caller].revoke_access(lot, auditor))
    assert error.error == "AccessGrantsNotLotOwner"
    assert has_access(net, lot)


def test_a_lot_must_exist(net: DevNetwork) -> None:
    unknown = owners(net).lot_id(GTIN, "NOPE")
    error = refused(lambda: net["manufacturer"].grant_access(unknown, net.address("auditor")))
    assert (error.error, error.args_by_name) == ("AccessGrantsUnknownLot", {"lotId": unknown})


def test_revoking_what_was_never_granted_is_refused(net: DevNetwork, lot: bytes) -> None:
    error = refused(lambda: net["manufacturer"].revoke_access(lot, net.address("auditor")))
    assert error.error == "AccessGrantsNotGranted"


def test_the_council_grants_by_proposal_and_the_owner_cannot_undo_it(
    net: DevNetwork, lot: bytes
) -> None:
    m, auditor = net["manufacturer"], net.address("auditor")
    grants = m.grants
    receipt = as_council(net, grants, "grant", lot, auditor, 0, by=("wholesaler_a", "regulator"))
    granted = next(e for e in receipt.events if e.name == "AccessGranted")
    assert granted.args["by"] == net.deployment.consortium
    assert grant_of(net, lot) == AccessGrant(0, GrantAuthority.COUNCIL)
    for call in (lambda: m.revoke_access(lot, auditor), lambda: m.grant_access(lot, auditor, 0)):
        error = refused(call)
        assert error.error == "AccessGrantsAuthorityTooLow"
        assert error.args_by_name["grantedBy"] == GrantAuthority.COUNCIL
    as_council(net, grants, "revoke", lot, auditor)
    assert grant_of(net, lot) == NONE


def test_the_council_overrules_and_revokes_an_owners_grant(net: DevNetwork, lot: bytes) -> None:
    auditor = net.address("auditor")
    net["manufacturer"].grant_access(lot, auditor)
    receipt = as_council(net, net["manufacturer"].grants, "revoke", lot, auditor)
    assert "AccessRevoked" in [e.name for e in receipt.events]
    assert not has_access(net, lot)


def test_one_council_key_alone_does_not_grant(net: DevNetwork, lot: bytes) -> None:
    """The council's authority needs a passed proposal: a council member's own call is that
    of a member, refused unless it owns the lot."""
    error = refused(lambda: net["wholesaler_a"].grant_access(lot, net.address("auditor")))
    assert error.error == "AccessGrantsNotLotOwner"


def test_a_suspended_owner_can_no_longer_grant_and_its_grants_stay(
    net: DevNetwork, lot: bytes
) -> None:
    m, auditor = net["manufacturer"], net.address("auditor")
    m.grant_access(lot, auditor)
    govern(
        net,
        "setMemberStatus",
        m.address,
        int(MemberStatus.SUSPENDED),
        by=("wholesaler_a", "regulator"),
    )
    for call in (lambda: m.revoke_access(lot, auditor), lambda: m.grant_access(lot, auditor, 0)):
        assert refused(call).error == "ConsortiumMemberNotActive"
    assert has_access(net, lot)  # the council revokes it if it must
    as_council(net, m.grants, "revoke", lot, auditor, by=("wholesaler_a", "regulator"))
    assert not has_access(net, lot)


def test_grants_follow_the_auditor_through_a_key_rotation(
    net: DevNetwork, chain: Chain, lot: bytes
) -> None:
    net["manufacturer"].grant_access(lot, net.address("auditor"))
    new = chain.ledger("outsider").address
    govern(net, "rotateMemberKey", net.address("auditor"), new)
    assert net["regulator"].access_grant(lot, new) == AccessGrant(0, GrantAuthority.OWNER)
    assert net["regulator"].access_grant(lot, net.address("auditor")) == NONE


def test_an_auditor_role_granted_later_is_needed_at_grant_time(net: DevNetwork, lot: bytes) -> None:
    wholesaler = net.address("wholesaler_b")
    govern(net, "setMemberRoles", wholesaler, int(Role.WHOLESALER | Role.AUDITOR))
    net["manufacturer"].grant_access(lot, wholesaler)
    assert has_access(net, lot, "wholesaler_b")
