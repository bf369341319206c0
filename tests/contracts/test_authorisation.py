"""Who may call what: every state-changing function × every role, member status and the council.

The table below is the rule book. Each cell runs the call straight on the contract, on a chain
where everything else is in order (the caller holds the goods it acts on, the lot exists, ...),
so the only thing that decides the outcome is who the caller is. The goods are the caller's
own for the five supply-chain roles, and the manufacturer's for everyone else. The council
calls the consortium through a passed proposal, and other contracts through a passed proposal
of ``callAsCouncil``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from web3.contract import Contract

from ledger_client.contracts import MemberStatus, Role
from ledger_client.devnet import DevNetwork
from ledger_client.ids import items_hash, lot_hash, pack_hash, unit_hash
from ledger_client.ledger import Ledger
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import (
    ZERO_HASH,
    DecommissionReason,
    ExceptionKind,
    LotStatus,
    PackFlag,
    Receipt,
)
from tests.utils.chain import Chain
from tests.utils.factories import (
    EXPIRY,
    GTIN,
    MANUFACTURER_PREFIX,
    REPACKAGER_GTIN,
    WHOLESALER_B_PREFIX,
    make_gtin,
    make_sscc,
    owners,
)
from tests.utils.governance import approve, as_council, calldata, encode, govern, propose

# ---------------------------------------------------------------- the rule book

OK = None
ROLE = "ConsortiumMissingRole"
INACTIVE = "ConsortiumMemberNotActive"
EXPIRED = "ConsortiumLicenceExpired"
NOT_MEMBER = "ConsortiumNotMember"
NOT_AUTHORISED = "SerialRegistryNotAuthorised"
NOT_PROPOSER = "ConsortiumNotProposer"
BY_PROPOSAL = "ConsortiumOnlyByProposal"
NOT_OWNER = "AccessGrantsNotLotOwner"
NOT_COUNTERPARTY = "ExceptionRegistryNotCounterparty"
NOT_OPENER = "ExceptionRegistryNotOpener"

#: The callers: the demo members by role, then members that are suspended, revoked or whose
#: licence expired (all holding every role), an account that is not a member, and the council.
ACTORS = (
    "manufacturer", "repackager", "wholesaler", "logistics", "dispenser", "regulator", "auditor",
    "suspended", "revoked", "expired", "outsider", "council",
)  # fmt: skip
ACCOUNTS = {"wholesaler": "wholesaler_b", "dispenser": "pharmacy_a"}
SUPPLY_CHAIN = ("manufacturer", "repackager", "wholesaler", "logistics", "dispenser")
#: What every member that is not active and licensed gets, whatever it calls.
STATUS = (INACTIVE, INACTIVE, EXPIRED, NOT_MEMBER)

# fmt: off
RULES: dict[str, tuple[str | None, ...]] = {
    #                            manuf.      repack.         wholes.         logist.         dispens.        regul.  auditor         susp., revok., expired, outsider  council  # noqa: E501
    "registerLot":              (OK,         OK,             ROLE,           ROLE,           ROLE,           ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "setLotStatus:QUARANTINED": (OK,         NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, OK,     NOT_AUTHORISED, *STATUS,  OK),  # noqa: E501
    "setLotStatus:RECALLED":    (OK,         NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, OK,     NOT_AUTHORISED, *STATUS,  OK),  # noqa: E501
    "commission":               (OK,         OK,             ROLE,           ROLE,           ROLE,           ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "pack":                     (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "unpackItems":              (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "unpack":                   (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "ship":                     (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "receiveItems":             (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "decommission:DISPENSED":   (ROLE,       ROLE,           ROLE,           ROLE,           OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "decommission:DESTROYED":   (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "undoDecommission":         (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    # The goods' holder cancels its shipment, refuses what comes to it, reports lost and found.
    "cancelShipment":           (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "refuseItems":              (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "reportLost":               (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "reportFound":              (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "flagPacks:SUSPECT":        (OK,         OK,             OK,             OK,             OK,             OK,     NOT_AUTHORISED, *STATUS,  OK),  # noqa: E501
    "flagPacks:ILLEGITIMATE":   (OK,         NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, OK,     NOT_AUTHORISED, *STATUS,  OK),  # noqa: E501
    "flagPacks:clear":          (OK,         NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED, OK,     NOT_AUTHORISED, *STATUS,  OK),  # noqa: E501
    # The goods' holder opened one exception against pharmacy_b, and pharmacy_b one against it.
    # A regulator's resolveException asks for the closure; a second regulator's call closes it
    # (test_exception_records.py: the pair, asking twice, a former regulator's request).
    "openException":            (OK,         OK,             OK,             OK,             OK,             ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "answerException":          (OK,         OK,             OK,             OK,             OK,             NOT_COUNTERPARTY, NOT_COUNTERPARTY, *STATUS, NOT_MEMBER),  # noqa: E501
    "resolveException":         (OK,         OK,             OK,             OK,             OK,             OK,     NOT_OPENER,     *STATUS,  OK),  # noqa: E501
    "registerProduct":          (OK,         OK,             ROLE,           ROLE,           ROLE,           ROLE,   ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "setGatewayUrl":            (OK,         OK,             OK,             OK,             OK,             OK,     OK,             *STATUS,  NOT_MEMBER),  # noqa: E501
    # The lot is the manufacturer's; the auditor holds the manufacturer's grant on it.
    "grant":                    (OK,         NOT_OWNER,      NOT_OWNER,      NOT_OWNER,      NOT_OWNER,      NOT_OWNER, NOT_OWNER,   *STATUS,  OK),  # noqa: E501
    "revoke":                   (OK,         NOT_OWNER,      NOT_OWNER,      NOT_OWNER,      NOT_OWNER,      NOT_OWNER, NOT_OWNER,   *STATUS,  OK),  # noqa: E501
    "propose":                  (OK,         ROLE,           ROLE,           ROLE,           ROLE,           OK,     ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    "approve":                  (OK,         ROLE,           ROLE,           ROLE,           ROLE,           OK,     ROLE,           *STATUS,  NOT_MEMBER),  # noqa: E501
    # The open proposal to cancel is the regulator's.
    "cancel":                   (NOT_PROPOSER, NOT_PROPOSER, NOT_PROPOSER,   NOT_PROPOSER,   NOT_PROPOSER,   OK,     NOT_PROPOSER,   *(NOT_PROPOSER,) * 4, OK),  # noqa: E501
    # Governed functions: nobody may call them directly, only an approved proposal.
    "addMember":                (*(BY_PROPOSAL,) * 11, OK),
    "setMemberStatus":          (*(BY_PROPOSAL,) * 11, OK),
    "setMemberRoles":           (*(BY_PROPOSAL,) * 11, OK),
    "setLicenceExpiry":         (*(BY_PROPOSAL,) * 11, OK),
    "assignPrefix":             (*(BY_PROPOSAL,) * 11, OK),
    "revokePrefix":             (*(BY_PROPOSAL,) * 11, OK),
    "setParameter":             (*(BY_PROPOSAL,) * 11, OK),
    "rotateMemberKey":          (*(BY_PROPOSAL,) * 11, OK),
    "callAsCouncil":            (*(BY_PROPOSAL,) * 11, OK),
}
# fmt: on
"""Notes: setLotStatus and flagPacks(ILLEGITIMATE or clear) are for the lot's owner (here the
manufacturer), regulators and the council; a supply-chain member may only raise SUSPECT on a
pack it holds. Only the sender cancels a shipment or reports it lost and found, only the
recipient refuses it (tests/contracts/test_shipment_exceptions.py). Exceptions are opened by a
supply-chain member, answered by their counterparty only, resolved by their opener, a regulator
or the council (tests/contracts/test_exception_records.py). A regulator's recall of another
member's lot quarantines it and waits for a second regulator
(tests/contracts/test_trust_authority.py). Access grants on a lot are its owner's and the
council's (tests/contracts/test_access_grants.py). Council members (manufacturer, regulator,
and wholesaler_a) propose and approve; the council itself is no member, so it writes no lots,
packs or proposals of its own. Every active, licensed member publishes its own gateway URL
(setGatewayUrl); the council, no member, has none."""

FAR_FUTURE = 4_102_444_800  # 2100-01-01
WHO = ("by", "from", "owner", "proposer", "approver", "member", "opener")
"""The event arguments that name the caller."""


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
    """An open proposal of wholesaler_a, for the others to approve."""
    cancellable: int
    """An open proposal of the regulator, for the others to cancel."""
    exceptions: dict[tuple[str, str], int]
    """(goods' owner, "mine" or "theirs") -> the exception it opened against pharmacy_b, and
    the one pharmacy_b opened against it."""

    def reset(self) -> None:
        self.chain.revert(self.snapshot)

    def ledger(self, actor: str) -> Ledger:
        return self.chain.ledger(ACCOUNTS.get(actor, actor))

    def owner_of_goods(self, actor: str) -> str:
        return actor if actor in SUPPLY_CHAIN else "manufacturer"


def _give_goods(net: DevNetwork, chain: Chain, actor: str) -> dict[tuple[str, str], int]:
    """Actor holds H1 loose and case 1 (C1, C2), has decommissioned SAMPLE as a sample, IN is
    in transit to it, OUT in transit from it to pharmacy_b, and GONE reported lost on its way
    there; it opened an exception against pharmacy_b, and pharmacy_b one against it."""
    m = net["manufacturer"]
    loose = [(GTIN, f"{actor}-{s}") for s in ("H1", "IN", "SAMPLE", "OUT", "GONE")]
    m.commission(GTIN, "MATRIX", [s for _, s in loose])
    m.commission(GTIN, "MATRIX", [f"{actor}-C1", f"{actor}-C2"], into_sscc=sscc_of(actor, 1))
    ledger = chain.ledger(ACCOUNTS.get(actor, actor))
    h1, incoming, sample, out, gone = loose
    if actor == "manufacturer":
        w = net["wholesaler_a"]
        m.ship(w.address, packs=[incoming])
        w.receive(packs=[incoming])
        w.ship(m.address, packs=[incoming])
    else:
        m.ship(ledger.address, packs=loose, units=[sscc_of(actor, 1)])
        ledger.receive(packs=[h1, sample, out, gone], units=[sscc_of(actor, 1)])
    ledger.decommission([sample], DecommissionReason.SAMPLE)
    pharmacy = net["pharmacy_b"]
    ledger.ship(pharmacy.address, packs=[out, gone])
    ledger.report_lost(pharmacy.address, packs=[gone])
    kind = ExceptionKind.DATA_ISSUE
    mine, _ = ledger.open_exception(pharmacy.address, kind, packs=[h1])
    theirs, _ = pharmacy.open_exception(ledger.address, kind, packs=[h1])
    return {(actor, "mine"): mine, (actor, "theirs"): theirs}


def _undo_window(net: DevNetwork, days: int) -> bytes:
    return encode(net, "setParameter", b"UNDO_WINDOW".ljust(32, b"\0"), days * 86400)


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
    net["repackager"].register_lot(REPACKAGER_GTIN, "MATRIX", EXPIRY)
    net["manufacturer"].grant_access(owners(net).lot_id(GTIN, "MATRIX"), net.address("auditor"))
    exceptions: dict[tuple[str, str], int] = {}
    for actor in SUPPLY_CHAIN:
        exceptions |= _give_goods(net, chain, actor)
    proposal, _ = propose(net, "wholesaler_a", _undo_window(net, 5))
    cancellable, _ = propose(net, "regulator", _undo_window(net, 6))
    yield World(chain, net, chain.snapshot(), proposal, cancellable, exceptions)
    chain.revert(chain.deployed)


# ---------------------------------------------------------------- the calls


def _registry_call(world: World, function: str, actor: str) -> tuple[str, tuple[Any, ...]]:
    """The registry function and arguments of ``function``'s cell for ``actor``."""
    owner = world.owner_of_goods(actor)
    ids = owners(world.net)
    h1, sample, incoming, c1, out, gone = (
        ids.pack_id(GTIN, f"{owner}-{s}") for s in ("H1", "SAMPLE", "IN", "C1", "OUT", "GONE")
    )
    pharmacy = world.net.address("pharmacy_b")
    sender = world.net.address("wholesaler_a" if owner == "manufacturer" else "manufacturer")
    case = ids.unit_id(sscc_of(owner, 1))
    gtin = REPACKAGER_GTIN if actor == "repackager" else GTIN
    lot = ids.lot_id(GTIN, "MATRIX")
    name, _, variant = function.partition(":")  # e.g. setLotStatus:RECALLED
    status = LotStatus.__members__.get(variant, LotStatus.NONE)
    reason = DecommissionReason.__members__.get(variant, DecommissionReason.NONE)
    flags = PackFlag.__members__.get(variant, PackFlag(0))
    args: dict[str, tuple[Any, ...]] = {
        "registerLot": (lot_hash(gtin, "NEW"), EXPIRY, ZERO_HASH),
        "setLotStatus": (lot, int(status), ZERO_HASH),
        "commission": (lot_hash(gtin, "MATRIX"), ZERO_HASH, [pack_hash(gtin, "NEW")], ZERO_HASH),
        # the new unit is the caller's own, whatever SSCC it names (its id is scoped to it)
        "pack": (unit_hash(sscc_of(owner, 2)), [h1], [], ZERO_HASH),
        "unpackItems": (case, [c1], [], ZERO_HASH),
        "unpack": ([case], ZERO_HASH),
        "ship": ([h1], [], world.net.address("pharmacy_b"), ZERO_HASH),
        "receiveItems": ([incoming], [], ZERO_HASH),
        "decommission": ([h1], int(reason), ZERO_HASH),
        "undoDecommission": ([sample], ZERO_HASH),
        "flagPacks": ([h1], int(flags), 1, ZERO_HASH),
        "cancelShipment": (pharmacy, [out], [], ZERO_HASH),
        "refuseItems": (sender, [incoming], [], ZERO_HASH),
        "reportLost": (pharmacy, [out], [], ZERO_HASH),
        "reportFound": (pharmacy, [gone], [], ZERO_HASH),
    }
    return name, args[name]


def _exception_call(world: World, function: str, actor: str) -> tuple[Any, ...]:
    """The arguments of ``function``'s cell on the exception registry for ``actor``."""
    owner = world.owner_of_goods(actor)
    if function == "openException":
        sample = owners(world.net).pack_id(GTIN, f"{owner}-SAMPLE")
        kind = int(ExceptionKind.PRODUCT_WITHOUT_DATA)
        return (world.net.address("pharmacy_b"), kind, items_hash([sample]), ZERO_HASH)
    side = "theirs" if function == "answerException" else "mine"
    return (world.exceptions[(owner, side)], ZERO_HASH)


def _consortium_args(world: World) -> dict[str, tuple[Any, ...]]:
    wholesaler = world.net.address("wholesaler_b")
    registry = world.net["auditor"].registry
    quarantine = (owners(world.net).lot_id(GTIN, "MATRIX"), int(LotStatus.QUARANTINED), ZERO_HASH)
    return {
        "propose": (encode(world.net, "revokePrefix", "9506000"),),
        "setGatewayUrl": ("https://gateway.example/rx",),
        "approve": (world.proposal,),
        "cancel": (world.cancellable,),
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
        "rotateMemberKey": (wholesaler, world.chain.ledger("outsider").address),
        "callAsCouncil": (
            registry.address,
            calldata(registry, "setLotStatus", *quarantine),
        ),
    }


def cell(world: World, function: str, actor: str) -> tuple[Contract, str, tuple[Any, ...]]:
    """The contract, function and arguments ``actor`` calls in ``function``'s cell."""
    a = world.net["auditor"]
    consortium = _consortium_args(world)
    if function in consortium:
        return a.consortium, function, consortium[function]
    if function in ("grant", "revoke"):
        lot, auditor = owners(world.net).lot_id(GTIN, "MATRIX"), world.net.address("auditor")
        return a.grants, function, (lot, auditor, FAR_FUTURE)[: 3 if function == "grant" else 2]
    if function in ("openException", "answerException", "resolveException"):
        return a.exceptions, function, _exception_call(world, function, actor)
    if function == "registerProduct":
        gtin = REPACKAGER_GTIN if actor == "repackager" else make_gtin(MANUFACTURER_PREFIX, 77)
        return a.directory, function, (gtin, ("Product", "", "", "", ""))
    return a.registry, *_registry_call(world, function, actor)


def call(world: World, function: str, actor: str) -> Receipt:
    """Call ``function`` as ``actor`` on the prepared world."""
    contract, name, args = cell(world, function, actor)
    if actor != "council":
        me = world.ledger(actor)
        return me.transact(contract.functions[name](*args))
    if contract.address == world.net["auditor"].consortium.address:
        return govern(world.net, name, *args)
    return as_council(world.net, contract, name, *args)


CELLS = [
    (function, actor, RULES[function][i]) for function in RULES for i, actor in enumerate(ACTORS)
]


def test_the_rule_book_covers_every_state_changing_function() -> None:
    from ledger_client.contracts import artifact

    writes = {
        item["name"]
        for name in (
            "SerialRegistry",
            "ProductDirectory",
            "Consortium",
            "AccessGrants",
            "ExceptionRegistry",
        )
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
    if expected is not None:
        with pytest.raises(LedgerRevertError) as caught:
            call(world, function, actor)
        assert caught.value.error == expected, str(caught.value)
        return
    events = call(world, function, actor).events
    assert events, "an allowed call leaves an event"
    if actor != "council":
        who = {k: v for k, v in events[0].args.items() if k in WHO}
        assert list(who.values()) == [world.ledger(actor).address]
        return
    # approved, the call's own events, executed; the call itself was made by the consortium
    assert [events[0].name, events[-1].name] == ["ProposalApproved", "ProposalExecuted"]
    assert len(events) > 2
    consortium = world.net["auditor"].consortium.address
    assert {v for e in events[1:-1] for k, v in e.args.items() if k in WHO} <= {consortium}


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
    w = net["wholesaler_b"]
    with pytest.raises(LedgerRevertError) as caught:
        w.ship(net.address("pharmacy_a"), units=[make_sscc(WHOLESALER_B_PREFIX, 1)])
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
