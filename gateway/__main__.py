"""``python -m gateway``: run the gateway with uvicorn, settings from the environment.

With several workers the indexer and webhook sender run once, in this supervising process,
and the workers only serve requests (they read the index the indexer writes).
"""

from __future__ import annotations

import os

import uvicorn

from gateway.core.config import Settings
from gateway.core.logging import configure_logging


def main() -> None:
    """Start the server."""
    settings = Settings()  # type: ignore[call-arg]
    configure_logging(settings.json_logs)
    if settings.workers == 1:
        uvicorn.run(
            "gateway.main:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
        return
    from gateway.state import GatewayState

    state = GatewayState.build(settings)
    state.start()
    os.environ["RXLEDGER_RUN_INDEXER"] = "false"
    try:
        uvicorn.run(
            "gateway.main:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,
            access_log=False,
        )
    finally:
        state.stop()


if __name__ == "__main__":
    main()
