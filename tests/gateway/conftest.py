"""Gateway fixtures (see gateway_helpers for what they build)."""

from __future__ import annotations

from gateway_helpers import gateway, world  # noqa: F401 - pytest fixtures
