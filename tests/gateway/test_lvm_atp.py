"""The LVM responder on chain: whether the requestor is an authorized trading partner (its
on-chain licence status), and who answers for a GTIN (the product directory, else the
member the GTIN's company prefix is assigned to: no "GTIN not found" for a missing entry)."""

from __future__ import annotations

from typing import Any

import pytest
from gateway_helpers import (
    CONSOLE,
    ELSEWHERE_GTIN,
    ELSEWHERE_URL,
    EXPIRY,
    FOREIGN_GTIN,
    GTIN,
    LOT,
    Gateway,
    World,
)

from ledger_client.contracts import MemberStatus
from ledger_client.epcis.record import member_gln
from tests.utils.factories import FOREIGN_GTIN as UNOWNED_GTIN
from tests.utils.governance import govern

FOREIGN_LOT = "FL1"


def lvm(gateway: Gateway, gtin: str, serial: str, lot: str = LOT, **extra: str) -> Any:
    body = {"gtin": gtin, "serialNumber": serial, "lotNumber": lot, "expirationDate": EXPIRY}
    response = gateway.client.post("/v1/lvm/verify", headers=CONSOLE, json=body | extra)
    assert response.status_code == 200, response.text
    return response.json()


def gln(world: World, name: str) -> str:
    return member_gln(world.net["auditor"], world.net.address(name))


def test_the_caller_and_a_named_trading_partner_are_atps(gateway: Gateway, world: World) -> None:
    mine = lvm(gateway, GTIN, "S3")  # the console: this gateway's operator, pharmacy_a
    assert (mine["requestorATP"], mine["requestorATPReason"]) == (True, None)
    named = lvm(gateway, GTIN, "S3", requestorGLN=gln(world, "wholesaler_b"))
    assert named["requestorATP"] is True and named["data"]["verified"] is True


@pytest.mark.parametrize(
    ("name", "why"),
    [("regulator", "holds no trading-partner role"), (None, "is not a member of this RxLedger")],
    ids=["regulator", "no member"],
)
def test_a_requestor_that_is_no_trading_partner_is_no_atp(
    gateway: Gateway, world: World, name: str | None, why: str
) -> None:
    requestor = gln(world, name) if name else "0000000000017"
    answer = lvm(gateway, GTIN, "S3", requestorGLN=requestor)
    assert answer["requestorATP"] is False and why in answer["requestorATPReason"]
    assert answer["data"]["verified"] is True  # the product identifier is answered all the same


@pytest.mark.parametrize(
    ("function", "value", "why"),
    [
        ("setMemberStatus", int(MemberStatus.SUSPENDED), "is suspended"),
        ("setLicenceExpiry", 1, "licence expired"),
    ],
    ids=["suspended", "licence expired"],
)
def test_a_suspended_or_expired_member_is_no_atp_until_restored(
    gateway: Gateway, world: World, function: str, value: int, why: str
) -> None:
    pb = world.net.address("pharmacy_b")
    _, _, _, status, expiry = world.net["auditor"].consortium.functions.member(pb).call()
    restore = int(status) if function == "setMemberStatus" else int(expiry)
    try:
        gateway.wait_indexed(govern(world.net, function, pb, value).block_number)
        answer = lvm(gateway, GTIN, "S3", requestorGLN=gln(world, "pharmacy_b"))
        assert answer["requestorATP"] is False and why in answer["requestorATPReason"]
    finally:
        gateway.wait_indexed(govern(world.net, function, pb, restore).block_number)
    assert lvm(gateway, GTIN, "S3", requestorGLN=gln(world, "pharmacy_b"))["requestorATP"] is True


def test_a_gtin_with_no_directory_entry_is_found_by_its_company_prefix(
    gateway: Gateway, world: World
) -> None:
    m = world.net["manufacturer"]
    assert m.product(FOREIGN_GTIN)["owner"] == "0x" + "0" * 40  # not in the directory
    m.register_lot(FOREIGN_GTIN, FOREIGN_LOT, EXPIRY)
    gateway.wait_indexed(m.commission(FOREIGN_GTIN, FOREIGN_LOT, ["P1"])[-1].block_number)
    found = lvm(gateway, FOREIGN_GTIN, "P1", lot=FOREIGN_LOT)
    assert found["data"]["verified"] is True and found["status"] == "VERIFIED"
    published = m.gateway_url() or None
    assert found["lookup"] == {
        "gtinOwner": m.address,
        "gtinOwnerGLN": gln(world, "manufacturer"),
        "gatewayUrl": published,
        "source": "prefix",
    }
    # an unknown serial of that GTIN: the GTIN is found, the serial is not
    unknown = lvm(gateway, FOREIGN_GTIN, "NOPE", lot=FOREIGN_LOT)
    assert unknown["data"]["verificationFailureReason"] == "No_match_GTIN_Serial"
    assert unknown["lookup"]["source"] == "prefix"


def test_a_directory_entry_routes_to_its_gateway_and_an_unassigned_prefix_to_nobody(
    gateway: Gateway,
) -> None:
    routed = lvm(gateway, ELSEWHERE_GTIN, "X1")
    assert routed["lookup"]["source"] == "directory"
    assert routed["lookup"]["gatewayUrl"] == ELSEWHERE_URL
    nobody = lvm(gateway, UNOWNED_GTIN, "X1")
    assert nobody["lookup"] is None and nobody["status"] == "PRODUCT_MISMATCH"
