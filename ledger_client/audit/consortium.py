"""The consortium half of the auditor's model: members, company prefixes, parameters and
products as Consortium.sol (and the product directory) hold them, with the checks
SerialRegistry.sol makes of a member before it acts. :class:`ConsortiumModel` is the base of
:class:`~ledger_client.audit.model.RegistryModel`, which feeds it the consortium's events
and asks it who may act."""

from __future__ import annotations

from ledger_client import events as ev
from ledger_client.audit.state import Member, RuleViolation
from ledger_client.contracts import MemberStatus
from ledger_client.events import handles
from ledger_client.types import ZERO_ADDRESS


class ConsortiumModel:
    """Members, prefixes, parameters and products rebuilt from the consortium's events, and
    the model's event list and rule violations."""

    def __init__(self) -> None:
        self.events: list[ev.ChainEvent] = []
        self.members: dict[str, Member] = {}
        self.member_accounts: list[str] = [ZERO_ADDRESS]
        self.prefixes: dict[str, str] = {}
        self.parameters: dict[bytes, int] = {}
        self.products: dict[str, str] = {}
        self.violations: list[RuleViolation] = []

    def _violation(self, event: int, rule: str, subject: bytes | str) -> None:
        self.violations.append(RuleViolation(event, rule, subject))

    def _member(self, i: int, account: str) -> Member | None:
        """The member ``account``, or None with a NotMember violation."""
        m = self.members.get(account)
        if m is None:
            self._violation(i, "NotMember", account)
        return m

    def _require_member(self, i: int, account: str, roles: int, now: int) -> None:
        m = self._member(i, account)
        if m is None:
            return
        if m.status != MemberStatus.ACTIVE:
            self._violation(i, "MemberNotActive", account)
        elif m.licence_expiry <= now:
            self._violation(i, "LicenceExpired", account)
        elif m.roles & roles == 0:
            self._violation(i, "MissingRole", account)

    # ------------------------------------------------------------ consortium and directory

    @handles(ev.MemberAdded)
    def _member_added(self, i: int, e: ev.MemberAdded) -> None:
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

    @handles(ev.MemberStatusChanged, ev.MemberRolesChanged, ev.MemberLicenceChanged)
    def _member_changed(
        self,
        i: int,
        e: ev.MemberStatusChanged | ev.MemberRolesChanged | ev.MemberLicenceChanged,
    ) -> None:
        m = self._member(i, e.account)
        if m is None:
            return
        if isinstance(e, ev.MemberStatusChanged):
            m.status = e.status
        elif isinstance(e, ev.MemberRolesChanged):
            m.roles = e.roles
        else:
            m.licence_expiry = e.licence_expiry

    @handles(ev.PrefixAssigned)
    def _prefix_assigned(self, i: int, e: ev.PrefixAssigned) -> None:
        self.prefixes[e.prefix] = e.account

    @handles(ev.PrefixRevoked)
    def _prefix_revoked(self, i: int, e: ev.PrefixRevoked) -> None:
        if self.prefixes.pop(e.prefix, None) is None:
            self._violation(i, "PrefixNotAssigned", e.prefix)

    @handles(ev.ParameterChanged)
    def _parameter_changed(self, i: int, e: ev.ParameterChanged) -> None:
        self.parameters[bytes(e.key)] = e.value

    @handles(ev.ProductRegistered)
    def _product_registered(self, i: int, e: ev.ProductRegistered) -> None:
        gtin, owner = e.gtin14, e.owner
        if self.prefix_owner(gtin) != owner:
            self._violation(i, "NotPrefixOwner", gtin)
        self.products[gtin] = owner

    def prefix_owner(self, gtin14: str) -> str:
        """The owner of the longest company prefix of ``gtin14`` (as Consortium.prefixOwner)."""
        if len(gtin14) != 14:
            return ZERO_ADDRESS
        for length in range(12, 3, -1):
            owner = self.prefixes.get(gtin14[1 : 1 + length])
            if owner is not None:
                return owner
        return ZERO_ADDRESS

    def undo_window(self) -> int:
        """The consortium's UNDO_WINDOW parameter in seconds."""
        return self.parameters.get(b"UNDO_WINDOW".ljust(32, b"\x00"), 0)
