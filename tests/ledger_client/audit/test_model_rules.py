"""The trust model's rules in the auditor's model, on crafted histories: what a scan finds,
whose records a creating event may name, who may raise and lower flags and lot statuses, the
fixed undo deadline, and proposals counted when they run. An event the rules forbid is
reported by the rule it breaks; an allowed one by none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger_client.audit import RegistryModel
from ledger_client.contracts import MemberStatus, Role
from ledger_client.ids import lot_id, lot_tag, pack_id, unit_id
from ledger_client.types import ZERO_ADDRESS, Authority, LotStatus, VerificationStatus
from tests.utils.crafted_events import crafted
from tests.utils.factories import FOREIGN_GTIN, GTIN, MANUFACTURER_PREFIX, sscc

DAY = 86_400
T0 = 1_800_000_000
MAKER, SQUATTER, SHOP, REG1, REG2, COUNCIL = (f"0x{c * 40}" for c in "abcdef")
#: (account, roles) of the crafted network's members, indices 1 to 5; COUNCIL is the
#: consortium's own address.
MEMBERS = (
    (MAKER, Role.MANUFACTURER | Role.COUNCIL),
    (SQUATTER, Role.REPACKAGER),
    (SHOP, Role.WHOLESALER | Role.DISPENSER | Role.COUNCIL),
    (REG1, Role.REGULATOR | Role.COUNCIL),
    (REG2, Role.REGULATOR),
)
PARAMETERS = {"THRESHOLD": 2, "UNDO_WINDOW": 10 * DAY, "PROPOSAL_LIFETIME": 7 * DAY}
LOT = lot_id(GTIN, "L1", owner=1)
S1, S2 = pack_id(GTIN, "S1", owner=1), pack_id(GTIN, "S2", owner=1)
ACTIVE, QUARANTINED, RECALLED = (int(s) for s in list(LotStatus)[1:])
SUSPECT, ILLEGITIMATE, DISPENSED = 1, 2, 1


class History:
    """A crafted history: the network deployed in transaction 1, the maker's lot with packs
    S1 and S2, then one event per :meth:`add`, one second apart unless told."""

    def __init__(self) -> None:
        self.model = RegistryModel(COUNCIL)
        self.n = self.proposals = 0
        self.now = T0
        for i, (account, roles) in enumerate(MEMBERS, 1):
            member = {"account": account, "index": i, "gln": i, "roles": roles}
            self.add("MemberAdded", 1, **member, licenceExpiry=T0 + 365 * DAY)
        self.add("PrefixAssigned", 1, prefix=MANUFACTURER_PREFIX, account=MAKER)
        for key, value in PARAMETERS.items():
            self.add("ParameterChanged", 1, key=key.encode().ljust(32, b"\0"), value=value)
        self.add("LotRegistered", lotId=LOT, owner=MAKER, expiry=301231)
        tags = lot_tag(GTIN, "S1", "L1") + lot_tag(GTIN, "S2", "L1")
        commission = {"lotId": LOT, "unitId": bytes(32), "packIds": [S1, S2], "lotTags": tags}
        self.add("PacksCommissioned", by=MAKER, **commission)
        assert self.model.violations == []

    def add(self, name: str, tx: int | None = None, wait: int = 1, **args: object) -> list[str]:
        """Apply event ``name`` ``wait`` seconds on, in transaction ``tx`` (default: one of its
        own); return the rules it broke."""
        self.n += 1
        self.now += wait
        before = len(self.model.violations)
        self.model.apply(crafted(name, self.now, self.n, tx, **args))
        return [v.rule for v in self.model.violations[before:]]

    def propose(self, by: str = MAKER) -> int:
        """A proposal by ``by`` (with its first approval); return its id."""
        pid = self.proposals
        self.proposals += 1
        deadline = self.now + 1 + 7 * DAY
        self.add("ProposalCreated", id=pid, proposer=by, data=b"\1\2\3\4", deadline=deadline)
        self.add("ProposalApproved", self.n, wait=0, id=pid, approver=by, approvals=1)
        return pid

    def run(self, *events: tuple[str, dict[str, object]]) -> list[str]:
        """``events`` inside a proposal of the maker's that the shop's approval runs; return
        the rules they broke."""
        pid = self.propose()
        tx = self.n + 1
        broken = self.add("ProposalApproved", tx, id=pid, approver=SHOP, approvals=2)
        for name, args in events:
            broken += self.add(name, tx, wait=0, **args)
        return broken + self.add("ProposalExecuted", tx, wait=0, id=pid)

    def move(self, pid: bytes, to: str = SHOP) -> None:
        """The maker ships ``pid`` to ``to``, which receives it."""
        assert self.add("ItemsShipped", **{"from": MAKER}, to=to, packIds=[pid], unitIds=[]) == []
        assert self.add("ItemsReceived", by=to, packIds=[pid], unitIds=[]) == []

    def flag(self, by: str, flags: int) -> list[str]:
        return self.add("PacksFlagged", by=by, flags=flags, reasonCode=1, packIds=[S1])

    def lot(self, by: str, status: int, tx: int | None = None) -> list[str]:
        return self.add("LotStatusChanged", tx, lotId=LOT, by=by, status=status)

    def request(self, by: str = REG1) -> list[str]:
        """A regulator's recall request and the quarantine it brings."""
        broken = self.add("LotRecallRequested", lotId=LOT, by=by)
        return broken + self.lot(by, QUARANTINED, self.n)


def _status(h: History, gtin: str, serial: str) -> VerificationStatus:
    return h.model.verify(gtin, serial, now=h.now)[0]


def test_a_scan_finds_only_the_prefix_owner_s_records_and_follows_a_moved_prefix() -> None:
    h = History()
    copied_lot = lot_id(GTIN, "L1", owner=2)
    copies = [pack_id(GTIN, s, owner=2) for s in ("S1", "S3")]
    assert h.add("LotRegistered", lotId=copied_lot, owner=SQUATTER, expiry=301231) == []
    commission = {"lotId": copied_lot, "by": SQUATTER, "unitId": bytes(32), "packIds": copies}
    assert h.add("PacksCommissioned", **commission) == []
    verdict = h.model.verify(GTIN, "S1", "L1", 301231, now=h.now)
    assert verdict[:2] == (VerificationStatus.VERIFIED, S1) and verdict[4] == MAKER
    assert _status(h, GTIN, "S3") == VerificationStatus.UNKNOWN  # only the squatter has it
    assert h.model.pack_id(GTIN, "S3") == pack_id(GTIN, "S3", owner=1)
    assert _status(h, FOREIGN_GTIN, "S1") == VerificationStatus.PRODUCT_MISMATCH
    assert (
        h.run(
            ("PrefixRevoked", {"prefix": MANUFACTURER_PREFIX, "account": MAKER}),
            ("PrefixAssigned", {"prefix": MANUFACTURER_PREFIX, "account": SQUATTER}),
        )
        == []
    )
    assert h.model.verify(GTIN, "S3", now=h.now)[:2] == (VerificationStatus.VERIFIED, copies[1])
    assert h.model.pack_id(GTIN, "S3") == copies[1]  # not the id remembered for owner 1
    assert _status(h, GTIN, "S2") == VerificationStatus.UNKNOWN  # the maker's stay its own


def test_the_scanned_lot_is_checked_against_the_pack_s_lot_tag() -> None:
    h = History()
    assert h.model.verify(GTIN, "S2", "L1", now=h.now)[0] == VerificationStatus.VERIFIED
    assert h.model.verify(GTIN, "S2", "L2", now=h.now)[0] == VerificationStatus.LOT_MISMATCH
    assert h.model.pack_view(h.model.packs[S2])[-1] == lot_tag(GTIN, "S2", "L1")


def test_a_commissioning_without_one_lot_tag_per_pack_breaks_a_rule() -> None:
    h = History()
    packs = [pack_id(GTIN, "S5", owner=1), pack_id(GTIN, "S6", owner=1)]
    short = {"lotId": LOT, "by": MAKER, "unitId": bytes(32), "packIds": packs, "lotTags": b"\1\2\3"}
    assert h.add("PacksCommissioned", **short) == ["LotTagsMismatch"]


def test_a_creating_event_names_its_creator_s_own_lot_and_unit() -> None:
    h = History()
    copy = pack_id(GTIN, "S9", owner=2)
    squat = {"lotId": LOT, "by": SQUATTER, "unitId": bytes(32), "packIds": [copy]}
    assert h.add("PacksCommissioned", **squat) == ["NotOwnRecord"]
    case = unit_id(sscc(1), owner=1)
    own = {"lotId": LOT, "by": MAKER, "unitId": case, "packIds": [pack_id(GTIN, "S4", owner=1)]}
    assert h.add("PacksCommissioned", **own) == []
    h.move(S2)
    assert h.add("ItemsShipped", **{"from": MAKER}, to=SHOP, packIds=[], unitIds=[case]) == []
    assert h.add("ItemsReceived", by=SHOP, packIds=[], unitIds=[case]) == []
    packed = {"unitId": case, "by": SHOP, "packIds": [S2], "unitIds": []}
    assert h.add("ItemsPacked", **packed) == ["NotOwnRecord"]  # the maker's case, not the shop's


def _held_by_the_shop() -> History:
    h = History()
    h.move(S1)
    return h


def _flagged_by_a_regulator() -> History:
    h = _held_by_the_shop()
    assert h.flag(REG1, ILLEGITIMATE) == []
    assert h.model.pack_view(h.model.packs[S1])[6] == Authority.REGULATOR
    return h


@pytest.mark.parametrize(
    ("history", "by", "flags", "broken"),
    [
        (_held_by_the_shop, SHOP, SUSPECT, []),
        (_held_by_the_shop, SHOP, ILLEGITIMATE, ["NotAuthorised"]),  # a holder: SUSPECT only
        (_held_by_the_shop, SQUATTER, SUSPECT, ["NotAuthorised"]),  # neither holder nor owner
        (_held_by_the_shop, MAKER, ILLEGITIMATE, []),  # the lot's owner
        (_flagged_by_a_regulator, MAKER, 0, ["AuthorityTooLow"]),
        (_flagged_by_a_regulator, SHOP, SUSPECT, ["AuthorityTooLow"]),
        (_flagged_by_a_regulator, REG2, 0, []),
        (_flagged_by_a_regulator, COUNCIL, 0, ["OnlyByProposal"]),
    ],
)
def test_flags_are_lowered_only_by_the_authority_that_raised_them_or_a_higher_one(
    history: Callable[[], History], by: str, flags: int, broken: list[str]
) -> None:
    assert history().flag(by, flags) == broken


def test_the_council_clears_a_regulator_s_flags_by_proposal() -> None:
    h = _flagged_by_a_regulator()
    clear = {"by": COUNCIL, "flags": 0, "reasonCode": 0, "packIds": [S1]}
    assert h.run(("PacksFlagged", clear)) == []
    assert h.model.pack_view(h.model.packs[S1])[2] == 0


def _requested() -> History:
    h = History()
    assert h.request() == []
    lot = h.model.lots[LOT]
    assert (lot.status, lot.status_authority, lot.recall_requested_by) == (
        QUARANTINED,
        Authority.REGULATOR,
        REG1,
    )
    return h


def _recalled() -> History:
    h = History()
    assert h.lot(MAKER, RECALLED) == []  # the owner recalls at once
    return h


@pytest.mark.parametrize(
    ("history", "by", "status", "broken"),
    [
        (History, REG1, RECALLED, ["RecallNeedsSecondRegulator"]),
        (History, SHOP, QUARANTINED, ["NotAuthorised"]),
        (History, MAKER, ACTIVE, ["InvalidLotStatus"]),
        (_requested, REG1, RECALLED, ["RecallAlreadyRequested"]),
        (_requested, MAKER, ACTIVE, ["AuthorityTooLow"]),
        (_requested, MAKER, RECALLED, []),
        (_requested, REG2, RECALLED, []),
        (_requested, REG2, ACTIVE, []),
        (_recalled, REG1, ACTIVE, ["InvalidLotStatus"]),  # only the council lifts a recall
    ],
)
def test_lot_statuses_follow_the_authority_that_set_them_and_two_regulators_recall(
    history: Callable[[], History], by: str, status: int, broken: list[str]
) -> None:
    h = history()
    assert h.lot(by, status) == broken
    lot = h.model.lots[LOT]
    if not broken and status != QUARANTINED:
        assert lot.recall_requested_by == ZERO_ADDRESS  # a recall or a release ends a request


def test_a_recall_request_is_made_once_and_by_no_one_but_a_regulator() -> None:
    assert _requested().add("LotRecallRequested", lotId=LOT, by=REG1) == ["RecallAlreadyRequested"]
    assert _requested().add("LotRecallRequested", lotId=LOT, by=REG2) == ["NotRecallRequest"]
    assert History().add("LotRecallRequested", lotId=LOT, by=MAKER) == ["NotRecallRequest"]
    h = _recalled()
    council = ("LotStatusChanged", {"lotId": LOT, "by": COUNCIL, "status": ACTIVE})
    assert h.run(council) == []
    assert h.model.lot_view(h.model.lots[LOT])[4:] == (ACTIVE, Authority.NONE, ZERO_ADDRESS)


def test_the_undo_deadline_is_fixed_when_a_pack_is_decommissioned() -> None:
    h = History()
    h.move(S1)
    h.move(S2)
    assert h.add("PacksDecommissioned", by=SHOP, reason=DISPENSED, packIds=[S1]) == []
    assert h.model.packs[S1].undo_deadline == h.now + 10 * DAY
    window = {"key": b"UNDO_WINDOW".ljust(32, b"\0"), "value": 3_600}
    assert h.run(("ParameterChanged", window)) == []
    assert h.add("PacksDecommissioned", by=SHOP, reason=DISPENSED, packIds=[S2]) == []
    assert h.model.packs[S2].undo_deadline == h.now + 3_600
    assert h.add("DecommissionsUndone", wait=2 * DAY, by=SHOP, packIds=[S1]) == []
    assert h.add("DecommissionsUndone", by=SHOP, packIds=[S2]) == ["UndoWindowClosed"]


def test_approvals_count_when_the_proposal_runs() -> None:
    h = History()
    early = h.propose(REG1)
    suspend = {"account": REG1, "status": int(MemberStatus.SUSPENDED)}
    assert h.run(("MemberStatusChanged", suspend)) == []
    tx = h.n + 1
    assert h.add("ProposalApproved", tx, id=early, approver=MAKER, approvals=2) == []
    assert h.model.counted_approvals(h.model.proposals[early], h.now) == 1  # not REG1's now
    assert h.add("ProposalExecuted", tx, wait=0, id=early) == ["ProposalNotApproved"]
    assert h.run(("MemberStatusChanged", {"account": SHOP, "status": 2})) == []
    assert h.add("MemberStatusChanged", account=SHOP, status=1) == ["OnlyByProposal"]


def test_a_proposal_is_cancelled_by_its_proposer_or_by_the_council_and_then_closed() -> None:
    h = History()
    mine, theirs = h.propose(), h.propose()
    assert h.add("ProposalCancelled", id=theirs, by=SHOP) == ["NotProposer"]
    assert h.add("ProposalCancelled", id=mine, by=MAKER) == []
    assert h.add("ProposalApproved", id=mine, approver=SHOP, approvals=2) == ["ProposalClosed"]
    assert h.add("ProposalCancelled", id=mine, by=COUNCIL) == ["ProposalClosed", "OnlyByProposal"]
    other = h.propose()
    assert h.run(("ProposalCancelled", {"id": other, "by": COUNCIL})) == []
    assert h.model.proposals[other].cancelled
