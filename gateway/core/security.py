"""Signed, short-lived tokens and stateless login challenges (HMAC-SHA256, standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass


class TokenError(ValueError):
    """Raised when a token or challenge is malformed, forged or expired."""


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
    """Issues and checks tokens and login challenges with one secret."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hashlib.sha256(b"rxledger-gateway:" + secret.encode()).digest()
        self.ttl_seconds = ttl_seconds

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}.{body}".encode(), hashlib.sha256).digest())

    def issue(self, address: str, roles: int, now: int | None = None) -> tuple[str, int]:
        """Return a token for ``address`` with ``roles`` and its expiry time."""
        expires = (now or int(time.time())) + self.ttl_seconds
        body = _b64(json.dumps({"sub": address, "roles": roles, "exp": expires}).encode())
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
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("token payload is malformed") from exc
        if result.expires_at < (now or int(time.time())):
            raise TokenError("token has expired: request a new one at /v1/auth/challenge")
        return result

    def challenge(self, address: str, ttl: int = 300) -> tuple[str, int]:
        """Return a self-verifying nonce for ``address`` and its expiry."""
        expires = int(time.time()) + ttl
        body = f"{address.lower()}:{expires}:{secrets.token_hex(8)}"
        return f"{_b64(body.encode())}.{self._mac('challenge', body)}", expires

    def check_challenge(self, nonce: str, address: str) -> int:
        """Return the nonce's expiry if this gateway issued it for ``address`` and it is fresh."""
        try:
            encoded, mac = nonce.split(".")
            body = _unb64(encoded).decode()
            owner, expires, _ = body.split(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenError("nonce is malformed") from exc
        if not hmac.compare_digest(mac, self._mac("challenge", body)):
            raise TokenError("nonce was not issued by this gateway")
        if owner != address.lower():
            raise TokenError("nonce was issued for another address")
        if int(expires) < int(time.time()):
            raise TokenError("nonce has expired: request a new challenge")
        return int(expires)


def challenge_message(address: str, nonce: str, expires_at: int) -> str:
    """Return the exact text a member signs (EIP-191 personal_sign) to log in."""
    return f"RxLedger gateway login\naddress: {address}\nnonce: {nonce}\nexpires: {expires_at}"
