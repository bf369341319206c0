"""How every ``rxledger`` command is registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand

from ledger_client.cli.options import expand_common
from ledger_client.cli.reporting import ReportingCommand


class RxTyper(typer.Typer):
    """A Typer app whose commands report errors in one line (:class:`ReportingCommand`) and
    take their common options through one parameter (:func:`expand_common`)."""

    def command(  # type: ignore[override]
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a command, as ``typer.Typer.command`` does."""
        register = super().command(name, cls=cls or ReportingCommand, **kwargs)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            register(expand_common(fn))
            return fn

        return decorator
