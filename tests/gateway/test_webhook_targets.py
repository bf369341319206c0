"""Webhook subscriptions on a live gateway: internal targets and unknown alert kinds are refused
with a precise 422, and a stored subscription to an internal target gets nothing delivered.

Every refused URL is an address literal (or ``localhost``): refusing them needs no DNS, and no
request leaves this machine."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import httpx
import pytest
from gateway_helpers import CONSOLE, GTIN, Gateway, WebhookReceiver, World, running_gateway
from pydantic import ValidationError
from sqlalchemy import insert

from gateway.core.config import Settings
from gateway.db import models as m
from gateway.schemas import AlertKind
from gateway.services.webhooks import post_pinned, refusal
from ledger_client.types import PackFlag

VALID_KINDS = [k.value for k in AlertKind]


@pytest.fixture(scope="module")
def strict(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway as deployed: loopback webhook targets refused too."""
    db = tmp_path_factory.mktemp("strict") / "gateway.db"
    with running_gateway(world, db, webhook_allow_loopback=False) as gw:
        yield gw


def subscribe(gw: Gateway, url: str, kinds: list[str] | None = None) -> httpx.Response:
    body: dict[str, object] = {"url": url, **({"kinds": kinds} if kinds is not None else {})}
    return gw.client.post("/v1/alerts/subscriptions", json=body, headers=CONSOLE)


def refused_because(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["title"] == "Invalid request"
    return " ".join(e["msg"] for e in problem["errors"])


INTERNAL = [
    ("http://127.0.0.1:8545/", "127.0.0.1, a loopback address"),  # the node's RPC port
    ("http://localhost:8000/hook", "a loopback address"),
    ("http://[::1]/hook", "::1, a loopback address"),
    ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),  # IPv4-mapped IPv6
    ("http://[2002:7f00:1::1]/hook", "a loopback address"),  # 6to4 carrying 127.0.0.1
    ("http://2130706433/hook", "127.0.0.1, a loopback address"),  # 127.0.0.1 as one number
    ("http://10.1.2.3/hook", "10.1.2.3, a private address"),
    ("https://172.16.0.1/hook", "a private address"),
    ("http://192.168.0.10/hook", "a private address"),
    ("http://[fd00::1]/hook", "fd00::1, a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("http://[fe80::1]/hook", "a link-local address"),
    ("http://224.0.0.1/hook", "a multicast address"),
    ("http://[ff02::1]/hook", "a multicast address"),
    ("http://240.0.0.1/hook", "a reserved address"),
    ("http://0.0.0.0:8000/hook", "0.0.0.0, an unspecified address"),
    ("http://[::]/hook", "an unspecified address"),
    ("http://100.64.0.1/hook", "an address that is not globally routable"),  # carrier-grade NAT
]


@pytest.mark.parametrize(("url", "reason"), INTERNAL, ids=[u for u, _ in INTERNAL])
def test_subscription_to_an_internal_target_is_refused(
    strict: Gateway, url: str, reason: str
) -> None:
    message = refused_because(subscribe(strict, url))
    assert reason in message and "may only target public hosts" in message


MALFORMED = [
    ("ftp://partner.example/hook", "must start with http:// or https://"),
    ("file:///etc/passwd", "must start with http:// or https://"),
    ("http:///hook", "names no host"),
    ("http://part ner.example/hook", "is not a valid host name"),
    ("http://-partner.example/hook", "is not a valid host name"),
    ("https://partner.example:0/hook", "port must be 1 to 65535"),
    ("https://partner.example:99999/hook", "not a URL"),
]


@pytest.mark.parametrize(("url", "reason"), MALFORMED, ids=[u for u, _ in MALFORMED])
def test_subscription_with_a_malformed_url_is_refused(
    strict: Gateway, url: str, reason: str
) -> None:
    assert reason in refused_because(subscribe(strict, url))


def test_subscription_to_an_unknown_alert_kind_is_refused_listing_the_valid_kinds(
    strict: Gateway,
) -> None:
    message = refused_because(subscribe(strict, "http://10.0.0.1/", ["lot_recalled", "recall"]))
    assert all(f"'{k}'" in message for k in VALID_KINDS)
    errors = subscribe(strict, "http://10.0.0.1/", ["recall"]).json()["errors"]
    assert errors[0]["loc"] == ["body", "kinds", 0]


def test_alert_list_with_an_unknown_kind_is_refused_listing_the_valid_kinds(
    strict: Gateway,
) -> None:
    r = strict.client.get("/v1/alerts", params={"kind": "recall"}, headers=CONSOLE)
    message = refused_because(r)
    assert all(f"'{k}'" in message for k in VALID_KINDS)
    assert r.json()["errors"][0]["loc"] == ["query", "kind", 0]


def test_loopback_flag_opens_loopback_only(gateway: Gateway) -> None:
    """The shared test gateway runs with RXLEDGER_WEBHOOK_ALLOW_LOOPBACK (local only)."""
    accepted = subscribe(gateway, "http://127.0.0.1:9/hook", ["lot_recalled"])
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["kinds"] == ["lot_recalled"]
    listed = gateway.client.get("/v1/alerts/subscriptions", headers=CONSOLE).json()
    assert accepted.json() in listed
    assert gateway.client.delete(
        f"/v1/alerts/subscriptions/{accepted.json()['id']}", headers=CONSOLE
    ).is_success
    assert "a private address" in refused_because(subscribe(gateway, "http://10.0.0.1/hook"))


def test_loopback_flag_is_refused_outside_local_use() -> None:
    with pytest.raises(ValidationError, match="RXLEDGER_WEBHOOK_ALLOW_LOOPBACK is for local"):
        Settings(
            environment="staging",
            token_secret="s" * 40,
            console_key="a-real-console-key",
            webhook_allow_loopback=True,
        )  # type: ignore[call-arg]


def test_public_addresses_are_valid_targets() -> None:
    for address in ("8.8.8.8", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e"):
        assert refusal(ipaddress.ip_address(address)) is None


def test_stored_subscription_to_an_internal_target_gets_nothing_delivered(
    strict: Gateway,
) -> None:
    """A subscription stored before targets were checked (or whose name resolves inside by
    now) is checked again at delivery and sent nothing."""
    hook = WebhookReceiver()
    with strict.state.engine.begin() as conn:
        conn.execute(
            insert(m.Subscription).values(
                url=hook.url,
                kinds=[],
                owner=strict.world.net.address("regulator"),
                all_holders=True,
                active=True,
                created_at=time.time(),
            )
        )
    net = strict.world.net
    net["manufacturer"].register_lot(GTIN, "WH1", "301231")
    net["manufacturer"].commission(GTIN, "WH1", ["W1"])
    net["regulator"].flag([(GTIN, "W1")], PackFlag.SUSPECT, 7)
    strict.wait_indexed()
    dispatcher = next(t for t in strict.state.threads if hasattr(t, "deliver"))
    with strict.state.engine.connect() as conn:
        newest = conn.execute(m.Alert.__table__.select().order_by(m.Alert.id.desc())).first()
    assert newest is not None and newest.kind == "pack_suspect"
    deadline = time.monotonic() + 20
    while dispatcher.last_id < newest.id:
        assert time.monotonic() < deadline, "the dispatcher never reached the alert"
        time.sleep(0.02)
    assert hook.received == []
    hook.server.shutdown()


def test_delivery_connects_to_the_checked_address_and_keeps_the_host_name() -> None:
    """The POST goes to the address vetted just before, not to a fresh lookup of the name
    (which is never resolved here: ``.test`` names exist nowhere)."""
    hook = WebhookReceiver()
    port = hook.server.server_port
    with httpx.Client(timeout=10) as client:
        post_pinned(
            client, f"http://partner.rxledger.test:{port}/hook", ["127.0.0.1"], {"kind": "x"}
        )
    assert hook.received == [{"kind": "x"}]
    assert hook.hosts == [f"partner.rxledger.test:{port}"]
    hook.server.shutdown()
