"""Who may call what: every state-changing function × every role and member status.

The table below is the rule book. Each cell runs the call on a chain where everything else
is in order (the caller holds the goods it acts on, the lot exists, ...), so the only thing
that decides the outcome is who the caller is. The goods are the caller's own for the five
supply-chain roles, and the manufacturer's for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ledger_client.contracts import MemberStatus, Role
from ledger_client.devnet import DevNetwork
from ledger_client.ledger import Ledger
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import DecommissionReason, LotStatus, PackFlag, Receipt
from tests.utils.chain import Chain
from tests.utils.factories import (
    EXPIRY,
    GTIN,
    MANUFACTURER_PREFIX,
    REPACKAGER_GTIN,
    make_gtin,
    make_sscc,
)
from tests.utils.governance import approve, encode, govern, propose

# ---------------------------------------------------------------- the rule book

OK = None
ROLE = "ConsortiumMissingRole"
INACTIVE = "ConsortiumMemberNotActive"
EXPIRED = "ConsortiumLicenceExpired"
NOT_MEMBER = "ConsortiumNotMember"
NOT_AUTHORISED = "SerialRegistryNotAuthorised"
NOT_LOT_OWNER = "SerialRegistryNotLotOwner"
BY_PROPOSAL = "ConsortiumOnlyByProposal"

#: The callers: the demo members by role, then members that are suspended, revoked or whose
#: licence expired (all holding every role), and an account that is not a member.
ACTORS = (
    "manufacturer", "repackager", "wholesaler", "logistics", "dispenser", "regulator", "auditor",
    "suspended", "revoked", "expired", "outsider",
)  # fmt: skip
ACCOUNTS = {"wholesaler": "wholesaler_b", "dispenser": "pharmacy_a"}
SUPPLY_CHAIN = ("manufacturer", "repackager", "wholesaler", "logistics", "dispenser")
#: What every member that is not active and licensed gets, whatever it calls.
STATUS = (INACTIVE, INACTIVE, EXPIRED, NOT_MEMBER)

# fmt: off
RULES: dict[str, tuple[str | None, ...]] = {
    #                          manuf.      repack.         wholes.         logist.         dispens.        regul.  auditor  # noqa: E501
    "registerLot":            (OK,         OK,             ROLE,           ROLE,           ROLE,           ROLE,   ROLE,           *STATUS),  # noqa: E501
    "setLotStatus":           (OK,         NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, OK,     NOT_AUTHORISED, *STATUS),  # noqa: E501
    "commission":             (OK,         NOT_LOT_OWNER,  ROLE,           ROLE,           ROLE,           ROLE,   ROLE,           *STATUS),  # noqa: E501
    "pack":                   (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "unpackItems":            (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "unpack":                 (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "ship":                   (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "receiveItems":           (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "decommission:DISPENSED": (ROLE,       ROLE,           ROLE,           ROLE,           OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "decommission:DESTROYED": (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "undoDecommission":       (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS),  # noqa: E501
    "flagPacks:SUSPECT":      (OK,         OK,             OK,             OK,             OK,             OK,     NOT_AUTHORISED, *STATUS),  # noqa: E501
    "flagPacks:ILLEGITIMATE": (OK,         NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, OK,     NOT_AUTHORISED, *STATUS),  # noqa: E501
    "flagPacks:clear":        (OK,         NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, OK,     NOT_AUTHORISED, *STATUS),  # noqa: E501
    "registerProduct":        (OK,         OK,             ROLE,           ROLE,           ROLE,           ROLE,   ROLE,           *STATUS),  # noqa: E501
    "propose":                (OK,         ROLE,           ROLE,           ROLE,           ROLE,           OK,     ROLE,           *STATUS),  # noqa: E501
    "approve":                (OK,         ROLE,           ROLE,           ROLE,           ROLE,           OK,     ROLE,           *STATUS),  # noqa: E501
    # Governed functions: nobody may call them directly, only an approved proposal.
    "addMember":              (BY_PROPOSAL,) * 11,
    "setMemberStatus":        (BY_PROPOSAL,) * 11,
    "setMemberRoles":         (BY_PROPOSAL,) * 11,
    "setLicenceExpiry":       (BY_PROPOSAL,) * 11,
    "assignPrefix":           (BY_PROPOSAL,) * 11,
    "revokePrefix":           (BY_PROPOSAL,) * 11,
    "setParameter":           (BY_PROPOSAL,) * 11,
}
# fmt: on
"""Notes: setLotStatus and flagPacks(ILLEGITIMATE or clear) are for the lot's owner (here the
manufacturer) and regulators; a supply-chain member may only raise SUSPECT on a pack it holds.
Council members (manufacturer, regulator, and wholesaler_a) propose and approve."""

FAR_FUTURE = 4_102_444_800  # 2100-01-01


# ---------------------------------------------------------------- the world the calls run in


def sscc_of(actor: str, n: int) -> str:
    return make_sscc(MANUFACTURER_PREFIX, 100 * (ACTORS.index(actor) + 1) + n)


@dataclass
class World:
    """The chain with every actor in place and holding goods; ``reset`` restores it."""

    chain: Chain
    net: DevNetwork
    snapshot: int
    proposal: int

    def reset(self) -> None:
        self.chain.revert(self.snapshot)

    def ledger(self, actor: str) -> Ledger:
        return self.chain.ledger(ACCOUNTS.get(actor, actor))

    def owner_of_goods(self, actor: str) -> str:
        return actor if actor in SUPPLY_CHAIN else "manufacturer"


def _give_goods(net: DevNetwork, chain: Chain, actor: str) -> None:
    """Actor holds H1 loose and case 1 (C1, C2), has decommissioned SAMPLE as a sample, and
    IN is in transit to it."""
    m = net["manufacturer"]
    loose = [(GTIN, f"{actor}-{s}") for s in ("H1", "IN", "SAMPLE")]
    m.commission(GTIN, "MATRIX", [s for _, s in loose])
    m.commission(GTIN, "MATRIX", [f"{actor}-C1", f"{actor}-C2"], into_sscc=sscc_of(actor, 1))
    ledger = chain.ledger(ACCOUNTS.get(actor, actor))
    if actor == "manufacturer":
        w = net["wholesaler_a"]
        m.ship(w.address, packs=[loose[1]])
        w.receive(packs=[loose[1]])
        w.ship(m.address, packs=[loose[1]])
    else:
        m.ship(ledger.address, packs=loose, units=[sscc_of(actor, 1)])
        ledger.receive(packs=[loose[0], loose[2]], units=[sscc_of(actor, 1)])
    ledger.decommission([loose[2]], DecommissionReason.SAMPLE)


@pytest.fixture(scope="module")
def world(chain: Chain) -> Iterator[World]:
    chain.revert(chain.deployed)
    net = chain.net
    govern(
        net,
        "addMember",
        chain.ledger("logistics").address,
        4012351000018,
        int(Role.LOGISTICS),
        FAR_FUTURE,
    )
    for name in ("suspended", "revoked", "expired"):
        govern(net, "addMember", chain.ledger(name).address, 4012352000017, 0xFF, FAR_FUTURE)
    govern(net, "setMemberStatus", chain.ledger("suspended").address, int(MemberStatus.SUSPENDED))
    govern(net, "setMemberStatus", chain.ledger("revoked").address, int(MemberStatus.REVOKED))
    govern(net, "setLicenceExpiry", chain.ledger("expired").address, chain.now())
    net["manufacturer"].register_lot(GTIN, "MATRIX", EXPIRY)
    for actor in SUPPLY_CHAIN:
        _give_goods(net, chain, actor)
    proposal, _ = propose(
        net, "wholesaler_a", encode(net, "setParameter", b"UNDO_WINDOW".ljust(32, b"\0"), 5 * 86400)
    )
    yield World(chain, net, chain.snapshot(), proposal)
    chain.revert(chain.deployed)


# ---------------------------------------------------------------- the calls


def _registry_call(name: str, world: World, actor: str, me: Ledger) -> Receipt | list[Receipt]:
    owner = world.owner_of_goods(actor)
    h1, sample, incoming = ((GTIN, f"{owner}-{s}") for s in ("H1", "SAMPLE", "IN"))
    case = sscc_of(owner, 1)
    calls: dict[str, Callable[[], Receipt | list[Receipt]]] = {
        "registerLot": lambda: me.register_lot(
            GTIN if actor != "repackager" else REPACKAGER_GTIN, "NEW", EXPIRY
        ),
        "setLotStatus": lambda: me.set_lot_status(GTIN, "MATRIX", LotStatus.QUARANTINED),
        "commission": lambda: me.commission(GTIN, "MATRIX", ["NEW"]),
        "pack": lambda: me.pack(sscc_of(owner, 2), packs=[h1]),
        "unpackItems": lambda: me.unpack_items(case, packs=[(GTIN, f"{owner}-C1")]),
        "unpack": lambda: me.unpack([case]),
        "ship": lambda: me.ship(world.net.address("pharmacy_b"), packs=[h1]),
        "receiveItems": lambda: me.receive(packs=[incoming]),
        "decommission:DISPENSED": lambda: me.decommission([h1], DecommissionReason.DISPENSED),
        "decommission:DESTROYED": lambda: me.decommission([h1], DecommissionReason.DESTROYED),
        "undoDecommission": lambda: me.undo_decommission([sample]),
        "flagPacks:SUSPECT": lambda: me.flag([h1], PackFlag.SUSPECT, 1),
        "flagPacks:ILLEGITIMATE": lambda: me.flag([h1], PackFlag.ILLEGITIMATE, 2),
        "flagPacks:clear": lambda: me.flag([h1], PackFlag(0)),
        "registerProduct": lambda: me.register_product(
            REPACKAGER_GTIN if actor == "repackager" else make_gtin(MANUFACTURER_PREFIX, 77),
            "Product",
        ),
        "propose": lambda: me.transact(
            me.consortium.functions.propose(encode(world.net, "revokePrefix", "9506000"))
        ),
        "approve": lambda: me.transact(me.consortium.functions.approve(world.proposal)),
    }
    return calls[name]()


def _governed_args(world: World) -> dict[str, tuple[Any, ...]]:
    wholesaler = world.net.address("wholesaler_b")
    return {
        "addMember": (
            world.chain.ledger("outsider").address,
            4012353000016,
            int(Role.LOGISTICS),
            FAR_FUTURE,
        ),
        "setMemberStatus": (wholesaler, int(MemberStatus.SUSPENDED)),
        "setMemberRoles": (wholesaler, int(Role.WHOLESALER | Role.LOGISTICS)),
        "setLicenceExpiry": (wholesaler, FAR_FUTURE),
        "assignPrefix": ("0614143", wholesaler),
        "revokePrefix": ("0614142",),
        "setParameter": (b"UNDO_WINDOW".ljust(32, b"\0"), 3600),
    }


def call(world: World, function: str, actor: str) -> Receipt | list[Receipt]:
    """Call ``function`` as ``actor`` on the prepared world."""
    me = world.ledger(actor)
    governed = _governed_args(world)
    if function in governed:
        return me.transact(getattr(me.consortium.functions, function)(*governed[function]))
    return _registry_call(function, world, actor, me)


CELLS = [
    (function, actor, RULES[function][i]) for function in RULES for i, actor in enumerate(ACTORS)
]


def test_the_rule_book_covers_every_state_changing_function() -> None:
    from ledger_client.contracts import artifact

    writes = {
        item["name"]
        for name in ("SerialRegistry", "ProductDirectory", "Consortium")
        for item in artifact(name)["abi"]
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    }
    assert writes == {f.split(":")[0] for f in RULES}
    assert all(len(row) == len(ACTORS) for row in RULES.values())


@pytest.mark.parametrize(
    ("function", "actor", "expected"), CELLS, ids=[f"{f}-{a}" for f, a, _ in CELLS]
)
def test_authorisation(world: World, function: str, actor: str, expected: str | None) -> None:
    world.reset()
    if expected is None:
        result = call(world, function, actor)
        receipts = result if isinstance(result, list) else [result]
        events = [e for r in receipts for e in r.events]
        assert events, "an allowed call leaves an event"
        who = {
            k: v
            for k, v in events[0].args.items()
            if k in ("by", "from", "owner", "proposer", "approver")
        }
        assert list(who.values()) == [world.ledger(actor).address]
    else:
        with pytest.raises(LedgerRevertError) as caught:
            call(world, function, actor)
        assert caught.value.error == expected, str(caught.value)


# ---------------------------------------------------------------- governance: no single key


THRESHOLD = b"THRESHOLD".ljust(32, b"\0")


def consortium_param(net: DevNetwork, key: bytes) -> int:
    return int(net["auditor"].consortium.functions.parameter(key).call())


def test_a_proposal_with_one_approval_does_not_execute(net: DevNetwork) -> None:
    data = encode(net, "setMemberStatus", net.address("wholesaler_b"), int(MemberStatus.REVOKED))
    proposal_id, receipt = propose(net, "manufacturer", data)
    assert [e.name for e in receipt.events] == ["ProposalCreated", "ProposalApproved"]
    consortium = net["auditor"].consortium
    proposal = consortium.functions.proposal(proposal_id).call()
    assert (proposal[2], proposal[3]) == (1, False)  # approvals, executed
    assert consortium.functions.member(net.address("wholesaler_b")).call()[3] == MemberStatus.ACTIVE


def test_the_second_approval_executes_the_proposal(net: DevNetwork) -> None:
    data = encode(net, "setMemberStatus", net.address("wholesaler_b"), int(MemberStatus.REVOKED))
    proposal_id, _ = propose(net, "manufacturer", data)
    receipt = approve(net, "regulator", proposal_id)
    names = [e.name for e in receipt.events]
    assert names == ["ProposalApproved", "MemberStatusChanged", "ProposalExecuted"]
    assert (
        net["auditor"].consortium.functions.member(net.address("wholesaler_b")).call()[3]
        == MemberStatus.REVOKED
    )
    with pytest.raises(LedgerRevertError) as caught:
        net["wholesaler_b"].register_lot(GTIN, "X", EXPIRY)
    assert caught.value.error == INACTIVE


@pytest.mark.parametrize(("threshold", "council"), [(1, 3), (0, 3), (4, 3)])
def test_threshold_outside_two_to_council_size_is_unreachable(
    net: DevNetwork, threshold: int, council: int
) -> None:
    with pytest.raises(LedgerRevertError) as caught:
        govern(net, "setParameter", THRESHOLD, threshold)
    assert caught.value.error == "ConsortiumThresholdUnreachable"
    assert caught.value.args_by_name == {"threshold": threshold, "councilSize": council}
    assert consortium_param(net, THRESHOLD) == 2


@pytest.mark.parametrize("how", ["suspend", "drop council role"])
def test_removing_council_members_below_the_threshold_reverts(net: DevNetwork, how: str) -> None:
    def remove(name: str, by: tuple[str, str]) -> None:
        address = net.address(name)
        if how == "suspend":
            govern(net, "setMemberStatus", address, int(MemberStatus.SUSPENDED), by=by)
        else:
            govern(net, "setMemberRoles", address, int(Role.WHOLESALER | Role.REGULATOR), by=by)

    remove("wholesaler_a", ("manufacturer", "regulator"))  # council 3 -> 2, threshold 2: fine
    assert net["auditor"].consortium.functions.councilSize().call() == 2
    with pytest.raises(LedgerRevertError) as caught:
        remove("regulator", ("manufacturer", "regulator"))
    assert caught.value.error == "ConsortiumThresholdUnreachable"
    assert caught.value.args_by_name == {"threshold": 2, "councilSize": 1}
    assert net["auditor"].consortium.functions.councilSize().call() == 2


def test_raised_threshold_needs_every_council_member_and_blocks_removal(net: DevNetwork) -> None:
    govern(net, "setParameter", THRESHOLD, 3)
    data = encode(net, "setMemberStatus", net.address("regulator"), int(MemberStatus.SUSPENDED))
    proposal_id, _ = propose(net, "manufacturer", data)
    approve(net, "wholesaler_a", proposal_id)  # 2 of 3: not yet
    assert not net["auditor"].consortium.functions.proposal(proposal_id).call()[3]
    with pytest.raises(LedgerRevertError) as caught:
        approve(net, "regulator", proposal_id)
    assert caught.value.error == "ConsortiumThresholdUnreachable"


def test_a_council_member_cannot_approve_twice(net: DevNetwork) -> None:
    proposal_id, _ = propose(net, "manufacturer", encode(net, "revokePrefix", "9506000"))
    with pytest.raises(LedgerRevertError) as caught:
        approve(net, "manufacturer", proposal_id)
    assert caught.value.error == "ConsortiumAlreadyApproved"


def test_an_executed_proposal_is_closed(net: DevNetwork) -> None:
    proposal_id, _ = propose(net, "manufacturer", encode(net, "revokePrefix", "9506000"))
    approve(net, "wholesaler_a", proposal_id)
    with pytest.raises(LedgerRevertError) as caught:
        approve(net, "regulator", proposal_id)
    assert caught.value.error == "ConsortiumProposalClosed"


def test_an_expired_proposal_cannot_be_approved(net: DevNetwork, chain: Chain) -> None:
    proposal_id, _ = propose(net, "manufacturer", encode(net, "revokePrefix", "9506000"))
    deadline = net["auditor"].consortium.functions.proposal(proposal_id).call()[1]
    chain.time_travel(deadline + 1)
    with pytest.raises(LedgerRevertError) as caught:
        approve(net, "wholesaler_a", proposal_id)
    assert caught.value.error == "ConsortiumProposalExpired"


def test_an_unknown_proposal_cannot_be_approved(net: DevNetwork) -> None:
    with pytest.raises(LedgerRevertError) as caught:
        approve(net, "wholesaler_a", 99)
    assert caught.value.error == "ConsortiumUnknownProposal"


def test_a_failing_proposal_reverts_the_approval_and_stays_open(net: DevNetwork) -> None:
    proposal_id, _ = propose(
        net, "manufacturer", encode(net, "assignPrefix", "06141415", net.address("wholesaler_b"))
    )
    with pytest.raises(LedgerRevertError) as caught:
        approve(net, "regulator", proposal_id)
    assert caught.value.error == "ConsortiumPrefixTaken"  # 0614141 is the manufacturer's
    assert caught.value.args_by_name["prefix"] == "0614141"
    proposal = net["auditor"].consortium.functions.proposal(proposal_id).call()
    assert (proposal[2], proposal[3]) == (1, False)


@pytest.mark.parametrize("prefix", ["061414", "06141"])
def test_a_prefix_that_would_cover_an_assigned_longer_one_is_refused(
    net: DevNetwork, prefix: str
) -> None:
    proposal_id, _ = propose(
        net, "manufacturer", encode(net, "assignPrefix", prefix, net.address("wholesaler_b"))
    )
    with pytest.raises(LedgerRevertError) as caught:
        approve(net, "regulator", proposal_id)
    assert caught.value.error == "ConsortiumPrefixOverlaps"  # 0614141 starts with it


def test_a_revoked_prefix_frees_its_heads_for_assignment(net: DevNetwork) -> None:
    revoke = encode(net, "revokePrefix", "9506000")
    assign = encode(net, "assignPrefix", "950600", net.address("wholesaler_b"))
    for call in (revoke, assign):
        proposal_id, _ = propose(net, "manufacturer", call)
        approve(net, "regulator", proposal_id)
    owner = net["auditor"].consortium.functions.prefixOwner("09506000134352").call()
    assert owner == net.address("wholesaler_b")
