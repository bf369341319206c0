"""Single-use login nonces in the gateway's SQL database, shared by all its workers."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, delete, insert, select

from gateway.db import models as m


class NonceStore:
    """Issues nonces for an address and consumes each one at most once, atomically."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(self, address: str, expires_at: int, now: int) -> str:
        """Store and return a new nonce (128 random bits, 32 hex digits) for ``address``.

        Nonces that expired before ``now`` are dropped on the way.
        """
        nonce = secrets.token_hex(16)
        with self.engine.begin() as conn:
            conn.execute(delete(m.LoginNonce).where(m.LoginNonce.expires_at < now))
            conn.execute(
                insert(m.LoginNonce).values(nonce=nonce, address=address, expires_at=expires_at)
            )
        return nonce

    def consume(self, nonce: str, address: str, now: int) -> str | None:
        """Consume ``nonce`` for ``address``; return None if it was used, else why it cannot be.

        One DELETE decides: of any number of concurrent exchanges, in any worker, exactly one
        sees the row go.
        """
        live = (
            m.LoginNonce.nonce == nonce,
            m.LoginNonce.address == address,
            m.LoginNonce.expires_at >= now,
        )
        with self.engine.begin() as conn:
            if conn.execute(delete(m.LoginNonce).where(*live)).rowcount == 1:
                return None
            row = conn.execute(
                select(m.LoginNonce.address, m.LoginNonce.expires_at).where(
                    m.LoginNonce.nonce == nonce
                )
            ).first()
        if row is None:
            return "nonce is unknown to this gateway or was already used: request a new challenge"
        if row.address != address:
            return f"nonce was issued for {row.address}, not for {address}"
        return "nonce has expired: request a new challenge"
