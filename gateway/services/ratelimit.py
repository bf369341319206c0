"""Per-client token buckets (per process: with N workers a client gets up to N times the rate)."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """A token bucket per client key: ``rate`` requests per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, max_clients: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """Return seconds until ``key`` could take ``cost`` tokens (0: now), taking none."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return 0.0 if tokens >= cost else (cost - tokens) / self.rate

    def acquire(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """Take ``cost`` tokens for ``key``; return 0 if allowed, else seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= cost:
                if len(self._buckets) >= self.max_clients and key not in self._buckets:
                    self._buckets.clear()
                self._buckets[key] = (tokens - cost, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (cost - tokens) / self.rate
