"""Authentication is throttled per client IP and per member address: challenges and token
exchanges in total, failed credentials, console-key use; refusals are 429 problems with
Retry-After. Clients come from distinct loopback addresses (127.0.0.x) so that each test has
budgets of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account
from gateway_helpers import CONSOLE, LiveServer, World, gateway_settings, sign, wait_for_index

from gateway.main import create_app
from ledger_client.chain import dev_account

LOGINS = 6  # challenges + token requests per minute, per IP and per address
FAILURES = 3  # failed authentications per hour, per IP and per address
CONSOLE_BURST = 4  # console-key requests per IP (refilling at 0.01/s)


@pytest.fixture(scope="module")
def url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = gateway_settings(
        world,
        tmp_path_factory.mktemp("throttle") / "gateway.db",
        login_attempts_per_minute=LOGINS,
        auth_failures_per_hour=FAILURES,
        rate_limit_per_second=0.01,
        rate_limit_burst=CONSOLE_BURST,
    )
    app = create_app(settings, world.w3)
    with LiveServer(app) as live:
        wait_for_index(app, world)
        yield live.url


@pytest.fixture(scope="module")
def clients(url: str) -> Iterator[dict[int, httpx.Client]]:
    """A client per loopback address, made on first use: ``clients[7]`` is 127.0.0.7."""
    made: dict[int, httpx.Client] = {}

    class Clients(dict[int, httpx.Client]):
        def __missing__(self, n: int) -> httpx.Client:
            transport = httpx.HTTPTransport(local_address=f"127.0.0.{n}")
            made[n] = self[n] = httpx.Client(base_url=url, transport=transport, timeout=30)
            return made[n]

    yield Clients()
    for client in made.values():
        client.close()


def challenge(client: httpx.Client, account: Any) -> str:
    response = client.post("/v1/auth/challenge", json={"address": account.address})
    assert response.status_code == 200, response.text
    return str(response.json()["message"])


def exchange(client: httpx.Client, message: str, signer: Any) -> httpx.Response:
    return client.post(
        "/v1/auth/token", json={"message": message, "signature": sign(signer, message)}
    )


def assert_throttled(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 429, response.text
    problem = response.json()
    assert problem["title"] == "Too Many Requests" and problem["detail"] == detail
    assert int(response.headers["Retry-After"]) >= 1
    assert problem["retry_after"] == int(response.headers["Retry-After"])


def test_challenges_beyond_the_per_ip_budget_are_429_with_retry_after(
    clients: dict[int, httpx.Client],
) -> None:
    regulator = dev_account("regulator")
    for _ in range(LOGINS):
        challenge(clients[2], regulator)
    over = clients[2].post("/v1/auth/challenge", json={"address": regulator.address})
    assert_throttled(over, "too many login attempts from 127.0.0.2")
    challenge(clients[3], regulator)  # another client is not affected


def test_failed_exchanges_lock_the_ip_out_even_with_a_good_signature(
    clients: dict[int, httpx.Client],
) -> None:
    regulator = dev_account("regulator")
    bait = challenge(clients[5], dev_account("wholesaler_a"))
    for _ in range(FAILURES):
        assert exchange(clients[4], bait, Account.create()).status_code == 401
    message = challenge(clients[5], regulator)
    locked = "too many failed authentications for 127.0.0.4"
    assert_throttled(exchange(clients[4], message, regulator), locked)
    assert_throttled(
        clients[4].post("/v1/auth/challenge", json={"address": regulator.address}), locked
    )
    assert exchange(clients[5], message, regulator).status_code == 200  # the nonce was unspent


def test_failed_exchanges_for_one_address_are_counted_across_ips(
    clients: dict[int, httpx.Client],
) -> None:
    victim, other = dev_account("auditor"), dev_account("wholesaler_b")
    message = challenge(clients[9], victim)
    for n in (6, 6, 7):  # two IPs, each under its own budget
        assert exchange(clients[n], message, Account.create()).status_code == 401
    assert_throttled(
        exchange(clients[8], message, victim),
        f"too many failed authentications for address {victim.address}",
    )
    assert exchange(clients[8], challenge(clients[8], other), other).status_code == 200


def test_token_requests_for_one_address_are_counted_across_ips(
    clients: dict[int, httpx.Client],
) -> None:
    member = dev_account("repackager")
    for n in range(10, 10 + LOGINS):
        assert exchange(clients[n], challenge(clients[n], member), member).status_code == 200
    n = 10 + LOGINS
    assert_throttled(
        exchange(clients[n], challenge(clients[n], member), member),
        f"too many login attempts from address {member.address}",
    )


def test_wrong_console_keys_lock_the_ip_out_and_only_that_ip(
    clients: dict[int, httpx.Client],
) -> None:
    for guess in ("a", "test-console-ke", "test-console-key2"):
        wrong = clients[20].get("/v1/auth/me", headers={"Authorization": f"Bearer {guess}"})
        assert wrong.status_code == 401
        assert wrong.json()["detail"] == (
            "credential is neither a token of this gateway nor its console key"
        )
    assert_throttled(
        clients[20].get("/v1/auth/me", headers=CONSOLE),
        "too many failed authentications for 127.0.0.20",
    )
    assert clients[21].get("/v1/auth/me", headers=CONSOLE).status_code == 200


def test_forged_tokens_count_as_failures(clients: dict[int, httpx.Client]) -> None:
    forged = {"Authorization": "Bearer rxl1.eyJzdWIiOiIweDAwIn0.AAAA"}
    for _ in range(FAILURES):
        assert clients[22].get("/v1/auth/me", headers=forged).status_code == 401
    assert clients[22].get("/v1/auth/me", headers=forged).status_code == 429


def test_console_key_requests_beyond_the_per_ip_rate_are_429(
    clients: dict[int, httpx.Client],
) -> None:
    codes = [clients[23].get("/v1/auth/me", headers=CONSOLE).status_code for _ in range(6)]
    assert codes[:CONSOLE_BURST] == [200] * CONSOLE_BURST and 429 in codes[CONSOLE_BURST:]
    assert_throttled(
        clients[23].get("/v1/auth/me", headers=CONSOLE),
        "too many console-key requests from 127.0.0.23",
    )
