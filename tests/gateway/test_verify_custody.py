"""The verdict for a dispenser weighs custody: green only for a pack it holds (live uvicorn
server, in-process chain); other callers and the LVM / Digital Link answers do not."""

from __future__ import annotations

from typing import Any

import pytest
from custody_world import CustodyPacks, add_custody_packs
from gateway_helpers import CONSOLE, GTIN, Gateway, dm

PHARMACY_B_GLN = "4012348000013"


@pytest.fixture(scope="module")
def packs(gateway: Gateway) -> CustodyPacks:
    return add_custody_packs(gateway, "API", "000000201")


def verify(gateway: Gateway, code: str, auth: dict[str, str], **params: str) -> dict[str, Any]:
    r = gateway.client.get("/v1/verify", params={"code": code, **params}, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def seen(body: dict[str, Any]) -> tuple[str, str, str | None, bool]:
    return body["status"], body["verdict"], body["custody"], body["dispensable"]


@pytest.mark.parametrize("source", ["index", "chain"])
def test_dispenser_gets_green_and_dispensable_for_packs_it_holds_loose_or_in_a_case(
    gateway: Gateway, packs: CustodyPacks, source: str
) -> None:
    for code in (dm("S1"), dm("C1"), packs.code(packs.at_pharmacy_a[0])):
        body = verify(gateway, code, CONSOLE, source=source)
        assert seen(body) == ("VERIFIED", "green", "held", True)
        assert body["reasons"] == ["genuine and saleable"]


@pytest.mark.parametrize("source", ["index", "chain"])
def test_pack_held_by_another_pharmacy_is_red_possible_diversion_for_a_dispenser(
    gateway: Gateway, packs: CustodyPacks, source: str
) -> None:
    for serial in (packs.at_pharmacy_b, packs.in_case_at_pharmacy_b):
        body = verify(gateway, packs.code(serial), CONSOLE, source=source)
        assert seen(body) == ("VERIFIED", "red", "elsewhere", False)
        assert body["reasons"] == [
            f"held by pharmacy_b (GLN {PHARMACY_B_GLN}), not shipped to you: possible diversion,"
            " do not dispense, quarantine and report"
        ]
        assert body["pack"]["custodian_name"] == "pharmacy_b"


def test_member_token_of_the_dispenser_sees_the_same_custody_as_its_console(
    gateway: Gateway, packs: CustodyPacks
) -> None:
    auth, theirs = gateway.auth("pharmacy_a"), packs.code(packs.at_pharmacy_b)
    assert seen(verify(gateway, theirs, auth)) == ("VERIFIED", "red", "elsewhere", False)
    assert seen(verify(gateway, dm("S1"), auth)) == ("VERIFIED", "green", "held", True)


@pytest.mark.parametrize(
    ("pack", "custody", "reason"),
    [
        ("to_pharmacy_a", "incoming", "not yet received: in transit to you from manufacturer"),
        ("from_pharmacy_a", "outgoing", "shipped by you to wholesaler_a"),
    ],
    ids=["shipped to the dispenser", "shipped by the dispenser"],
)
def test_pack_in_transit_to_or_from_the_dispenser_is_amber_until_the_recipient_receives_it(
    gateway: Gateway, packs: CustodyPacks, pack: str, custody: str, reason: str
) -> None:
    body = verify(gateway, packs.code(getattr(packs, pack)), CONSOLE)
    assert seen(body) == ("IN_TRANSIT", "amber", custody, False)
    assert body["reasons"][0].startswith(reason)


def test_pack_in_transit_to_another_member_is_red_for_a_dispenser(gateway: Gateway) -> None:
    body = verify(gateway, dm("S20"), CONSOLE)
    assert seen(body) == ("IN_TRANSIT", "red", "elsewhere", False)
    assert "to wholesaler_b" in body["reasons"][0] and "not to you" in body["reasons"][0]
    assert "possible diversion" in body["reasons"][0]


def test_each_pharmacy_gets_green_only_for_its_own_packs(
    gateway: Gateway, packs: CustodyPacks
) -> None:
    auth, own = gateway.auth("pharmacy_b"), packs.code(packs.at_pharmacy_b)
    assert seen(verify(gateway, own, auth)) == ("VERIFIED", "green", "held", True)
    at_a = verify(gateway, dm("S1"), auth)
    assert seen(at_a) == ("VERIFIED", "red", "elsewhere", False)
    assert at_a["reasons"][0].startswith("held by pharmacy_a")


@pytest.mark.parametrize("member", ["wholesaler_a", "regulator", "auditor"])
def test_callers_that_do_not_dispense_keep_the_ledger_verdict(
    gateway: Gateway, packs: CustodyPacks, member: str
) -> None:
    auth, at_b = gateway.auth(member), packs.code(packs.at_pharmacy_b)
    assert seen(verify(gateway, at_b, auth)) == ("VERIFIED", "green", None, False)
    assert seen(verify(gateway, dm("S20"), auth)) == ("IN_TRANSIT", "amber", None, False)


def test_decommissioned_pack_names_who_dispensed_it_without_a_diversion_alarm(
    gateway: Gateway, packs: CustodyPacks
) -> None:
    code = packs.code(packs.at_pharmacy_a[0])
    r = gateway.client.post("/v1/dispense", json={"codes": [code]}, headers=CONSOLE)
    assert r.status_code == 200, r.text
    here = verify(gateway, code, CONSOLE, source="chain")
    assert seen(here) == ("DECOMMISSIONED", "red", "held", False)
    there = verify(gateway, code, gateway.auth("pharmacy_b"), source="chain")
    assert seen(there) == ("DECOMMISSIONED", "red", "elsewhere", False)
    assert there["reasons"][0].startswith("already decommissioned (dispensed)")
    assert not any("diversion" in reason for reason in there["reasons"])


def test_batch_verify_weighs_custody_for_a_dispenser_only(
    gateway: Gateway, packs: CustodyPacks
) -> None:
    codes = [dm("S2"), packs.code(packs.at_pharmacy_b), packs.code(packs.to_pharmacy_a)]
    for auth, verdicts, worst in (
        (CONSOLE, ["green", "red", "amber"], "red"),
        (gateway.auth("regulator"), ["green", "green", "amber"], "amber"),
    ):
        r = gateway.client.post("/v1/verify", json={"codes": codes}, headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert [x["verdict"] for x in body["results"]] == verdicts
        assert body["verdict"] == worst
        assert body["summary"] == {"VERIFIED": 2, "IN_TRANSIT": 1}


def test_lvm_and_digital_link_answer_the_product_identifier_whoever_holds_the_pack(
    gateway: Gateway, packs: CustodyPacks
) -> None:
    lvm = gateway.client.post(
        "/v1/lvm/verify",
        json={
            "gtin": GTIN,
            "serialNumber": packs.at_pharmacy_b,
            "lotNumber": packs.lot,
            "expirationDate": "301231",
        },
        headers=CONSOLE,
    )
    assert lvm.status_code == 200, lvm.text
    assert lvm.json()["data"]["verified"] is True and lvm.json()["status"] == "VERIFIED"
    link = gateway.client.get(
        f"/01/{GTIN}/21/{packs.at_pharmacy_b}",
        params={"linkType": "gs1:verificationService", "10": packs.lot},
        headers=CONSOLE,
    )
    assert link.status_code == 200, link.text
    assert seen(link.json()) == ("VERIFIED", "green", None, False)
