"""Shipments that do not go as planned: the sender cancels before receipt, the recipient
refuses some or all of the items (they travel back to the sender, who receives them), the
sender reports items lost in transit (recorded, verified LOST, never decommissioned) and found
again. Each step only by its party, once, while the items are where the step says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ledger_client.contracts import MemberStatus
from ledger_client.devnet import DevNetwork
from ledger_client.ledger import Ledger
from ledger_client.relay import relay, sign_request
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import (
    ZERO_ADDRESS,
    DecommissionReason,
    PackFlag,
    PackStatus,
    UnitStatus,
    VerificationStatus,
)
from tests.utils.events import normalised, only_event
from tests.utils.factories import (
    CASE,
    GTIN,
    PALLET,
    commissioned,
    event_hash,
    owners,
    registry_call,
)
from tests.utils.governance import govern

V = VerificationStatus
LOOSE = [(GTIN, "L1"), (GTIN, "L2")]
IN_CASE = [(GTIN, "C1"), (GTIN, "C2")]


@dataclass
class Shipment:
    """The manufacturer's shipment to wholesaler A of two loose packs and a pallet holding a
    case of two packs; pharmacy A is a third member."""

    net: DevNetwork
    sender: Ledger
    recipient: Ledger
    other: Ledger

    def ids(self) -> tuple[list[bytes], list[bytes]]:
        ids = owners(self.net)
        return [ids.pack_id(g, s) for g, s in LOOSE], [ids.unit_id(PALLET)]

    def verify(self, serial: str) -> V:
        return self.other.verify(GTIN, serial).status


@pytest.fixture
def shipment(net: DevNetwork) -> Shipment:
    m, w = net["manufacturer"], net["wholesaler_a"]
    commissioned(m, [s for _, s in LOOSE])
    commissioned(m, [s for _, s in IN_CASE], register=False, into=CASE)
    m.pack(PALLET, units=[CASE])
    m.ship(w.address, packs=LOOSE, units=[PALLET])
    return Shipment(net, m, w, net["pharmacy_a"])


def refused(step: Callable[[], object], error: str) -> dict[str, object]:
    """Run ``step``, which must revert with ``error``; return the error's arguments."""
    with pytest.raises(LedgerRevertError) as caught:
        step()
    assert caught.value.error == error, str(caught.value)
    return caught.value.args_by_name


# ---------------------------------------------------------------- cancel


def test_the_sender_cancels_before_receipt_and_holds_the_items_again(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    packs, units = shipment.ids()
    event = only_event(
        m.cancel_shipment(w.address, LOOSE, [PALLET], event_hash=event_hash("cancel"))
    )
    assert event.name == "ShipmentCancelled"
    assert normalised(event.args) == {
        "by": m.address,
        "recipient": w.address,
        "packIds": packs,
        "unitIds": units,
        "eventHash": event_hash("cancel"),
    }
    for view in m.pack_states(LOOSE + IN_CASE):
        assert (view.custodian, view.in_transit, view.lost) == (m.address, False, False)
        assert view.pending_to == ZERO_ADDRESS
    assert m.pack_state(*LOOSE[0]).status == PackStatus.ACTIVE
    assert m.unit_state(PALLET).status == UnitStatus.ACTIVE
    assert shipment.verify("C1") == V.VERIFIED
    refused(lambda: w.receive(LOOSE), "SerialRegistryNotInTransit")
    m.ship(w.address, packs=LOOSE)  # the sender's again, to ship anew
    w.receive(LOOSE)


def test_a_partial_cancel_leaves_the_rest_in_transit(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    m.cancel_shipment(w.address, packs=LOOSE[:1])
    assert m.pack_state(*LOOSE[0]).in_transit is False
    assert m.pack_state(*LOOSE[1]).pending_to == w.address
    w.receive(LOOSE[1:], [PALLET])
    assert shipment.verify("C1") == V.VERIFIED


@pytest.mark.parametrize("who", ["recipient", "other"])
def test_only_the_sender_cancels(shipment: Shipment, who: str) -> None:
    caller: Ledger = getattr(shipment, who)
    args = refused(
        lambda: caller.cancel_shipment(shipment.recipient.address, LOOSE),
        "SerialRegistryNotSender",
    )
    assert args["caller"] == caller.address.lower()


def test_a_cancel_names_the_shipments_recipient(shipment: Shipment) -> None:
    wrong = shipment.other.address
    args = refused(
        lambda: shipment.sender.cancel_shipment(wrong, LOOSE), "SerialRegistryNotShippedTo"
    )
    assert args["recipient"] == wrong.lower()


@pytest.mark.parametrize("after", ["cancelled", "received"])
def test_a_cancel_after_the_shipment_ended_is_refused(shipment: Shipment, after: str) -> None:
    m, w = shipment.sender, shipment.recipient
    if after == "cancelled":
        m.cancel_shipment(w.address, LOOSE)
    else:
        w.receive(LOOSE)
    refused(lambda: m.cancel_shipment(w.address, LOOSE), "SerialRegistryNotInTransit")


def test_packs_inside_a_shipped_unit_are_cancelled_with_their_unit(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    refused(lambda: m.cancel_shipment(w.address, IN_CASE), "SerialRegistryNotInTransit")
    refused(lambda: m.cancel_shipment(w.address, units=[CASE]), "SerialRegistryNotInTransit")
    empty = ("cancelShipment", w.address, [], [], event_hash("none"))
    refused(lambda: registry_call(m, *empty), "SerialRegistryEmptyBatch")


# ---------------------------------------------------------------- refuse


def test_the_recipient_refuses_some_items_and_the_sender_receives_them_back(
    shipment: Shipment,
) -> None:
    m, w = shipment.sender, shipment.recipient
    packs, units = shipment.ids()
    event = only_event(w.refuse(m.address, LOOSE[:1], [PALLET], event_hash=event_hash("refuse")))
    assert event.name == "ItemsRefused"
    assert normalised(event.args) == {
        "by": w.address,
        "sender": m.address,
        "packIds": packs[:1],
        "unitIds": units,
        "eventHash": event_hash("refuse"),
    }
    for view in m.pack_states(LOOSE[:1] + IN_CASE):
        assert (view.custodian, view.pending_to, view.in_transit) == (w.address, m.address, True)
    assert shipment.verify("C1") == V.IN_TRANSIT
    w.receive(LOOSE[1:])  # what it did not refuse it receives
    refused(lambda: w.receive(units=[PALLET]), "SerialRegistryNotRecipient")
    m.receive(LOOSE[:1], [PALLET])
    for view in m.pack_states(LOOSE[:1] + IN_CASE):
        assert (view.custodian, view.in_transit) == (m.address, False)
    assert shipment.verify("C1") == V.VERIFIED


@pytest.mark.parametrize("who", ["sender", "other"])
def test_only_the_recipient_refuses(shipment: Shipment, who: str) -> None:
    caller: Ledger = getattr(shipment, who)
    args = refused(
        lambda: caller.refuse(shipment.sender.address, LOOSE), "SerialRegistryNotRecipient"
    )
    assert args["caller"] == caller.address.lower()


def test_a_refusal_names_the_shipments_sender(shipment: Shipment) -> None:
    wrong = shipment.other.address
    args = refused(lambda: shipment.recipient.refuse(wrong, LOOSE), "SerialRegistryNotShippedBy")
    assert args["sender"] == wrong.lower()


def test_items_are_refused_once_and_not_after_receipt(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    w.refuse(m.address, LOOSE[:1])
    refused(lambda: w.refuse(m.address, LOOSE[:1]), "SerialRegistryNotRecipient")
    w.receive(LOOSE[1:])
    refused(lambda: w.refuse(m.address, LOOSE[1:]), "SerialRegistryNotInTransit")


def test_the_refuser_may_withdraw_its_refusal_until_the_sender_receives(
    shipment: Shipment,
) -> None:
    m, w = shipment.sender, shipment.recipient
    w.refuse(m.address, LOOSE)
    w.cancel_shipment(m.address, LOOSE)  # the refusal was a mistake: it keeps the packs
    assert {v.custodian for v in w.pack_states(LOOSE)} == {w.address}
    assert not any(v.in_transit for v in w.pack_states(LOOSE))
    refused(lambda: m.receive(LOOSE), "SerialRegistryNotInTransit")


def test_a_refusal_back_to_a_suspended_sender_waits_for_the_council(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    govern(shipment.net, "setMemberStatus", m.address, int(MemberStatus.SUSPENDED))
    w.refuse(m.address, LOOSE)  # the receiver never has to keep what it refuses
    refused(lambda: m.receive(LOOSE), "ConsortiumMemberNotActive")
    assert w.pack_state(*LOOSE[0]).pending_to == m.address


# ---------------------------------------------------------------- lost and found


def test_the_sender_reports_a_pallet_lost_and_its_packs_verify_lost(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    event = only_event(m.report_lost(w.address, LOOSE[:1], [PALLET], event_hash=event_hash("l")))
    assert event.name == "ItemsLost"
    assert event.args["recipient"] == w.address
    loose = m.pack_state(*LOOSE[0])
    assert (loose.status, loose.lost, loose.in_transit) == (PackStatus.LOST, True, False)
    assert (loose.custodian, loose.pending_to) == (m.address, w.address)
    inside = m.pack_state(*IN_CASE[0])
    assert (inside.status, inside.lost, inside.custodian) == (PackStatus.ACTIVE, True, m.address)
    pallet, case = m.unit_state(PALLET), m.unit_state(CASE)
    assert (pallet.status, pallet.lost, pallet.pending_to) == (UnitStatus.LOST, True, w.address)
    assert (case.status, case.lost) == (UnitStatus.ACTIVE, True)
    assert shipment.verify("C1") == V.LOST
    assert shipment.verify("L1") == V.LOST
    assert shipment.verify("L2") == V.IN_TRANSIT


def test_lost_items_cannot_be_received_refused_cancelled_or_used(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    m.report_lost(w.address, LOOSE[:1], [PALLET])
    refused(lambda: w.receive(LOOSE[:1], [PALLET]), "SerialRegistryNotInTransit")
    refused(lambda: w.refuse(m.address, LOOSE[:1]), "SerialRegistryNotInTransit")
    refused(lambda: m.cancel_shipment(w.address, LOOSE[:1]), "SerialRegistryNotInTransit")
    refused(lambda: m.report_lost(w.address, LOOSE[:1]), "SerialRegistryNotInTransit")
    refused(lambda: m.ship(w.address, LOOSE[:1]), "SerialRegistryLost")
    refused(lambda: m.unpack([PALLET]), "SerialRegistryLost")
    refused(lambda: m.unpack_items(PALLET, units=[CASE]), "SerialRegistryLost")
    destroy = DecommissionReason.DESTROYED
    refused(lambda: m.decommission(LOOSE[:1], destroy), "SerialRegistryLost")
    refused(lambda: m.decommission(IN_CASE, destroy), "SerialRegistryLost")


def test_a_regulator_flags_a_lost_pack_and_the_flag_answers_first(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    m.report_lost(w.address, units=[PALLET])
    shipment.net["regulator"].flag(IN_CASE[:1], PackFlag.SUSPECT, reason_code=3)
    assert shipment.verify("C1") == V.SUSPECT
    assert shipment.verify("C2") == V.LOST


@pytest.mark.parametrize("who", ["recipient", "other"])
def test_only_the_sender_reports_items_lost_or_found(shipment: Shipment, who: str) -> None:
    caller: Ledger = getattr(shipment, who)
    to = shipment.recipient.address
    refused(lambda: caller.report_lost(to, LOOSE), "SerialRegistryNotSender")
    shipment.sender.report_lost(to, LOOSE)
    refused(lambda: caller.report_found(to, LOOSE), "SerialRegistryNotSender")


def test_found_items_are_in_transit_to_their_recipient_again(shipment: Shipment) -> None:
    m, w = shipment.sender, shipment.recipient
    m.report_lost(w.address, LOOSE, [PALLET])
    refused(lambda: m.report_found(shipment.other.address, LOOSE), "SerialRegistryNotShippedTo")
    event = only_event(m.report_found(w.address, LOOSE, [PALLET]))
    assert event.name == "LostItemsFound"
    assert {(v.status, v.in_transit, v.lost) for v in m.pack_states(LOOSE)} == {
        (PackStatus.IN_TRANSIT, True, False)
    }
    assert shipment.verify("C1") == V.IN_TRANSIT
    refused(lambda: m.report_found(w.address, LOOSE), "SerialRegistryNotLost")
    w.receive(LOOSE, [PALLET])
    assert shipment.verify("C1") == V.VERIFIED


# ---------------------------------------------------------------- on someone else's behalf


def test_a_relayed_refusal_acts_as_its_signer(shipment: Shipment) -> None:
    m, w, gateway = shipment.sender, shipment.recipient, shipment.other
    packs, units = shipment.ids()
    call = w.registry.functions.refuseItems(m.address, packs, [], event_hash("relayed"))
    receipt = relay(gateway, sign_request(w, call))
    event = only_event(receipt)
    assert (event.name, event.args["by"], event.args["sender"]) == (
        "ItemsRefused",
        w.address,
        m.address,
    )
    assert m.pack_state(*LOOSE[0]).pending_to == m.address


def test_a_relayed_request_cannot_cancel_someone_elses_shipment(shipment: Shipment) -> None:
    m, w, gateway = shipment.sender, shipment.recipient, shipment.other
    packs, units = shipment.ids()
    call = w.registry.functions.cancelShipment(w.address, packs, units, event_hash("relayed"))
    request = sign_request(w, call, gas=300_000)  # no estimate: it would revert already
    with pytest.raises(LedgerRevertError) as caught:
        relay(gateway, request)  # signed by the recipient, not the sender
    assert caught.value.error == "SerialRegistryNotSender"
    assert caught.value.args_by_name["caller"] == w.address.lower()
    assert m.pack_state(*LOOSE[0]).in_transit
