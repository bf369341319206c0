"""The shipment exceptions and exception records in the auditor's model, on crafted histories:
a cancel, refusal, loss or find, or an exception step, by anyone but its party, or out of
order, is reported by the rule it breaks; the allowed ones by none."""

from __future__ import annotations

from test_model_rules import COUNCIL, MAKER, REG1, REG2, S1, S2, SHOP, SQUATTER, History

from ledger_client.types import PackStatus, VerificationStatus
from tests.utils.factories import GTIN

ITEMS = b"\x11" * 32


def shipped(to: str = SHOP) -> History:
    """The crafted history with S1 and S2 shipped by the maker to ``to``."""
    h = History()
    ship = {"from": MAKER, "to": to, "packIds": [S1, S2], "unitIds": []}
    assert h.add("ItemsShipped", **ship) == []
    return h


def leg(h: History, name: str, by: str, party: str, *packs: bytes) -> list[str]:
    """Event ``name`` (a shipment leg) by ``by`` naming ``party`` as the other side."""
    other = "sender" if name == "ItemsRefused" else "recipient"
    return h.add(name, by=by, **{other: party}, packIds=list(packs or [S1]), unitIds=[])


def test_only_the_sender_cancels_and_only_a_shipment_in_transit() -> None:
    h = shipped()
    assert leg(h, "ShipmentCancelled", SHOP, SHOP) == ["NotSender"]
    h = shipped()
    assert leg(h, "ShipmentCancelled", MAKER, SQUATTER) == ["NotShippedTo"]
    h = shipped()
    assert leg(h, "ShipmentCancelled", MAKER, SHOP) == []
    assert h.model.pack_view(h.model.packs[S1])[:1] == (PackStatus.ACTIVE,)
    assert leg(h, "ShipmentCancelled", MAKER, SHOP) == ["NotInTransit"]


def test_only_the_recipient_refuses_naming_the_sender() -> None:
    h = shipped()
    assert leg(h, "ItemsRefused", MAKER, MAKER) == ["NotRecipient"]
    h = shipped()
    assert leg(h, "ItemsRefused", SHOP, SQUATTER) == ["NotShippedBy"]
    h = shipped()
    assert leg(h, "ItemsRefused", SHOP, MAKER) == []
    assert h.add("ItemsReceived", by=MAKER, packIds=[S1], unitIds=[]) == []
    assert h.model.holder(h.model.packs[S1]) == (MAKER, False)


def test_lost_items_verify_lost_and_are_found_only_by_their_sender() -> None:
    h = shipped()
    assert leg(h, "ItemsLost", MAKER, SHOP) == []
    assert h.model.verify(GTIN, "S1", now=h.now)[0] == VerificationStatus.LOST
    assert h.add("ItemsReceived", by=SHOP, packIds=[S1], unitIds=[]) == ["NotInTransit"]
    h = shipped()
    leg(h, "ItemsLost", MAKER, SHOP)
    assert leg(h, "LostItemsFound", SHOP, SHOP) == ["NotSender"]
    assert leg(h, "LostItemsFound", MAKER, SHOP, S2) == ["NotLost"]
    h = shipped()
    leg(h, "ItemsLost", MAKER, SHOP)
    assert leg(h, "LostItemsFound", MAKER, SHOP) == []
    assert h.model.verify(GTIN, "S1", now=h.now)[0] == VerificationStatus.IN_TRANSIT


def opened(h: History, by: str = SHOP, against: str = MAKER, kind: int = 3) -> list[str]:
    case = len(h.model.exceptions) + 1
    args = {"id": case, "opener": by, "counterparty": against, "kind": kind}
    return h.add("ExceptionOpened", **args, itemsHash=ITEMS, evidenceHash=bytes(32))


def test_exceptions_are_opened_by_traders_against_another_once() -> None:
    h = History()
    assert opened(h, by=REG1) == ["MissingRole"]
    h = History()
    assert opened(h, against=SHOP) == ["InvalidCounterparty"]
    h = History()
    assert opened(h, against=REG1) == ["InvalidCounterparty"]
    h = History()
    assert opened(h) == []
    assert opened(h) == ["AlreadyOpen"]


def test_each_exception_step_by_its_party_in_order() -> None:
    h = History()
    opened(h)
    assert h.add("ExceptionAnswered", id=1, by=SHOP, evidenceHash=bytes(32)) == ["NotCounterparty"]
    h = History()
    opened(h)
    assert h.add("ExceptionAnswered", id=1, by=MAKER, evidenceHash=bytes(32)) == []
    assert h.add("ExceptionAnswered", id=1, by=MAKER, evidenceHash=bytes(32)) == ["NotOpen"]
    resolve = {"id": 1, "evidenceHash": bytes(32)}
    assert h.add("ExceptionResolved", by=MAKER, resolvedBy=1, **resolve) == [
        "NotOpener",
        "ResolverMismatch",
    ]
    h = History()
    opened(h)
    asked = {"id": 1, "evidenceHash": bytes(32)}
    assert h.add("ExceptionResolved", by=REG1, resolvedBy=2, **resolve) == [
        "ClosureNeedsSecondRegulator"
    ]
    h = History()
    opened(h)
    assert h.add("ExceptionClosureRequested", by=REG1, **asked) == []
    assert h.add("ExceptionClosureRequested", by=REG1, **asked) == ["ClosureAlreadyRequested"]
    assert h.add("ExceptionResolved", by=REG1, resolvedBy=2, **resolve) == [
        "ClosureNeedsSecondRegulator"
    ]
    h = History()
    opened(h)
    assert h.add("ExceptionClosureRequested", by=SHOP, **asked) == ["NotClosureRequest"]
    assert h.add("ExceptionClosureRequested", by=REG1, **asked) == []
    assert h.add("ExceptionClosureRequested", by=REG2, **asked) == ["NotClosureRequest"]
    h = History()
    opened(h)
    assert h.add("ExceptionClosureRequested", by=REG1, **asked) == []
    assert h.add("ExceptionResolved", by=REG2, resolvedBy=2, **resolve) == []
    assert h.add("ExceptionResolved", by=SHOP, resolvedBy=1, **resolve) == ["AlreadyResolved"]
    h = History()
    opened(h)
    assert h.add("ExceptionResolved", by=COUNCIL, resolvedBy=3, **resolve) == ["OnlyByProposal"]
    assert h.add("ExceptionAnswered", id=9, by=MAKER, evidenceHash=bytes(32)) == [
        "UnknownException"
    ]
    assert opened(h) == []  # resolved: the same claim may be opened again
