"""Authorisation for every endpoint: no token, bad token, non-member, wrong role (suspended
members and role changes: test_member_standing.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from eth_account import Account
from gateway_helpers import CONSOLE, GTIN, World, dm, login, operator_key, running_gateway, sign

from ledger_client.chain import dev_account

PROTECTED = [
    ("GET", "/v1/verify", {"params": {"code": dm("S1")}}),
    ("POST", "/v1/verify", {"json": {"codes": [dm("S1")]}}),
    (
        "POST",
        "/v1/lvm/verify",
        {
            "json": {
                "gtin": GTIN,
                "serialNumber": "S1",
                "lotNumber": "L1",
                "expirationDate": "301231",
            }
        },
    ),
    ("GET", f"/01/{GTIN}/21/S1", {"params": {"linkType": "gs1:verificationService"}}),
    ("POST", "/v1/dispense", {"json": {"codes": [dm("S1")]}}),
    ("POST", "/v1/dispense/undo", {"json": {"codes": [dm("S1")]}}),
    ("POST", "/v1/capture", {"json": {"type": "EPCISDocument"}}),
    ("GET", "/v1/capture", {}),
    ("GET", "/v1/capture/cap-x", {}),
    ("GET", "/v1/history/pack", {"params": {"code": dm("S1")}}),
    ("GET", f"/v1/history/lot/{GTIN}/L1", {}),
    ("GET", "/v1/alerts", {}),
    ("GET", "/v1/alerts/stream", {"params": {"timeout": 1}}),
    ("POST", "/v1/alerts/subscriptions", {"json": {"url": "http://127.0.0.1:9/x"}}),
    ("GET", "/v1/alerts/subscriptions", {}),
    ("DELETE", "/v1/alerts/subscriptions/1", {}),
    ("GET", "/v1/auth/me", {}),
]
WRITES = [
    p
    for p in PROTECTED
    if p[1] in ("/v1/dispense", "/v1/dispense/undo", "/v1/capture") and p[0] == "POST"
]


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    db = tmp_path_factory.mktemp("auth") / "gateway.db"
    with running_gateway(world, db, rate_limit_per_second=1, rate_limit_burst=3) as gw:
        yield gw.client


def ids(cases: list[tuple[str, str, dict]]) -> list[str]:  # type: ignore[type-arg]
    return [f"{m} {p}" for m, p, _ in cases]


@pytest.mark.parametrize(("method", "path", "kwargs"), PROTECTED, ids=ids(PROTECTED))
def test_protected_endpoint_without_token_is_401(
    server: httpx.Client, method: str, path: str, kwargs: dict
) -> None:  # type: ignore[type-arg]
    r = server.request(method, path, **kwargs)
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert "Bearer" in r.json()["detail"]


@pytest.mark.parametrize(("method", "path", "kwargs"), PROTECTED, ids=ids(PROTECTED))
def test_protected_endpoint_with_forged_token_is_401(
    server: httpx.Client, method: str, path: str, kwargs: dict
) -> None:  # type: ignore[type-arg]
    forged = "rxl1.eyJzdWIiOiIweDAwIiwicm9sZXMiOjI1NSwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA"
    r = server.request(method, path, headers={"Authorization": f"Bearer {forged}"}, **kwargs)
    assert r.status_code == 401 and "signature is invalid" in r.json()["detail"]


@pytest.mark.parametrize(("method", "path", "kwargs"), WRITES, ids=ids(WRITES))
def test_writes_by_a_member_who_is_not_the_operator_are_403(
    server: httpx.Client, method: str, path: str, kwargs: dict
) -> None:  # type: ignore[type-arg]
    token = login(server, dev_account("wholesaler_a"))
    r = server.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    assert r.status_code == 403 and "not this gateway's operator" in r.json()["detail"]


def test_non_member_cannot_get_a_token(server: httpx.Client) -> None:
    stranger = Account.create()
    message = server.post("/v1/auth/challenge", json={"address": stranger.address}).json()[
        "message"
    ]
    r = server.post(
        "/v1/auth/token", json={"message": message, "signature": sign(stranger, message)}
    )
    assert r.status_code == 403 and "not a member" in r.json()["detail"]


def test_signature_by_another_key_is_401(server: httpx.Client) -> None:
    victim = dev_account("regulator")
    message = server.post("/v1/auth/challenge", json={"address": victim.address}).json()["message"]
    r = server.post(
        "/v1/auth/token", json={"message": message, "signature": sign(Account.create(), message)}
    )
    assert r.status_code == 401 and "not by" in r.json()["detail"]


def test_token_carries_roles_from_chain(server: httpx.Client) -> None:
    token = login(server, dev_account("regulator"))
    me = server.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["roles"] == ["REGULATOR", "COUNCIL"] and me["kind"] == "member"


def test_dispensing_needs_the_dispenser_role(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = tmp_path_factory.mktemp("auth-wholesaler") / "gateway.db"
    with running_gateway(world, db, operator_key=operator_key("wholesaler_b")) as gw:
        r = gw.client.post("/v1/dispense", json={"codes": [dm("S1")]}, headers=CONSOLE)
    assert r.status_code == 403 and "DISPENSER" in r.json()["detail"]


def test_rate_limit_answers_429_with_retry_after(server: httpx.Client) -> None:
    token = login(server, dev_account("pharmacy_b"))
    headers = {"Authorization": f"Bearer {token}"}
    codes = [
        server.get("/v1/verify", params={"code": dm("S1")}, headers=headers).status_code
        for _ in range(6)
    ]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    r = server.get("/v1/verify", params={"code": dm("S1")}, headers=headers)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
