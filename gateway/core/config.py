"""The gateway's settings: environment variables ``RXLEDGER_*`` or a ``.env`` file."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from ledger_client.chain import dev_account
from ledger_client.devnet import DEMO_MEMBERS
from ledger_client.keystore import load_keystore

#: Placeholder secrets that are fine on a laptop and refused anywhere else.
LOCAL_TOKEN_SECRET = "local-token-secret-change-me"
LOCAL_CONSOLE_KEY = "local-console-key"
_DEV_KEYS = frozenset("0x" + bytes(dev_account(n).key).hex() for n in [*DEMO_MEMBERS, "deployer"])
#: Outside local use, the token secret and the console key need this many characters...
MIN_SECRET_LENGTH = 32
#: ... and this many different ones (32 random hex digits have about 14).
MIN_SECRET_DISTINCT = 10
_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def secret_weakness(value: str) -> str | None:
    """Why ``value`` is too weak for a gateway secret, or None when it is long and varied."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"is too short (length {len(value)}, at least {MIN_SECRET_LENGTH})"
    distinct = len(set(value))
    if distinct < MIN_SECRET_DISTINCT:
        return f"is too uniform ({distinct} different characters, at least {MIN_SECRET_DISTINCT})"
    return None


class Settings(BaseSettings):
    """Everything the gateway needs to run; unsafe defaults are refused outside local use."""

    model_config = SettingsConfigDict(env_prefix="RXLEDGER_", env_file=".env", extra="ignore")

    environment: Literal["local", "test", "staging", "production"] = "local"
    chain_url: str = "http://127.0.0.1:8545"
    deployment_file: Path = Path(".rxledger/deployment.json")
    database_url: str = "sqlite:///.rxledger/gateway.db"
    confirmation_depth: int = Field(2, ge=0, le=1000)
    start_block: int = Field(0, ge=0, description="first block the indexer reads")
    index_chunk_blocks: int = Field(500, ge=1, le=100_000)
    index_poll_seconds: float = Field(1.0, gt=0, le=60)
    run_indexer: bool = True
    #: The operator's member key: signs the operator's writes (dispense, capture). Never logged.
    operator_key: SecretStr | None = None
    #: Or the operator's key in an encrypted keystore (eth-account JSON) with the file holding
    #: its password (mode 0600 outside local use): what ``rxledger network init`` writes.
    operator_keystore: Path | None = None
    operator_password_file: Path | None = None
    #: The lot keys the operator holds (JSON, member address -> key; ``rxledger lot keygen``):
    #: its own, with which it registers and looks up its lots, and a regulator's the keys
    #: producers gave it. Mode 0600 outside local use.
    lot_keys_file: Path | None = None
    token_secret: SecretStr = SecretStr(LOCAL_TOKEN_SECRET)
    token_ttl_seconds: int = Field(900, ge=30, le=86_400)
    #: Lifetime of a Sign-In with Ethereum challenge (its nonce and Expiration Time).
    login_challenge_ttl_seconds: int = Field(300, ge=30, le=3600)
    #: Challenge and token requests per client IP, and token requests per member address.
    login_attempts_per_minute: int = Field(30, ge=1, le=100_000)
    #: Failed logins and unknown bearer credentials (a wrong console key, a forged token) per
    #: client IP, and failed logins per address; past them every attempt answers 429.
    auth_failures_per_hour: int = Field(20, ge=1, le=100_000)
    #: Key of the operator's own staff (the pharmacy page); acts as the operator member.
    console_key: SecretStr = SecretStr(LOCAL_CONSOLE_KEY)
    rate_limit_per_second: float = Field(50.0, gt=0)
    rate_limit_burst: int = Field(100, ge=1)
    expiry_alert_days: int = Field(90, ge=1, le=3650)
    #: Business days a counterparty has to answer an exception before an ``exception_overdue``
    #: alert (HDA's figure is 3); weekends and ``exception_holidays`` are skipped.
    exception_answer_days: int = Field(3, ge=1, le=365)
    #: Holidays that are no business days, as a JSON list: ``["2026-12-25", "2027-01-01"]``.
    exception_holidays: list[date] = Field(default_factory=list)
    verification_flush_seconds: float = Field(0.2, gt=0, le=10)
    webhook_timeout_seconds: float = Field(3.0, gt=0, le=60)
    #: Let webhooks target loopback addresses (this machine): for tests and demos, local only.
    webhook_allow_loopback: bool = False
    #: Most gas a relayed forward request may ask for (the operator pays for it).
    relay_max_gas: int = Field(3_000_000, ge=50_000, le=30_000_000)
    #: Largest request body in bytes (413 beyond); capture documents have their own limit.
    max_body_bytes: int = Field(256_000, ge=1024)
    max_capture_bytes: int = Field(5_000_000, ge=1024)
    #: Deepest nesting of a JSON or XML body (400 beyond); EPCIS documents nest about 10
    #: levels, and libxml2 itself stops at 256.
    max_nesting_depth: int = Field(64, ge=16, le=256)
    #: This gateway's address as the world reaches it: every link it writes starts with it.
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    log_json: bool | None = None
    #: Publish ``public_url`` as the operator's gateway URL on chain at start-up when the
    #: chain holds another (one transaction, signed with the operator key).
    publish_gateway_url: bool = False
    #: First wait before fetching a received shipment's TI/TS again (doubles each failure).
    ti_retry_seconds: float = Field(30.0, gt=0, le=3600)
    #: The operator's EPCIS store (clear events and master data; the CLI's variable too).
    #: Default: ``epcis.sqlite`` in the data directory.
    epcis_store: Path | None = None
    #: Run the auditor's anomaly detectors over the index as it grows, raising ``anomaly``
    #: alerts (gateway/services/live_findings.py).
    anomaly_detection: bool = True
    #: At most one detection run per this many seconds (0: after every indexed batch); a
    #: run covers everything indexed and scanned since the last.
    anomaly_interval_seconds: float = Field(10.0, ge=0, le=86_400)
    #: JSON object of detector thresholds (``AnomalyConfig`` field names); default: its own.
    anomaly_thresholds: Path | None = None
    #: Master data for the findings' words (names, time zones, clear lots), the file
    #: ``rxledger audit anomalies --catalogue`` reads.
    anomaly_catalogue: Path | None = None

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"RXLEDGER_PUBLIC_URL must be an absolute http(s) URL, not {value!r}")
        if parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError("RXLEDGER_PUBLIC_URL must have no user, query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_operator_key(self) -> Settings:
        keystore, password = self.operator_keystore, self.operator_password_file
        if (keystore is None) != (password is None):
            raise ValueError(
                "RXLEDGER_OPERATOR_KEYSTORE and RXLEDGER_OPERATOR_PASSWORD_FILE go together"
            )
        if keystore is not None and self.operator_key is not None:
            raise ValueError("give RXLEDGER_OPERATOR_KEY or RXLEDGER_OPERATOR_KEYSTORE, not both")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "local":
            return self
        problems = []
        secret_files = [
            ("RXLEDGER_OPERATOR_PASSWORD_FILE", self.operator_password_file),
            ("RXLEDGER_LOT_KEYS_FILE", self.lot_keys_file),
        ]
        for name, path in secret_files:
            if path is not None and path.is_file() and path.stat().st_mode & 0o077:
                problems.append(
                    f"{name} {path} is readable by others "
                    f"(mode {path.stat().st_mode & 0o777:o}; chmod 600 it)"
                )
        secrets = [
            ("RXLEDGER_TOKEN_SECRET", self.token_secret, LOCAL_TOKEN_SECRET),
            ("RXLEDGER_CONSOLE_KEY", self.console_key, LOCAL_CONSOLE_KEY),
        ]
        for name, secret, placeholder in secrets:
            value = secret.get_secret_value()
            weakness = secret_weakness(value)
            if value == placeholder:
                weakness = "is the local placeholder"
            if weakness:
                problems.append(f"{name} {weakness} (generate one with: {_GENERATE})")
        if self.operator_key is not None:
            key = self.operator_key.get_secret_value().lower()
            if (key if key.startswith("0x") else "0x" + key) in _DEV_KEYS:
                problems.append("RXLEDGER_OPERATOR_KEY is a public demo key")
        if self.webhook_allow_loopback:
            problems.append("RXLEDGER_WEBHOOK_ALLOW_LOOPBACK is for local tests and demos only")
        if self.environment == "production" and self.chain_url == "eth-tester":
            problems.append("the in-process eth-tester chain is for tests only")
        if problems:
            raise ValueError(
                f"unsafe settings for environment={self.environment}: " + "; ".join(problems)
            )
        return self

    @cached_property
    def operator(self) -> LocalAccount | None:
        """The operator's account, or None when this gateway only reads: from the key, else
        decrypted from the keystore (a :class:`ConfigurationError` if its password does not
        open it)."""
        if self.operator_keystore is not None and self.operator_password_file is not None:
            return load_keystore(self.operator_keystore, self.operator_password_file)
        if self.operator_key is None:
            return None
        return Account.from_key(self.operator_key.get_secret_value())

    @property
    def data_dir(self) -> Path:
        """Where the gateway keeps its files: the SQLite database's directory, else .rxledger."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(str(url.database)).parent
        return Path(".rxledger")

    @property
    def epcis_store_path(self) -> Path:
        """The operator's EPCIS store file."""
        return self.epcis_store or self.data_dir / "epcis.sqlite"

    @property
    def json_logs(self) -> bool:
        """Whether logs are JSON lines (default outside local use)."""
        return self.log_json if self.log_json is not None else self.environment != "local"
