"""Sign-In with Ethereum on live gateways: the challenge names this gateway (from its public
URL, whatever the Host header says) and its chain; the token exchange refuses a message signed
for another gateway, URI or chain, an expired one, a nonce it never issued, and any second use
of a nonce, also across two workers sharing the database."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from gateway_helpers import World, running_gateway, sign

from gateway.core.siwe import SiweMessage, rfc3339
from gateway.db.models import Base
from gateway.db.session import make_engine, migrate
from gateway.services.auth import STATEMENT
from gateway.services.nonces import NonceStore
from ledger_client.chain import dev_account

URL_A = "https://gateway-a.example"
URL_B = "https://gateway-b.example:8443"
REGULATOR = dev_account("regulator")


def serve(world: World, db: Path, public_url: str, **overrides: Any) -> Iterator[httpx.Client]:
    with running_gateway(world, db, public_url=public_url, **overrides) as gw:
        yield gw.client


@pytest.fixture(scope="module")
def db_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("login-a") / "gateway.db"


@pytest.fixture(scope="module")
def gateway_a(world: World, db_a: Path) -> Iterator[httpx.Client]:
    """Gateway A, at https://gateway-a.example."""
    yield from serve(world, db_a, URL_A)


@pytest.fixture(scope="module")
def worker_a(world: World, db_a: Path, gateway_a: httpx.Client) -> Iterator[httpx.Client]:
    """A second process of gateway A: same settings and database, no indexer of its own."""
    yield from serve(world, db_a, URL_A, run_indexer=False)


@pytest.fixture(scope="module")
def gateway_b(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """Gateway B, another partner's, with the same token secret as A."""
    yield from serve(world, tmp_path_factory.mktemp("login-b") / "gateway.db", URL_B)


def challenge(client: httpx.Client, account: Any = REGULATOR) -> dict[str, Any]:
    response = client.post("/v1/auth/challenge", json={"address": account.address})
    assert response.status_code == 200, response.text
    return dict(response.json())


def exchange(client: httpx.Client, message: str, account: Any = REGULATOR) -> httpx.Response:
    return client.post(
        "/v1/auth/token", json={"message": message, "signature": sign(account, message)}
    )


def altered(message: str, **changes: Any) -> str:
    """``message`` with some fields changed (the signer then signs the altered text)."""
    return dataclasses.replace(SiweMessage.parse(message), **changes).text()


def test_challenge_names_the_public_url_and_chain_whatever_the_host_header(
    gateway_a: httpx.Client, world: World
) -> None:
    response = gateway_a.post(
        "/v1/auth/challenge",
        json={"address": REGULATOR.address.lower()},
        headers={"Host": "attacker.example"},
    )
    body = response.json()
    message = SiweMessage.parse(body["message"])
    assert (message.scheme, message.domain, message.uri) == ("https", "gateway-a.example", URL_A)
    assert message.chain_id == world.w3.eth.chain_id == body["chain_id"]
    assert message.address == REGULATOR.address  # checksummed, as EIP-55 wants
    assert message.statement == STATEMENT
    assert message.nonce == body["nonce"] and len(message.nonce) == 32
    assert message.expiration_time == rfc3339(body["expires_at"])
    assert body["domain"] == "gateway-a.example" and body["uri"] == URL_A


def test_signed_challenge_buys_one_token_and_the_same_signature_again_is_401(
    gateway_a: httpx.Client,
) -> None:
    message = challenge(gateway_a)["message"]
    first = exchange(gateway_a, message)
    assert first.status_code == 200, first.text
    assert first.json()["address"] == REGULATOR.address
    token = first.json()["access_token"]
    me = gateway_a.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["roles"] == ["REGULATOR", "COUNCIL"]
    again = exchange(gateway_a, message)
    assert again.status_code == 401
    assert again.json()["detail"].startswith("nonce is unknown to this gateway or was already used")
    assert again.headers["WWW-Authenticate"] == "Bearer"


def test_message_and_token_of_gateway_a_are_refused_at_gateway_b(
    gateway_a: httpx.Client, gateway_b: httpx.Client
) -> None:
    message = challenge(gateway_a)["message"]
    relayed = exchange(gateway_b, message)
    assert relayed.status_code == 401
    assert relayed.json()["detail"] == (
        f"message is signed for {URL_A}, not for this gateway (https://gateway-b.example:8443)"
    )
    # B's own domain with A's nonce: B never issued it
    own = altered(message, domain="gateway-b.example:8443", uri=URL_B)
    assert exchange(gateway_b, own).json()["detail"].startswith("nonce is unknown")
    # the refusals did not spend the nonce at A
    token = exchange(gateway_a, message).json()["access_token"]
    # and A's token is no good at B, although both gateways have the same token secret
    at_b = gateway_b.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert at_b.status_code == 401
    assert at_b.json()["detail"] == f"token was issued for {URL_A}, not for this gateway"


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"chain_id": 1}, "message is for chain 1, this gateway's is"),
        ({"uri": URL_A + "/v1"}, f"message URI is {URL_A}/v1, not this gateway's ({URL_A})"),
        ({"scheme": "http"}, "message is signed for http://gateway-a.example, not for"),
        (
            {"scheme": None, "domain": "gateway-a.example:444"},
            "message is signed for https://gateway-a.example:444,",
        ),
        ({"expiration_time": rfc3339(time.time() - 1)}, "message expired at"),
        ({"expiration_time": None}, "message has no Expiration Time"),
        ({"not_before": rfc3339(time.time() + 3600)}, "message is not valid before"),
        ({"nonce": "0123456789abcdef0123456789abcdef"}, "nonce is unknown to this gateway"),
    ],
    ids=[
        "other chain",
        "other uri",
        "http",
        "other port",
        "expired",
        "no expiry",
        "early",
        "nonce",
    ],
)
def test_message_with_a_field_this_gateway_did_not_issue_is_401(
    gateway_a: httpx.Client, changes: dict[str, Any], detail: str
) -> None:
    issued = challenge(gateway_a)["message"]
    response = exchange(gateway_a, altered(issued, **changes))
    assert response.status_code == 401
    assert response.json()["detail"].startswith(detail), response.json()["detail"]
    assert exchange(gateway_a, issued).status_code == 200  # the issued one still works


def test_nonce_issued_for_another_address_is_refused(gateway_a: httpx.Client) -> None:
    auditor = dev_account("auditor")
    stolen = altered(challenge(gateway_a)["message"], address=auditor.address)
    response = exchange(gateway_a, stolen, auditor)
    assert response.status_code == 401
    assert response.json()["detail"] == (
        f"nonce was issued for {REGULATOR.address}, not for {auditor.address}"
    )


def test_text_that_is_not_an_eip4361_message_is_refused_with_the_line_at_fault(
    gateway_a: httpx.Client,
) -> None:
    nonce = challenge(gateway_a)["nonce"]
    old = f"RxLedger gateway login\naddress: {REGULATOR.address}\nnonce: {nonce}"
    response = exchange(gateway_a, old)
    assert response.status_code == 401
    assert response.json()["detail"].startswith(
        "not a Sign-In with Ethereum (EIP-4361) message: line 1: expected"
    )


def test_token_request_in_the_old_address_and_nonce_form_is_422(gateway_a: httpx.Client) -> None:
    body = {"address": REGULATOR.address, "nonce": "x", "signature": "0x" + "00" * 65}
    response = gateway_a.post("/v1/auth/token", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "message"]


def test_malformed_signature_is_401(gateway_a: httpx.Client) -> None:
    message = challenge(gateway_a)["message"]
    response = gateway_a.post(
        "/v1/auth/token", json={"message": message, "signature": "0x" + "ff" * 65}
    )
    assert response.status_code == 401 and response.json()["detail"] == "signature is malformed"


def test_workers_share_the_nonces_a_challenge_from_one_is_spent_for_all(
    gateway_a: httpx.Client, worker_a: httpx.Client
) -> None:
    message = challenge(gateway_a)["message"]
    assert exchange(worker_a, message).status_code == 200
    assert exchange(gateway_a, message).status_code == 401
    assert exchange(worker_a, message).status_code == 401


def test_concurrent_exchanges_of_one_signature_in_two_workers_yield_one_token(
    gateway_a: httpx.Client, worker_a: httpx.Client
) -> None:
    message = challenge(gateway_a)["message"]
    signature = sign(REGULATOR, message)
    start = threading.Barrier(6)
    codes: list[int] = []

    def post(client: httpx.Client) -> None:
        start.wait()
        response = client.post("/v1/auth/token", json={"message": message, "signature": signature})
        codes.append(response.status_code)

    threads = [threading.Thread(target=post, args=(c,)) for c in [gateway_a, worker_a] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 401, 401, 401, 401, 401]


def test_nonce_store_refuses_an_expired_nonce_and_any_second_use(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nonces.db'}")
    migrate(engine)
    store = NonceStore(engine)
    address = REGULATOR.address
    late = store.issue(address, expires_at=1_000, now=700)
    assert store.consume(late, address, now=1_001) == "nonce has expired: request a new challenge"
    fresh = store.issue(address, expires_at=2_000, now=1_700)
    assert store.consume(fresh, address, now=1_999) is None
    assert store.consume(fresh, address, now=1_999).startswith("nonce is unknown")  # type: ignore[union-attr]
    # issuing drops nonces that expired
    store.issue(address, expires_at=3_000, now=2_500)
    assert store.consume(late, address, now=900).startswith("nonce is unknown")  # type: ignore[union-attr]


def test_migrations_build_the_schema_the_models_describe_nonces_included(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    migrate(engine)
    with engine.connect() as conn:
        assert "login_nonces" in Base.metadata.tables
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
