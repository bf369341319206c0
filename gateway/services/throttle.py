"""Throttles on authentication: attempts and failures per client IP and per member address.

Per process, like :class:`~gateway.services.ratelimit.RateLimiter`: with N workers a client
gets up to N times the budget.
"""

from __future__ import annotations

import math

from gateway.services.ratelimit import RateLimiter
from ledger_client.errors import RxLedgerError


class ThrottledError(RxLedgerError):
    """Raised when a client must wait ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, math.ceil(retry_after))


class AuthThrottle:
    """Budgets for logins (challenge + token), console-key use and failed credentials."""

    def __init__(
        self,
        logins_per_minute: int,
        failures_per_hour: int,
        console_per_second: float,
        console_burst: int,
    ) -> None:
        self._logins = RateLimiter(logins_per_minute / 60, logins_per_minute)
        self._failures = RateLimiter(failures_per_hour / 3600, failures_per_hour)
        self._console = RateLimiter(console_per_second, console_burst)

    def login(self, *keys: str) -> None:
        """Count one challenge or token request for each key (``ip:...``, ``address:...``)."""
        for key in keys:
            wait = self._logins.acquire(key)
            if wait:
                raise ThrottledError(f"too many login attempts from {_who(key)}", wait)

    def console(self, client: str) -> None:
        """Count one request presenting a console key from ``client``."""
        wait = self._console.acquire(f"ip:{client}")
        if wait:
            raise ThrottledError(f"too many console-key requests from {client}", wait)

    def guard(self, *keys: str) -> None:
        """Refuse a key that has used up its failures, before its credential is looked at."""
        for key in keys:
            wait = self._failures.wait(key)
            if wait:
                raise ThrottledError(f"too many failed authentications for {_who(key)}", wait)

    def failed(self, *keys: str) -> None:
        """Count one failed authentication for each key."""
        for key in keys:
            self._failures.acquire(key)


def _who(key: str) -> str:
    kind, _, value = key.partition(":")
    return value if kind == "ip" else f"address {value}"
