"""Saleable returns at wholesaler A's gateway: one call verifies each returned pack on chain
and receives those that pass; the rest are quarantined with a status and reason; a second
submission writes nothing; only the operator, with a role that resells, may call it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gateway_helpers import CONSOLE, EXPIRY, GTIN, Gateway, World, dm, operator_key, running_gateway

from ledger_client.contracts import MemberStatus
from ledger_client.epcis.store import EventStore
from ledger_client.types import LotStatus
from tests.utils.governance import govern

LOT, RECALLED_LOT = "RTL", "RTR"
#: RT1-RT3 and RTR1 go back to wholesaler A from pharmacy A; RT4 to wholesaler B; RT5 stays.
SERIALS = [f"RT{i}" for i in range(1, 9)]
#: A case of RTC1 and RTC2 that pharmacy A ships back whole.
CASE = "006141419900000016"


def code(serial: str, lot: str = LOT, expiry: str = EXPIRY) -> str:
    return dm(serial, lot=lot, expiry=expiry)


@pytest.fixture(scope="module")
def wholesaler(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Wholesaler A's gateway, after pharmacy A shipped some of its packs back."""
    net = world.net
    m, wa, pa, pb = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"], net["pharmacy_b"]
    m.register_lot(GTIN, LOT, EXPIRY)
    m.register_lot(GTIN, RECALLED_LOT, EXPIRY)
    m.commission(GTIN, LOT, SERIALS)
    m.commission(GTIN, RECALLED_LOT, ["RTR1"])
    packs = [(GTIN, s) for s in SERIALS] + [(GTIN, "RTR1")]
    m.ship(wa.address, packs=packs)
    wa.receive(packs=packs)
    wa.ship(pa.address, packs=packs[:6] + packs[-1:])
    pa.receive(packs=packs[:6] + packs[-1:])
    wa.ship(pb.address, packs=packs[6:8])
    pb.receive(packs=packs[6:8])
    pa.ship(wa.address, packs=[(GTIN, s) for s in ("RT1", "RT2", "RT3", "RT6", "RTR1")])
    pa.ship(net.address("wholesaler_b"), packs=[(GTIN, "RT4")])
    pb.ship(wa.address, packs=[(GTIN, "RT7"), (GTIN, "RT8")])
    m.commission(GTIN, LOT, ["RTC1", "RTC2"], into_sscc=CASE)
    for sender, receiver in ((m, wa), (wa, pa)):
        sender.ship(receiver.address, units=[CASE])
        receiver.receive(units=[CASE])
    pa.ship(wa.address, units=[CASE])
    m.set_lot_status(GTIN, RECALLED_LOT, LotStatus.RECALLED)
    db = tmp_path_factory.mktemp("wholesaler") / "gateway.db"
    with running_gateway(world, db, operator_key=operator_key("wholesaler_a")) as gw:
        yield gw


def post(gw: Gateway, body: dict[str, Any], headers: dict[str, str] = CONSOLE) -> Any:
    return gw.client.post("/v1/returns", json=body, headers=headers)


def by_serial(result: Any) -> dict[str, Any]:
    return {item["serial"] or item["code"]: item for item in result["items"]}


def test_a_return_receives_what_passes_and_quarantines_the_rest_with_reasons(
    wholesaler: Gateway, world: World
) -> None:
    codes = [
        code("RT1"),
        code("RT2"),
        code("RT3", lot="WRONG"),
        code("RT4"),
        code("RT5"),
        code("RTR1", lot=RECALLED_LOT),
        code("ZZ9"),
        "not a barcode",
    ]
    response = post(wholesaler, {"codes": codes})
    assert response.status_code == 200, response.text
    result = response.json()
    items = by_serial(result)
    outcomes = {k: (v["status"], v["outcome"]) for k, v in items.items()}
    assert outcomes == {
        "RT1": ("RECEIVABLE", "received"),
        "RT2": ("RECEIVABLE", "received"),
        "RT3": ("LOT_MISMATCH", "quarantined"),
        "RT4": ("NOT_SHIPPED_TO_YOU", "quarantined"),
        "RT5": ("NOT_SHIPPED", "quarantined"),
        "RTR1": ("RECALLED", "quarantined"),
        "ZZ9": ("UNKNOWN", "quarantined"),
        "not a barcode": ("UNREADABLE", "none"),
    }
    assert items["RT4"]["reason"] == "in transit from pharmacy_a to wholesaler_b, not to you"
    assert items["RT5"]["reason"].startswith("held by pharmacy_a and not shipped to you")
    assert items["RT1"]["saleable"] and not items["RTR1"]["saleable"]
    assert (result["received"], result["quarantined"]) == (2, 5)
    (tx,) = result["tx_hashes"]
    assert world.w3.eth.get_transaction_receipt(tx)["status"] == 1
    auditor, me = world.net["auditor"], world.net.address("wholesaler_a")
    for serial in ("RT1", "RT2"):
        view = auditor.pack_state(GTIN, serial)
        assert view.custodian == me and not view.in_transit
    assert auditor.pack_state(GTIN, "RT3").in_transit  # refused: still on its way, not received
    # the receipt anchors a receiving event the operator's store keeps
    with EventStore(wholesaler.state.settings.epcis_store_path) as store:
        stored = store.event(bytes.fromhex(result["event_hash"][2:]))
    assert stored is not None and stored.event["bizStep"] == "receiving"
    held = wholesaler.client.get("/v1/returns/quarantine", headers=CONSOLE).json()
    assert {q["serial"] for q in held} >= {"RT3", "RT4", "RT5", "RTR1", "ZZ9"}


def test_submitting_the_same_return_again_writes_nothing(wholesaler: Gateway, world: World) -> None:
    before = world.w3.eth.block_number
    again = post(wholesaler, {"codes": [code("RT1"), code("RT3", lot="WRONG")]}).json()
    items = by_serial(again)
    assert (items["RT1"]["status"], items["RT1"]["outcome"]) == (
        "ALREADY_RECEIVED",
        "already_received",
    )
    assert items["RT3"]["outcome"] == "quarantined"
    assert again["tx_hashes"] == [] and world.w3.eth.block_number == before
    held = wholesaler.client.get("/v1/returns/quarantine", headers=CONSOLE).json()
    rt3 = [q for q in held if q["serial"] == "RT3"]
    assert len(rt3) == 1 and rt3[0]["submissions"] == 2


def test_verify_only_writes_nothing_and_a_scan_with_the_right_lot_is_then_received(
    wholesaler: Gateway, world: World
) -> None:
    before = world.w3.eth.block_number
    checked = post(wholesaler, {"codes": [code("RT3")], "receive": False}).json()
    (item,) = checked["items"]
    assert (item["status"], item["outcome"], item["saleable"]) == ("RECEIVABLE", "none", True)
    assert world.w3.eth.block_number == before
    taken = post(wholesaler, {"codes": [code("RT3")]}).json()
    assert taken["items"][0]["outcome"] == "received"
    held = wholesaler.client.get("/v1/returns/quarantine", headers=CONSOLE).json()
    assert "RT3" not in {q["serial"] for q in held}  # received back: out of quarantine


def test_a_pack_inside_a_returned_case_is_received_with_its_case(wholesaler: Gateway) -> None:
    (item,) = post(wholesaler, {"codes": [code("RTC1")]}).json()["items"]
    assert (item["status"], item["outcome"]) == ("INSIDE_UNIT", "quarantined")
    assert item["reason"] == "it travels inside a case or pallet: receive that unit instead"


def test_a_customer_named_must_be_the_sender(wholesaler: Gateway, world: World) -> None:
    pharmacy_b_gln = wholesaler.state.readmodel.member(world.net.address("pharmacy_b")).gln
    body = {"codes": [code("RT6")], "customer": pharmacy_b_gln, "receive": False}
    (item,) = post(wholesaler, body).json()["items"]
    assert item["status"] == "NOT_FROM_CUSTOMER"
    assert item["reason"] == "shipped to you by pharmacy_a, not by pharmacy_b"
    body["customer"] = world.net.address("pharmacy_a")
    assert post(wholesaler, body).json()["items"][0]["status"] == "RECEIVABLE"


@pytest.mark.parametrize(
    ("function", "value", "reason"),
    [
        ("setMemberStatus", int(MemberStatus.SUSPENDED), "pharmacy_b is suspended"),
        ("setLicenceExpiry", 1, "pharmacy_b has an expired licence"),
    ],
    ids=["suspended", "licence expired"],
)
def test_a_return_from_a_partner_that_is_not_authorized_is_refused(
    wholesaler: Gateway, world: World, function: str, value: int, reason: str
) -> None:
    pb = world.net.address("pharmacy_b")
    _, _, _, status, expiry = world.net["auditor"].consortium.functions.member(pb).call()
    govern(world.net, function, pb, value)
    try:
        (item,) = post(wholesaler, {"codes": [code("RT7")]}).json()["items"]
    finally:
        restore = int(status) if function == "setMemberStatus" else int(expiry)
        govern(world.net, function, pb, restore)
    assert (item["status"], item["outcome"]) == ("NOT_A_TRADING_PARTNER", "quarantined")
    assert item["reason"] == f"its sender {reason}: not an authorized trading partner"
    assert world.net["auditor"].pack_state(GTIN, "RT7").in_transit


def test_bad_input_is_refused_before_anything_is_sent(wholesaler: Gateway, world: World) -> None:
    before = world.w3.eth.block_number
    twice = post(wholesaler, {"codes": [code("RT8"), code("RT8")]})
    assert twice.status_code == 400 and "the same pack is listed twice" in twice.text
    stranger = post(wholesaler, {"codes": [code("RT8")], "customer": "0" * 13})
    assert stranger.status_code == 400
    assert "customer 0000000000000 is not a member" in stranger.text
    for bad in ({"codes": []}, {"codes": [code("RT8")], "customer": "pharmacy"}, {}):
        assert post(wholesaler, bad).status_code == 422, bad
    no_lot = post(wholesaler, {"codes": [f"(01){GTIN}(21)RT8"], "receive": False}).json()
    assert no_lot["items"][0]["status"] == "UNREADABLE"
    assert "lot (10) and expiry (17)" in no_lot["items"][0]["reason"]
    assert world.w3.eth.block_number == before


def test_only_the_operator_of_a_gateway_whose_operator_resells_may_receive_returns(
    wholesaler: Gateway, gateway: Gateway
) -> None:
    body = {"codes": [code("RT8")], "receive": False}
    assert post(wholesaler, body, headers={}).status_code == 401
    other = post(wholesaler, body, headers=wholesaler.auth("wholesaler_b"))
    assert other.status_code == 403 and "is not this gateway's operator" in other.text
    # the default test gateway is pharmacy A's: a dispenser does not take saleable returns
    pharmacy = post(gateway, body)
    assert pharmacy.status_code == 403
    assert "receiving saleable returns needs one of the roles" in pharmacy.text
    assert post(wholesaler, body, headers=wholesaler.auth("wholesaler_a")).status_code == 200
