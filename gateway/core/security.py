"""Signed, short-lived member tokens (HMAC-SHA256, standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from ledger_client.errors import RxLedgerError


class TokenError(RxLedgerError, ValueError):
    """Raised when a token is malformed, forged or expired."""


class TokenExpiredError(TokenError):
    """Raised when a token this gateway signed has expired (a normal event, not an attack)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise TokenError("token is not base64url") from exc


@dataclass(frozen=True)
class TokenClaims:
    """What a token says: who, which roles, until when."""

    address: str
    roles: int
    expires_at: int


class TokenSigner:
    """Issues and checks tokens with one secret, for one audience (the gateway's public URL:
    a token is refused by any other gateway, even one that shares the secret)."""

    def __init__(self, secret: str, ttl_seconds: int, audience: str) -> None:
        self._key = hashlib.sha256(b"rxledger-gateway:" + secret.encode()).digest()
        self.ttl_seconds = ttl_seconds
        self.audience = audience

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}.{body}".encode(), hashlib.sha256).digest())

    def issue(self, address: str, roles: int, now: int | None = None) -> tuple[str, int]:
        """Return a token for ``address`` with ``roles`` and its expiry time."""
        expires = (now or int(time.time())) + self.ttl_seconds
        claims = {"sub": address, "roles": roles, "exp": expires, "aud": self.audience}
        body = _b64(json.dumps(claims).encode())
        return f"rxl1.{body}.{self._mac('token', body)}", expires

    def check(self, token: str, now: int | None = None) -> TokenClaims:
        """Return the claims of ``token``; raise TokenError if forged, malformed or expired."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "rxl1":
            raise TokenError("not an RxLedger gateway token")
        if not hmac.compare_digest(parts[2], self._mac("token", parts[1])):
            raise TokenError("token signature is invalid")
        try:
            claims = json.loads(_unb64(parts[1]))
            result = TokenClaims(str(claims["sub"]), int(claims["roles"]), int(claims["exp"]))
            audience = claims["aud"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("token payload is malformed") from exc
        if audience != self.audience:
            raise TokenError(f"token was issued for {audience}, not for this gateway")
        if result.expires_at < (now or int(time.time())):
            raise TokenExpiredError("token has expired: request a new one at /v1/auth/challenge")
        return result
