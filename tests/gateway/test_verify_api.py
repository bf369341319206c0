"""Verification over HTTP against a live uvicorn server on the in-process chain."""

from __future__ import annotations

from gateway_helpers import CONSOLE, EXPIRY, GTIN, LOT, Gateway, dm


def test_verify_datamatrix_of_pack_in_custody_is_green(gateway: Gateway) -> None:
    r = gateway.client.get("/v1/verify", params={"code": dm("S1")}, headers=CONSOLE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "VERIFIED"
    assert body["verdict"] == "green"
    assert body["product"]["name"] == "Amoxicillin 500 mg capsules"
    assert body["pack"]["custodian_name"] == "pharmacy_a"
    assert body["source"] == "index"
