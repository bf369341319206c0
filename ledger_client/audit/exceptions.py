"""The exceptions of the auditor's model: trading partners' exception records as
ExceptionRegistry.sol keeps them.

A supply-chain member opens an exception against another (the counterparty); the
counterparty answers it once; the opener resolves it (accepting the answer, or withdrawing it
before one), or the council closes it, or two regulators do (the first asks for the closure,
the second's resolution closes it). The same claim (opener, counterparty,
kind, items) is open once at most. Parties are kept by member index, as the contract keeps
them, so a key rotation needs no renaming. :class:`ExceptionModel` is one of the bases of
:class:`~ledger_client.audit.model.RegistryModel`, which dispatches the events to its handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger_client import events as ev
from ledger_client.audit.consortium import ConsortiumModel
from ledger_client.audit.state import ALL_ROLES, REGULATOR, SUPPLY_CHAIN, ZERO32
from ledger_client.contracts import MemberStatus
from ledger_client.events import handles
from ledger_client.types import ZERO_ADDRESS, ExceptionKind, ExceptionStatus, Resolver

NO_EXCEPTION = (ZERO_ADDRESS, ZERO_ADDRESS, 0, 0, 0, 0, 0, 0, ZERO32, ZERO32)
_OPEN, _ANSWERED, _RESOLVED = (int(s) for s in ExceptionStatus if s)
#: The highest exception kind the contract accepts.
_KINDS = max(ExceptionKind)


@dataclass(slots=True)
class ExceptionCase:
    """An exception as the contract's ``Record`` holds it (parties by member index), and the
    events that made it."""

    id: int
    opener: int
    counterparty: int
    kind: int
    items_hash: bytes
    evidence_hash: bytes
    opened_at: int
    status: int = _OPEN
    resolved_by: int = 0
    answered_at: int = 0
    resolved_at: int = 0
    #: The member index of the regulator that asked for its closure (0: none).
    close_requested_by: int = 0
    history: list[int] = field(default_factory=list)


class ExceptionModel(ConsortiumModel):
    """Exception records rebuilt from the exception registry's events."""

    def __init__(self, council: str = ZERO_ADDRESS) -> None:
        super().__init__(council)
        self.exceptions: dict[int, ExceptionCase] = {}
        #: The unresolved exception of each claim (opener, counterparty, kind, items hash).
        self._open_claims: dict[tuple[int, int, int, bytes], int] = {}

    def _index(self, account: str) -> int:
        m = self.members.get(account)
        return 0 if m is None else m.index

    def _case(self, i: int, case_id: int) -> ExceptionCase | None:
        case = self.exceptions.get(case_id)
        if case is None:
            self._violation(i, "UnknownException", str(case_id))
        else:
            case.history.append(i)
        return case

    @handles(ev.ExceptionOpened)
    def _exception_opened(self, i: int, e: ev.ExceptionOpened) -> None:
        subject = str(e.id)
        self._require_member(i, e.opener, SUPPLY_CHAIN, e.timestamp)
        me, other = self._index(e.opener), self.members.get(e.counterparty)
        if not 0 < e.kind <= _KINDS:
            self._violation(i, "InvalidKind", subject)
        if e.items_hash == ZERO32:
            self._violation(i, "NoItems", subject)
        if other is None or other.index == me or not other.roles & SUPPLY_CHAIN:
            self._violation(i, "InvalidCounterparty", e.counterparty)
        counterparty = 0 if other is None else other.index
        claim = (me, counterparty, e.kind, e.items_hash)
        if claim in self._open_claims:
            self._violation(i, "AlreadyOpen", subject)
        if e.id != len(self.exceptions) + 1:
            self._violation(i, "ExceptionIdGap", subject)
        self._open_claims[claim] = e.id
        self.exceptions[e.id] = ExceptionCase(
            e.id, me, counterparty, e.kind, e.items_hash, e.evidence_hash, e.timestamp, history=[i]
        )

    @handles(ev.ExceptionAnswered)
    def _exception_answered(self, i: int, e: ev.ExceptionAnswered) -> None:
        self._require_member(i, e.by, ALL_ROLES, e.timestamp)
        case = self._case(i, e.id)
        if case is None:
            return
        if case.counterparty != self._index(e.by):
            self._violation(i, "NotCounterparty", e.by)
        elif case.status != _OPEN:
            self._violation(i, "NotOpen", str(e.id))
        case.status, case.answered_at = _ANSWERED, e.timestamp

    def _standing_closure(self, case: ExceptionCase, now: int) -> bool:
        """True when ``case`` has a closure request whose regulator still is an active,
        licensed regulator."""
        accounts = self.member_accounts
        index = case.close_requested_by
        m = self.members.get(accounts[index]) if 0 < index < len(accounts) else None
        return (
            m is not None
            and m.status == MemberStatus.ACTIVE
            and bool(m.roles & REGULATOR)
            and m.licence_expiry > now
        )

    @handles(ev.ExceptionClosureRequested)
    def _closure_requested(self, i: int, e: ev.ExceptionClosureRequested) -> None:
        self._require_member(i, e.by, ALL_ROLES, e.timestamp)
        case = self._case(i, e.id)
        if case is None:
            return
        m = self.members.get(e.by)
        if m is None or not m.roles & REGULATOR or m.index == case.opener:
            self._violation(i, "NotClosureRequest", e.by)
        elif case.status == _RESOLVED:
            self._violation(i, "AlreadyResolved", str(e.id))
        elif case.close_requested_by == m.index:
            self._violation(i, "ClosureAlreadyRequested", str(e.id))
        elif self._standing_closure(case, e.timestamp):
            self._violation(i, "NotClosureRequest", str(e.id))  # a second regulator closes
        case.close_requested_by = 0 if m is None else m.index

    @handles(ev.ExceptionResolved)
    def _exception_resolved(self, i: int, e: ev.ExceptionResolved) -> None:
        case = self._case(i, e.id)
        if case is None:
            return
        if e.by == self.council:
            self._by_proposal(i, str(e.id))
            by = Resolver.COUNCIL
        else:
            self._require_member(i, e.by, ALL_ROLES, e.timestamp)
            m = self.members.get(e.by)
            if m is not None and m.index == case.opener:
                by = Resolver.OPENER
            elif m is not None and m.roles & REGULATOR:
                by = Resolver.REGULATOR
            else:
                by = Resolver.NONE
                self._violation(i, "NotOpener", e.by)
        if by != Resolver.NONE and case.status == _RESOLVED:
            self._violation(i, "AlreadyResolved", str(e.id))
        elif by == Resolver.REGULATOR and (
            case.close_requested_by == self._index(e.by)
            or not self._standing_closure(case, e.timestamp)
        ):
            self._violation(i, "ClosureNeedsSecondRegulator", str(e.id))
        if e.resolved_by != by:
            self._violation(i, "ResolverMismatch", str(e.id))
        case.status, case.resolved_by, case.resolved_at = _RESOLVED, e.resolved_by, e.timestamp
        self._open_claims.pop((case.opener, case.counterparty, case.kind, case.items_hash), None)

    # ------------------------------------------------------------ views

    def exception_view(self, case: ExceptionCase | None) -> tuple[Any, ...]:
        """The exception as the contract's ``exceptionRecord`` returns it (an ``ExceptionView``
        tuple, members by their current account)."""
        if case is None:
            return NO_EXCEPTION
        accounts = self.member_accounts
        return (
            accounts[case.opener] if case.opener < len(accounts) else ZERO_ADDRESS,
            accounts[case.counterparty] if case.counterparty < len(accounts) else ZERO_ADDRESS,
            case.kind,
            case.status,
            case.resolved_by,
            case.opened_at,
            case.answered_at,
            case.resolved_at,
            case.items_hash,
            case.evidence_hash,
        )
