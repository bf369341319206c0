"""A member's suspension, revocation, expired licence or lost role counts against the tokens,
alert stream, webhooks and relayed requests it already has, from the first request after the
council's decision is indexed. Each test works on members it admits itself (through council
proposals), so the demo members stay as they are for other modules."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from gateway_helpers import CONSOLE, EXPIRY, GTIN, Gateway, World, login, sign

from gateway.services.webhooks import WebhookDispatcher
from ledger_client.contracts import MemberStatus, Role
from ledger_client.ledger import Ledger
from ledger_client.relay import sign_request
from ledger_client.types import ZERO_HASH, DecommissionReason, LotStatus, PackFlag
from tests.utils.governance import govern

_glns = iter(range(4_012_360_000_000, 4_012_360_001_000))


def admit(world: World, roles: Role) -> LocalAccount:
    """A new member with ``roles``, admitted by a council proposal."""
    account: LocalAccount = Account.create()
    govern(world.net, "addMember", account.address, next(_glns), int(roles), 0)
    return account


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(gateway: Gateway, token: str) -> httpx.Response:
    return gateway.client.get("/v1/auth/me", headers=bearer(token))


@pytest.mark.parametrize(
    ("function", "value", "detail"),
    [
        ("setMemberStatus", int(MemberStatus.SUSPENDED), "member {} is suspended"),
        ("setMemberStatus", int(MemberStatus.REVOKED), "member {} is revoked"),
        ("setLicenceExpiry", 1, "member {}'s licence expired"),
    ],
    ids=["suspended", "revoked", "licence expired"],
)
def test_councils_decision_refuses_an_existing_token_once_its_block_is_indexed(
    gateway: Gateway, world: World, function: str, value: int, detail: str
) -> None:
    member = admit(world, Role.WHOLESALER)
    gateway.wait_indexed()
    token = login(gateway.client, member)
    assert me(gateway, token).status_code == 200
    receipt = govern(world.net, function, member.address, value)
    gateway.wait_indexed(receipt.block_number)
    refused = me(gateway, token)
    assert refused.status_code == 403
    assert refused.json()["detail"] == detail.format(member.address)
    # and a fresh login is refused too (checked on chain)
    message = gateway.client.post("/v1/auth/challenge", json={"address": member.address}).json()
    again = gateway.client.post(
        "/v1/auth/token",
        json={"message": message["message"], "signature": sign(member, message["message"])},
    )
    assert again.status_code == 403 and again.json()["detail"] == detail.format(member.address)


def test_role_removal_narrows_an_existing_token_once_its_block_is_indexed(
    gateway: Gateway, world: World
) -> None:
    member = admit(world, Role.WHOLESALER | Role.AUDITOR)
    gateway.wait_indexed()
    token = login(gateway.client, member)
    pharmacy = world.net.address("pharmacy_a")
    others = {"holder": pharmacy}
    assert me(gateway, token).json()["roles"] == ["WHOLESALER", "AUDITOR"]
    assert gateway.client.get("/v1/alerts", params=others, headers=bearer(token)).status_code == 200
    receipt = govern(world.net, "setMemberRoles", member.address, int(Role.WHOLESALER))
    gateway.wait_indexed(receipt.block_number)
    assert me(gateway, token).json()["roles"] == ["WHOLESALER"]
    refused = gateway.client.get("/v1/alerts", params=others, headers=bearer(token))
    assert refused.status_code == 403 and "only regulators and auditors" in refused.json()["detail"]
    # a role granted later is not in the old token: it needs a new login
    receipt = govern(
        world.net, "setMemberRoles", member.address, int(Role.WHOLESALER | Role.LOGISTICS)
    )
    gateway.wait_indexed(receipt.block_number)
    assert me(gateway, token).json()["roles"] == ["WHOLESALER"]
    assert me(gateway, login(gateway.client, member)).json()["roles"] == ["WHOLESALER", "LOGISTICS"]


def test_alert_stream_of_a_member_ends_once_its_suspension_is_indexed(
    gateway: Gateway, world: World
) -> None:
    member = admit(world, Role.WHOLESALER)
    gateway.wait_indexed()
    token = login(gateway.client, member)
    # the stream would run for an hour; the client gives up (and fails the test) after 30 s
    with gateway.client.stream(
        "GET", "/v1/alerts/stream", params={"timeout": 3600}, headers=bearer(token)
    ) as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith(": rxledger")
        govern(world.net, "setMemberStatus", member.address, int(MemberStatus.SUSPENDED))
        rest = list(lines)
    assert not [line for line in rest if line.startswith("data: ")]


def test_a_long_alert_stream_ends_when_its_token_expires(gateway: Gateway, world: World) -> None:
    member = admit(world, Role.WHOLESALER)
    gateway.wait_indexed()
    principal = gateway.state.auth.authenticate(
        f"Bearer {login(gateway.client, member)}", "127.0.0.1"
    )
    assert principal.expires_at is not None and principal.expires_at > time.time()
    assert gateway.state.auth.recheck(principal) is not None  # what each poll of the stream asks
    expired = replace(principal, expires_at=int(time.time()) - 1)
    assert gateway.state.auth.recheck(expired) is None


class Hooks:
    """A loopback webhook receiver: what each path was sent."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.setdefault(self.path, []).append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def kinds(self, path: str) -> set[str]:
        return {alert["kind"] for alert in self.received.get(path, [])}


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    receiver = Hooks()
    yield receiver
    receiver.server.shutdown()


def subscribe(gateway: Gateway, headers: dict[str, str], url: str) -> None:
    response = gateway.client.post("/v1/alerts/subscriptions", json={"url": url}, headers=headers)
    assert response.status_code == 201, response.text


def test_webhooks_follow_the_owners_current_standing_at_delivery(
    gateway: Gateway, world: World, hooks: Hooks
) -> None:
    """Suspended: nothing; auditor role removed: only its own and everyone's alerts; the
    operator (control): its own recall and everyone's flag."""
    manufacturer, pharmacy = world.net["manufacturer"], world.net["pharmacy_a"]
    manufacturer.register_lot(GTIN, "ST1", EXPIRY)
    manufacturer.register_lot(GTIN, "ST2", EXPIRY)
    manufacturer.commission(GTIN, "ST1", ["ST1-1", "ST1-2"])
    manufacturer.commission(GTIN, "ST2", ["ST2-1"])
    manufacturer.ship(pharmacy.address, packs=[(GTIN, "ST1-1"), (GTIN, "ST1-2")])
    pharmacy.receive(packs=[(GTIN, "ST1-1"), (GTIN, "ST1-2")])
    suspended = admit(world, Role.WHOLESALER)
    auditor = admit(world, Role.WHOLESALER | Role.AUDITOR)
    gateway.wait_indexed()
    subscribe(gateway, bearer(login(gateway.client, suspended)), hooks.url("/suspended"))
    subscribe(gateway, bearer(login(gateway.client, auditor)), hooks.url("/auditor"))
    subscribe(gateway, CONSOLE, hooks.url("/operator"))
    govern(world.net, "setMemberStatus", suspended.address, int(MemberStatus.SUSPENDED))
    govern(world.net, "setMemberRoles", auditor.address, int(Role.WHOLESALER))
    # a dispatcher of our own, from the alerts raised after this point, delivered right here
    dispatcher = WebhookDispatcher(gateway.state.engine, 5, 1, allow_loopback=True)
    manufacturer.flag([(GTIN, "ST2-1")], PackFlag.SUSPECT)  # everyone's alert
    manufacturer.set_lot_status(GTIN, "ST1", LotStatus.RECALLED)  # reaches pharmacy_a only
    gateway.wait_indexed()
    with httpx.Client(timeout=5) as client:
        sent = dispatcher.deliver(client)
    assert sent == 3
    assert hooks.kinds("/operator") == {"pack_suspect", "lot_recalled"}
    assert hooks.kinds("/auditor") == {"pack_suspect"}
    assert hooks.kinds("/suspended") == set()


def test_forward_request_of_a_suspended_signer_is_refused_before_it_is_sent(
    gateway: Gateway, world: World
) -> None:
    member = admit(world, Role.DISPENSER)
    receipt = govern(world.net, "setMemberStatus", member.address, int(MemberStatus.SUSPENDED))
    gateway.wait_indexed(receipt.block_number)
    ledger = Ledger(world.w3, world.net.deployment, member)
    fn = ledger.registry.functions.decommission(
        ledger.pack_ids([(GTIN, "S1")]), int(DecommissionReason.DISPENSED), ZERO_HASH
    )
    request = sign_request(ledger, fn, gas=300_000)
    response = gateway.client.post("/v1/relay", json=request.to_dict(), headers=CONSOLE)
    assert response.status_code == 400
    assert response.json()["title"] == "Refused by this gateway"
    assert response.json()["detail"] == (
        f"forward request signer: member {member.address} is suspended"
    )
    assert ledger.forwarder.functions.nonces(member.address).call() == 0  # nothing was sent
