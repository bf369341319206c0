"""The consortium half of the auditor's model: members, company prefixes, parameters,
proposals and products as Consortium.sol (and the product directory) hold them, with the
checks SerialRegistry.sol makes of a member before it acts. :class:`ConsortiumModel` is the
base of :class:`~ledger_client.audit.model.RegistryModel`, which feeds it the consortium's
events and asks it who may act.

Governance as the contract runs it: a proposal runs when the approvals that count *then*
(approvers that are active council members, licensed unless the proposal renews a licence)
reach THRESHOLD; it may be cancelled by its proposer or by the council. Every governed change
(and every call the council makes on the registry, ``by`` the consortium's address) happens
inside the transaction of the approval that runs a proposal, or in the deployment.
"""

from __future__ import annotations

from eth_utils import function_signature_to_4byte_selector

from ledger_client import events as ev
from ledger_client.audit.state import COUNCIL, Member, Proposal, RuleViolation
from ledger_client.contracts import MemberStatus
from ledger_client.events import handles
from ledger_client.ids import lot_hash, lot_tag, pack_hash, record_id, unit_hash
from ledger_client.owners import longest_prefix_owner
from ledger_client.types import ZERO_ADDRESS

_RENEWAL = function_signature_to_4byte_selector("setLicenceExpiry(address,uint40)")


def _key(name: str) -> bytes:
    return name.encode().ljust(32, b"\x00")


class ConsortiumModel:
    """Members, prefixes, parameters, proposals and products rebuilt from the consortium's
    events, and the model's event list and rule violations.

    ``council`` is the consortium's address: registry events ``by`` it are the council's.
    """

    def __init__(self, council: str = ZERO_ADDRESS) -> None:
        self.council = council
        self.events: list[ev.ChainEvent] = []
        self.members: dict[str, Member] = {}
        self.member_accounts: list[str] = [ZERO_ADDRESS]
        self.prefixes: dict[str, str] = {}
        self.parameters: dict[bytes, int] = {}
        self.proposals: dict[int, Proposal] = {}
        self.products: dict[str, str] = {}
        self.violations: list[RuleViolation] = []
        #: The transaction of the approval running a proposal now, and the proposal.
        self._running: tuple[bytes, Proposal] | None = None
        #: Printed codes looked up before (a live gateway's scans, every run), with the
        #: prefix owner's index their id was computed for, and their lot tags.
        self._pack_ids: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._scanned_lot_tags: dict[tuple[str, str, str], bytes] = {}

    def _violation(self, event: int, rule: str, subject: bytes | str) -> None:
        self.violations.append(RuleViolation(event, rule, subject))

    def _require_member(self, i: int, account: str, roles: int, now: int) -> None:
        m = self.members.get(account)
        if m is None:
            self._violation(i, "NotMember", account)
        elif m.status != MemberStatus.ACTIVE:
            self._violation(i, "MemberNotActive", account)
        elif m.licence_expiry <= now:
            self._violation(i, "LicenceExpired", account)
        elif m.roles & roles == 0:
            self._violation(i, "MissingRole", account)

    def _by_proposal(self, i: int, subject: bytes | str) -> None:
        """Check that event ``i`` comes from a running proposal (or from the deployment)."""
        tx = self.events[i].tx_hash
        if tx != self.events[0].tx_hash and (self._running is None or self._running[0] != tx):
            self._violation(i, "OnlyByProposal", subject)

    # ------------------------------------------------------------ consortium and directory

    @handles(ev.MemberAdded)
    def _member_added(self, i: int, e: ev.MemberAdded) -> None:
        self._by_proposal(i, e.account)
        self.members[e.account] = Member(
            e.account,
            e.index,
            e.gln,
            e.roles,
            int(MemberStatus.ACTIVE),
            e.licence_expiry,
        )
        if e.index != len(self.member_accounts):
            self._violation(i, "MemberIndexGap", e.account)
        self.member_accounts.append(e.account)

    def _existing(self, i: int, account: str) -> Member | None:
        self._by_proposal(i, account)
        m = self.members.get(account)
        if m is None:
            self._violation(i, "NotMember", account)
        return m

    @handles(ev.MemberStatusChanged, ev.MemberRolesChanged, ev.MemberLicenceChanged)
    def _member_changed(
        self, i: int, e: ev.MemberStatusChanged | ev.MemberRolesChanged | ev.MemberLicenceChanged
    ) -> None:
        if (m := self._existing(i, e.account)) is None:
            return
        match e:
            case ev.MemberStatusChanged():
                m.status = e.status
            case ev.MemberRolesChanged():
                m.roles = e.roles
            case ev.MemberLicenceChanged():
                m.licence_expiry = e.licence_expiry

    @handles(ev.MemberKeyRotated)
    def _member_key_rotated(self, i: int, e: ev.MemberKeyRotated) -> None:
        """Member ``account`` moves to ``new_account`` with its index, roles, status,
        licence and prefixes; the old account is no member any more."""
        old, new = e.account, e.new_account
        if (m := self._existing(i, old)) is None:
            return
        if new == ZERO_ADDRESS or new in self.members:
            self._violation(i, "MemberExists" if new in self.members else "InvalidMember", new)
        if m.index != e.index:
            self._violation(i, "MemberIndexMismatch", old)
        del self.members[old]
        m.account = new
        self.members[new] = m
        self.member_accounts[m.index] = new
        self.prefixes = {p: new if a == old else a for p, a in self.prefixes.items()}

    @handles(ev.PrefixAssigned)
    def _prefix_assigned(self, i: int, e: ev.PrefixAssigned) -> None:
        self._by_proposal(i, e.prefix)
        self.prefixes[e.prefix] = e.account

    @handles(ev.PrefixRevoked)
    def _prefix_revoked(self, i: int, e: ev.PrefixRevoked) -> None:
        self._by_proposal(i, e.prefix)
        if self.prefixes.pop(e.prefix, None) is None:
            self._violation(i, "PrefixNotAssigned", e.prefix)

    @handles(ev.ParameterChanged)
    def _parameter_changed(self, i: int, e: ev.ParameterChanged) -> None:
        self._by_proposal(i, "0x" + bytes(e.key).hex())
        self.parameters[bytes(e.key)] = e.value

    @handles(ev.ProductRegistered)
    def _product_registered(self, i: int, e: ev.ProductRegistered) -> None:
        gtin, owner = e.gtin14, e.owner
        if self.prefix_owner(gtin) != owner:
            self._violation(i, "NotPrefixOwner", gtin)
        self.products[gtin] = owner

    # ------------------------------------------------------------ proposals

    def _require_council(self, i: int, account: str, renewal: bool, now: int) -> None:
        """A council member may propose and approve; licensed, unless for a renewal."""
        if not renewal:
            self._require_member(i, account, COUNCIL, now)
            return
        m = self.members.get(account)
        if m is None:
            self._violation(i, "NotMember", account)
        elif m.status != MemberStatus.ACTIVE:
            self._violation(i, "MemberNotActive", account)
        elif m.roles & COUNCIL == 0:
            self._violation(i, "MissingRole", account)

    def counted_approvals(self, p: Proposal, now: int) -> int:
        """How many of ``p``'s approvals count at ``now`` (as ``Consortium.countedApprovals``)."""
        renewal = p.data[:4] == _RENEWAL
        count = 0
        for account in p.approvers:
            m = self.members.get(account)
            if (
                m is not None
                and m.status == MemberStatus.ACTIVE
                and m.roles & COUNCIL
                and (renewal or m.licence_expiry > now)
            ):
                count += 1
        return count

    def _proposal(self, i: int, pid: int) -> Proposal | None:
        p = self.proposals.get(pid)
        if p is None:
            self._violation(i, "UnknownProposal", str(pid))
        elif p.executed or p.cancelled:
            self._violation(i, "ProposalClosed", str(pid))
        return p

    @handles(ev.ProposalCreated)
    def _proposal_created(self, i: int, e: ev.ProposalCreated) -> None:
        self._require_council(i, e.proposer, e.data[:4] == _RENEWAL, e.timestamp)
        if e.id != len(self.proposals):
            self._violation(i, "ProposalIdGap", str(e.id))
        if e.deadline != e.timestamp + self.parameters.get(_key("PROPOSAL_LIFETIME"), 0):
            self._violation(i, "ProposalDeadline", str(e.id))
        self.proposals[e.id] = Proposal(e.id, e.proposer, e.deadline, bytes(e.data))

    @handles(ev.ProposalApproved)
    def _proposal_approved(self, i: int, e: ev.ProposalApproved) -> None:
        p = self._proposal(i, e.id)
        if p is None:
            return
        now = e.timestamp
        self._require_council(i, e.approver, p.data[:4] == _RENEWAL, now)
        if now > p.deadline:
            self._violation(i, "ProposalExpired", str(e.id))
        if e.approver in p.approvers:
            self._violation(i, "AlreadyApproved", e.approver)
        p.approvers.append(e.approver)
        if e.approvals != len(p.approvers):
            self._violation(i, "ApprovalCount", str(e.id))
        if self.counted_approvals(p, now) >= self.parameters.get(_key("THRESHOLD"), 0):
            p.executed = True
            self._running = (e.tx_hash, p)

    @handles(ev.ProposalExecuted)
    def _proposal_executed(self, i: int, e: ev.ProposalExecuted) -> None:
        running = self._running
        if running is None or running[0] != e.tx_hash or running[1].id != e.id:
            self._violation(i, "ProposalNotApproved", str(e.id))
            if (p := self.proposals.get(e.id)) is not None:
                p.executed = True
        self._running = None

    @handles(ev.ProposalCancelled)
    def _proposal_cancelled(self, i: int, e: ev.ProposalCancelled) -> None:
        p = self._proposal(i, e.id)
        if e.by == self.council:
            self._by_proposal(i, str(e.id))
        elif p is not None and e.by != p.proposer:
            self._violation(i, "NotProposer", e.by)
        elif e.by not in self.members:
            self._violation(i, "NotMember", e.by)
        if p is not None:
            p.cancelled = True

    # ------------------------------------------------------------ views

    def prefix_owner(self, code: str) -> str:
        """The owner of the longest company prefix of GTIN-14 or SSCC-18 ``code`` (as
        ``Consortium.prefixOwner``)."""
        if len(code) not in (14, 18):
            return ZERO_ADDRESS
        return longest_prefix_owner(self.prefixes, code) or ZERO_ADDRESS

    def owner_index(self, code: str) -> int:
        """The member index owning ``code``'s company prefix, 0 for none (as
        ``Consortium.prefixOwnerIndex``)."""
        m = self.members.get(self.prefix_owner(code))
        return 0 if m is None else m.index

    def pack_id(self, gtin14: str, serial: str) -> bytes:
        """The id a lookup of the printed pack code finds: scoped to the GTIN's prefix owner
        (to index 0, which no record has, when no member owns the prefix); remembered per
        code and owner, as a live gateway looks its scans up again at every run."""
        owner = self.owner_index(gtin14)
        known = self._pack_ids.get((gtin14, serial))
        if known is None or known[0] != owner:
            known = (owner, record_id(owner, pack_hash(gtin14, serial)))
            self._pack_ids[(gtin14, serial)] = known
        return known[1]

    def lot_tag(self, gtin14: str, serial: str, lot: str) -> bytes:
        """The lot tag a pack printed with ``lot`` carries (:func:`ledger_client.ids.lot_tag`),
        remembered."""
        key = (gtin14, serial, lot)
        if key not in self._scanned_lot_tags:
            self._scanned_lot_tags[key] = lot_tag(gtin14, serial, lot)
        return self._scanned_lot_tags[key]

    def lot_id(self, gtin14: str, lot: str) -> bytes:
        """The id of the genuine lot ``lot`` of ``gtin14`` (as :meth:`pack_id`)."""
        return record_id(self.owner_index(gtin14), lot_hash(gtin14, lot))

    def unit_id(self, sscc18: str) -> bytes:
        """The id of the genuine logistic unit ``sscc18`` (as :meth:`pack_id`)."""
        return record_id(self.owner_index(sscc18), unit_hash(sscc18))

    def undo_window(self) -> int:
        """The consortium's UNDO_WINDOW parameter in seconds."""
        return self.parameters.get(_key("UNDO_WINDOW"), 0)
