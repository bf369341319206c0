"""A service's daemon thread: ``_run`` until :meth:`BackgroundLoop.stop` sets ``_stop``."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Runs ``self._run`` in a daemon thread named ``name``; ``_run`` returns once ``_stop``
    is set (it waits on it between rounds)."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and wait for it (10 s at most)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
