"""Settings outside local use refuse weak secrets (a one-character console key, a short or
monotonous token secret, the placeholders) and a public URL that cannot name the gateway."""

from __future__ import annotations

import os
import secrets

import pytest
from pydantic import ValidationError

from gateway.core.config import LOCAL_CONSOLE_KEY, LOCAL_TOKEN_SECRET, Settings

STRONG = secrets.token_urlsafe(32)


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("RXLEDGER_")]:
        monkeypatch.delenv(name)


def settings(**values: object) -> Settings:
    fields: dict[str, object] = {
        "environment": "production",
        "chain_url": "https://rpc.example",
        "token_secret": STRONG,
        "console_key": secrets.token_urlsafe(32),
        "public_url": "https://gateway.example",
        **values,
    }
    return Settings(_env_file=None, **fields)  # type: ignore[arg-type,call-arg]


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"console_key": "x"}, "RXLEDGER_CONSOLE_KEY is too short (length 1, at least 32)"),
        ({"token_secret": "k" * 31}, "RXLEDGER_TOKEN_SECRET is too short (length 31, at least 32)"),
        (
            {"token_secret": "ab" * 20},
            "RXLEDGER_TOKEN_SECRET is too uniform (2 different characters, at least 10)",
        ),
        ({"console_key": "passwordpasswordpasswordpassword"}, "is too uniform (7 different"),
        ({"token_secret": LOCAL_TOKEN_SECRET}, "RXLEDGER_TOKEN_SECRET is the local placeholder"),
        ({"console_key": LOCAL_CONSOLE_KEY}, "RXLEDGER_CONSOLE_KEY is the local placeholder"),
    ],
    ids=["one-character console key", "short", "two characters", "a word", "placeholder", "key"],
)
@pytest.mark.parametrize("environment", ["production", "staging", "test"])
def test_weak_secret_is_refused_outside_local_use_with_the_rule_it_breaks(
    values: dict[str, object], problem: str, environment: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(environment=environment, **values)
    text = str(refused.value)
    assert f"unsafe settings for environment={environment}" in text
    assert problem in text
    assert "secrets.token_urlsafe(32)" in text  # how to make a good one


def test_generated_secrets_are_accepted_in_production() -> None:
    chosen = settings(token_secret=secrets.token_hex(16), console_key=secrets.token_urlsafe(24))
    assert chosen.environment == "production"


def test_local_use_accepts_the_placeholders_and_short_keys() -> None:
    local = settings(environment="local", console_key="x", token_secret=LOCAL_TOKEN_SECRET)
    assert local.console_key.get_secret_value() == "x"


@pytest.mark.parametrize(
    "url", ["gateway.example", "ftp://gateway.example", "https://", "https://gw.example/?a=1"]
)
def test_public_url_must_be_an_absolute_http_url(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(public_url=url)
    assert "RXLEDGER_PUBLIC_URL must" in str(refused.value)


def test_public_url_loses_its_trailing_slash() -> None:
    assert settings(public_url="https://gateway.example/").public_url == "https://gateway.example"
