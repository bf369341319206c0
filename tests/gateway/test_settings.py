"""Settings outside local use refuse weak secrets (a one-character console key, a short or
monotonous token secret, the placeholders, a password file others can read) and a public URL
that cannot name the gateway; the operator key loads from an encrypted keystore."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from gateway.core.config import LOCAL_CONSOLE_KEY, LOCAL_TOKEN_SECRET, Settings
from ledger_client.errors import ConfigurationError
from ledger_client.keystore import write_keystore, write_secret

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


@pytest.fixture
def keystore(tmp_path: Path) -> tuple[Path, Path, LocalAccount]:
    """An operator keystore and its password file (mode 0600), as `rxledger network init`
    writes them."""
    account = Account.create()
    password = write_secret(tmp_path / "password", secrets.token_urlsafe(16))
    path = write_keystore(tmp_path / "keystore.json", account, password.read_text(), 2**12)
    return path, password, account


def test_the_operator_key_loads_from_its_keystore_and_stays_out_of_the_settings_dump(
    keystore: tuple[Path, Path, LocalAccount],
) -> None:
    path, password, account = keystore
    loaded = settings(operator_keystore=path, operator_password_file=password)
    assert loaded.operator is not None and loaded.operator.address == account.address
    key = bytes(account.key).hex()
    assert key not in repr(loaded) and key not in loaded.model_dump_json()
    assert password.read_text() not in repr(loaded) + loaded.model_dump_json()


def test_a_wrong_password_names_the_files_and_not_the_password(
    keystore: tuple[Path, Path, LocalAccount], tmp_path: Path
) -> None:
    path, _, _ = keystore
    wrong = write_secret(tmp_path / "wrong", "not-the-password")
    with pytest.raises(ConfigurationError) as refused:
        _ = settings(operator_keystore=path, operator_password_file=wrong).operator
    assert str(refused.value) == f"the password in {wrong} does not open the keystore {path}"


def test_a_password_file_others_can_read_is_refused_outside_local_use(
    keystore: tuple[Path, Path, LocalAccount],
) -> None:
    path, password, _ = keystore
    password.chmod(0o644)
    with pytest.raises(ValidationError) as refused:
        settings(operator_keystore=path, operator_password_file=password)
    assert f"RXLEDGER_OPERATOR_PASSWORD_FILE {password} is readable by others (mode 644" in str(
        refused.value
    )
    assert settings(environment="local", operator_keystore=path, operator_password_file=password)


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"operator_keystore": "k.json"}, "go together"),
        ({"operator_password_file": "password"}, "go together"),
        (
            {"operator_keystore": "k.json", "operator_password_file": "p", "operator_key": "0x1"},
            "not both",
        ),
    ],
)
def test_the_keystore_comes_with_its_password_file_and_instead_of_a_key(
    given: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(**given)
    assert problem in str(refused.value)
