"""Exception records between trading partners: opened by a supply-chain member against
another, answered once by that counterparty, resolved by the opener (accepting the answer, or
withdrawing before one) or closed by the council or by two regulators (the first asks, the
second closes: no single key settles another member's dispute). The chain keeps the kind,
the parties, the hash of the items and of the opener's evidence, and the three times; each
step by its party only, in order, once; the auditor's replay agrees with the contract."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger_client.audit import audit
from ledger_client.chain import fund
from ledger_client.contracts import MemberStatus, Role
from ledger_client.devnet import DevNetwork
from ledger_client.ids import items_hash
from ledger_client.ledger import Ledger
from ledger_client.relay import relay, sign_request
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import (
    ZERO_ADDRESS,
    ZERO_HASH,
    ExceptionKind,
    ExceptionStatus,
    Resolver,
)
from tests.utils.chain import Chain
from tests.utils.events import normalised, only_event
from tests.utils.factories import CASE, GTIN, event_hash, owners
from tests.utils.governance import as_council, govern

K = ExceptionKind
FAR_FUTURE = 4_102_444_800  # 2100-01-01
MISSING = [(GTIN, "M1"), (GTIN, "M2")]


def refused(step: Callable[[], object], error: str) -> dict[str, object]:
    """Run ``step``, which must revert with ``error``; return the error's arguments."""
    with pytest.raises(LedgerRevertError) as caught:
        step()
    assert caught.value.error == error, str(caught.value)
    return caught.value.args_by_name


def open_call(ledger: Ledger, counterparty: str, kind: int, items: bytes) -> object:
    """``openException`` sent straight to the contract (past the client's checks)."""
    fn = ledger.exceptions.functions.openException
    return ledger.transact(fn(counterparty, kind, items, event_hash("evidence")))


@pytest.fixture
def opened(net: DevNetwork) -> int:
    """Wholesaler B's exception against the manufacturer: two packs shipped, not arrived."""
    wb, m = net["wholesaler_b"], net["manufacturer"]
    case, _ = wb.open_exception(
        m.address, K.DATA_WITHOUT_PRODUCT, MISSING, evidence_hash=event_hash("dock")
    )
    return case


def test_an_exception_is_opened_with_its_kind_parties_items_and_evidence(
    net: DevNetwork, chain: Chain
) -> None:
    wb, m = net["wholesaler_b"], net["manufacturer"]
    ids = owners(net)
    items = [ids.pack_id(*p) for p in MISSING] + [ids.unit_id(CASE)]
    case, receipt = wb.open_exception(
        m.address, K.AGGREGATION_ERROR, MISSING, [CASE], evidence_hash=event_hash("dock")
    )
    event = only_event(receipt)
    assert (case, event.name) == (1, "ExceptionOpened")
    assert normalised(event.args) == {
        "id": 1,
        "opener": wb.address,
        "counterparty": m.address,
        "kind": int(K.AGGREGATION_ERROR),
        "itemsHash": items_hash(items),
        "evidenceHash": event_hash("dock"),
    }
    record = wb.exception(case)
    assert (record.opener, record.counterparty, record.kind) == (
        wb.address,
        m.address,
        K.AGGREGATION_ERROR,
    )
    assert (record.status, record.resolved_by) == (ExceptionStatus.OPEN, Resolver.NONE)
    assert (record.opened_at, record.answered_at, record.resolved_at) == (chain.now(), 0, 0)
    assert record.items_hash == items_hash(list(reversed(items)))  # the scan order is no matter
    assert record.evidence_hash == event_hash("dock")
    assert wb.exceptions.functions.exceptionCount().call() == 1
    assert wb.exception(2).status == ExceptionStatus.NONE


def test_the_counterparty_answers_and_the_opener_accepts(
    net: DevNetwork, chain: Chain, opened: int
) -> None:
    wb, m = net["wholesaler_b"], net["manufacturer"]
    chain.advance(3600)
    answer = only_event(m.answer_exception(opened, event_hash("shipped it")))
    assert normalised(answer.args) == {
        "id": opened,
        "by": m.address,
        "evidenceHash": event_hash("shipped it"),
    }
    answered_at = chain.now()
    record = wb.exception(opened)
    assert (record.status, record.answered_at) == (ExceptionStatus.ANSWERED, answered_at)
    chain.advance(3600)
    resolution = only_event(wb.resolve_exception(opened, event_hash("found it")))
    assert normalised(resolution.args) == {
        "id": opened,
        "by": wb.address,
        "resolvedBy": int(Resolver.OPENER),
        "evidenceHash": event_hash("found it"),
    }
    record = wb.exception(opened)
    assert (record.status, record.resolved_by) == (ExceptionStatus.RESOLVED, Resolver.OPENER)
    assert (record.answered_at, record.resolved_at) == (answered_at, chain.now())


def test_the_opener_withdraws_before_an_answer(net: DevNetwork, opened: int) -> None:
    wb = net["wholesaler_b"]
    wb.resolve_exception(opened)
    record = wb.exception(opened)
    assert (record.status, record.answered_at) == (ExceptionStatus.RESOLVED, 0)
    refused(lambda: net["manufacturer"].answer_exception(opened), "ExceptionRegistryNotOpen")


@pytest.mark.parametrize("who", ["wholesaler_b", "pharmacy_a", "regulator", "auditor"])
def test_only_the_counterparty_answers(net: DevNetwork, opened: int, who: str) -> None:
    args = refused(lambda: net[who].answer_exception(opened), "ExceptionRegistryNotCounterparty")
    assert args == {"id": opened, "caller": net.address(who).lower()}


def test_an_exception_is_answered_once(net: DevNetwork, opened: int) -> None:
    m = net["manufacturer"]
    m.answer_exception(opened)
    args = refused(lambda: m.answer_exception(opened), "ExceptionRegistryNotOpen")
    assert args == {"id": opened, "status": int(ExceptionStatus.ANSWERED)}


@pytest.mark.parametrize("who", ["manufacturer", "pharmacy_a", "auditor"])
def test_the_counterparty_or_a_bystander_cannot_resolve(
    net: DevNetwork, opened: int, who: str
) -> None:
    net["manufacturer"].answer_exception(opened)
    refused(lambda: net[who].resolve_exception(opened), "ExceptionRegistryNotOpener")


@pytest.fixture
def regulator_2(net: DevNetwork, chain: Chain) -> Ledger:
    """A second regulator, admitted by the council."""
    ledger = chain.ledger("regulator_2")
    fund(chain.w3, [ledger.address])
    govern(net, "addMember", ledger.address, 4012354000015, int(Role.REGULATOR), FAR_FUTURE)
    return ledger


@pytest.mark.parametrize("answered", [False, True])
def test_a_regulator_asks_for_the_closure_and_a_second_one_closes_it(
    net: DevNetwork, opened: int, answered: bool, regulator_2: Ledger
) -> None:
    if answered:
        net["manufacturer"].answer_exception(opened)
    status = ExceptionStatus.ANSWERED if answered else ExceptionStatus.OPEN
    asked = only_event(net["regulator"].resolve_exception(opened, event_hash("asked")))
    assert (asked.name, asked.args["by"]) == ("ExceptionClosureRequested", net.address("regulator"))
    assert net["auditor"].exception(opened).status == status  # nothing settled yet
    args = refused(
        lambda: net["regulator"].resolve_exception(opened),
        "ExceptionRegistryClosureAlreadyRequested",
    )
    assert args == {"id": opened, "caller": net.address("regulator").lower()}
    event = only_event(regulator_2.resolve_exception(opened, event_hash("closed")))
    assert event.args["resolvedBy"] == int(Resolver.REGULATOR)
    assert net["auditor"].exception(opened).resolved_by == Resolver.REGULATOR


def test_a_closure_request_of_a_former_regulator_counts_for_nothing(
    net: DevNetwork, opened: int, regulator_2: Ledger
) -> None:
    net["regulator"].resolve_exception(opened)
    govern(net, "setMemberStatus", net.address("regulator"), int(MemberStatus.SUSPENDED),
           by=("manufacturer", "wholesaler_a"))  # fmt: skip
    asked = only_event(regulator_2.resolve_exception(opened))
    assert asked.name == "ExceptionClosureRequested"  # a new request, not a closure
    assert net["auditor"].exception(opened).status == ExceptionStatus.OPEN


def test_the_opener_resolves_at_once_whatever_a_regulator_asked(
    net: DevNetwork, opened: int
) -> None:
    net["regulator"].resolve_exception(opened)
    event = only_event(net["wholesaler_b"].resolve_exception(opened))
    assert event.args["resolvedBy"] == int(Resolver.OPENER)


def test_the_council_closes_an_exception(net: DevNetwork, opened: int) -> None:
    exceptions = net["auditor"].exceptions
    receipt = as_council(net, exceptions, "resolveException", opened, event_hash("council"))
    (event,) = [e for e in receipt.events if e.name == "ExceptionResolved"]
    assert (event.args["by"], event.args["resolvedBy"]) == (
        net["auditor"].consortium.address,
        int(Resolver.COUNCIL),
    )


def test_an_exception_is_resolved_once(net: DevNetwork, opened: int) -> None:
    net["wholesaler_b"].resolve_exception(opened)
    for who in ("wholesaler_b", "regulator"):
        args = refused(
            lambda w=who: net[w].resolve_exception(opened),  # type: ignore[misc]
            "ExceptionRegistryAlreadyResolved",
        )
        assert args == {"id": opened}


@pytest.mark.parametrize("step", ["answer", "resolve"])
def test_an_unknown_exception_is_refused(net: DevNetwork, step: str) -> None:
    ledger = net["manufacturer"]
    call = ledger.answer_exception if step == "answer" else ledger.resolve_exception
    assert refused(lambda: call(7), "ExceptionRegistryUnknownException") == {"id": 7}


def test_the_same_claim_is_open_once(net: DevNetwork, opened: int) -> None:
    wb, m = net["wholesaler_b"], net["manufacturer"]
    again = lambda: wb.open_exception(m.address, K.DATA_WITHOUT_PRODUCT, MISSING)  # noqa: E731
    assert refused(again, "ExceptionRegistryAlreadyOpen") == {"id": opened}
    other_kind, _ = wb.open_exception(m.address, K.DATA_ISSUE, MISSING)
    assert other_kind == opened + 1
    wb.resolve_exception(opened)
    reopened, _ = again()
    assert reopened == opened + 2
    assert wb.exception(reopened).status == ExceptionStatus.OPEN


@pytest.mark.parametrize(
    ("counterparty", "kind", "items", "error"),
    [
        ("manufacturer", 0, b"\x01" * 32, "ExceptionRegistryInvalidKind"),
        ("manufacturer", 3, ZERO_HASH, "ExceptionRegistryNoItems"),
        ("wholesaler_b", 3, b"\x01" * 32, "ExceptionRegistryInvalidCounterparty"),  # itself
        ("regulator", 3, b"\x01" * 32, "ExceptionRegistryInvalidCounterparty"),  # no trader
        ("outsider", 3, b"\x01" * 32, "ExceptionRegistryInvalidCounterparty"),  # no member
    ],
)
def test_bad_openings_are_refused(
    net: DevNetwork, chain: Chain, counterparty: str, kind: int, items: bytes, error: str
) -> None:
    wb, other = net["wholesaler_b"], chain.ledger(counterparty)
    refused(lambda: open_call(wb, other.address, kind, items), error)
    assert wb.exceptions.functions.exceptionCount().call() == 0


def test_an_empty_or_repeated_item_list_is_refused_before_sending(net: DevNetwork) -> None:
    wb, m = net["wholesaler_b"], net["manufacturer"]
    with pytest.raises(ValueError, match="at least one"):
        wb.open_exception(m.address, K.DATA_ISSUE)
    with pytest.raises(ValueError, match="named twice"):
        wb.open_exception(m.address, K.DATA_ISSUE, [MISSING[0], MISSING[0]])


def test_an_exception_against_a_suspended_member_waits_for_a_regulator(
    net: DevNetwork, opened: int
) -> None:
    wb, m = net["wholesaler_b"], net["manufacturer"]
    govern(
        net,
        "setMemberStatus",
        m.address,
        int(MemberStatus.SUSPENDED),
        by=("wholesaler_a", "regulator"),
    )
    second, _ = wb.open_exception(m.address, K.DATA_ISSUE, MISSING)  # still its counterparty
    refused(lambda: m.answer_exception(second), "ConsortiumMemberNotActive")
    net["regulator"].resolve_exception(second)


def test_exceptions_follow_their_parties_through_a_key_rotation(
    net: DevNetwork, chain: Chain, opened: int
) -> None:
    m, new = net["manufacturer"], chain.ledger("outsider")
    govern(net, "rotateMemberKey", m.address, new.address, by=("wholesaler_a", "regulator"))
    assert new.exception(opened).counterparty == new.address
    refused(lambda: m.answer_exception(opened), "ConsortiumNotMember")
    new.answer_exception(opened)
    net["wholesaler_b"].resolve_exception(opened)


def test_a_relayed_answer_acts_as_its_signer_and_only_as_it(net: DevNetwork, opened: int) -> None:
    m, wb, gateway = net["manufacturer"], net["wholesaler_b"], net["pharmacy_a"]
    call = wb.exceptions.functions.answerException(opened, ZERO_HASH)
    forged = sign_request(wb, call, gas=200_000)  # no estimate: it would revert already
    with pytest.raises(LedgerRevertError) as caught:
        relay(gateway, forged)  # the opener's signature answers nothing
    assert caught.value.error == "ExceptionRegistryNotCounterparty"
    request = sign_request(m, m.exceptions.functions.answerException(opened, ZERO_HASH))
    event = only_event(relay(gateway, request))
    assert (event.name, event.args["by"]) == ("ExceptionAnswered", m.address)


def test_the_auditors_replay_agrees_with_the_exception_registry(
    net: DevNetwork, chain: Chain, opened: int
) -> None:
    wb, m = net["wholesaler_b"], net["manufacturer"]
    m.answer_exception(opened)
    wb.resolve_exception(opened)
    second, _ = wb.open_exception(m.address, K.PACKAGING_LABELLING, MISSING)
    as_council(net, wb.exceptions, "resolveException", second, ZERO_HASH)
    third, _ = m.open_exception(wb.address, K.UNAVAILABLE_FOR_DISTRIBUTION, MISSING)
    net["regulator"].resolve_exception(third)  # a closure asked for, waiting
    govern(net, "rotateMemberKey", m.address, chain.ledger("outsider").address)
    result = audit(wb.w3, net.deployment)
    assert result.divergences == []
    assert result.compared["exceptions"] == 3
    assert result.model.exception_view(result.model.exceptions[third])[1] == wb.address
    assert result.model.exception_view(None)[0] == ZERO_ADDRESS
