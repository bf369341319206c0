"""The one error exit of the ``rxledger`` commands.

Every command runs inside :class:`ReportingCommand`, which turns any exception into one line
on stderr and an exit code (see :func:`fail`): no command shows a Python traceback unless
``RXLEDGER_DEBUG`` is set. RxLedger's warnings (weak serials at commissioning) print as
``warning:`` lines on stderr, every time, and the command carries on.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import requests
import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

from ledger_client.errors import RxLedgerError, WeakSerialsWarning
from ledger_client.explain import Refusal, explain

console = Console(stderr=True)

#: Exit codes: a refusal (by the chain, or of the command's request) and bad input.
REFUSED, BAD_INPUT = 1, 2


@dataclass
class Known:
    """What the running command gave, for its error messages: ledger id -> code label,
    address -> member name, and the node's URL."""

    codes: dict[bytes, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    rpc: str | None = None


_known: ContextVar[Known] = ContextVar("rxledger_known")


def remember(codes: Mapping[bytes, str] = {}, members: Mapping[str, str] = {}) -> None:  # noqa: B006
    """Let this command's error messages name ledger ids by the codes the user gave
    (id -> label) and addresses by member names (address -> name)."""
    known = _known.get(None)
    if known is not None:
        known.codes.update(codes)
        known.members.update(members)


def message(exc: Exception, known: Known | None = None) -> tuple[str, int]:
    """Return the one-line message and exit code for ``exc``: 2 for bad input or
    configuration (RxLedger's ``ValueError`` twins), 1 for refusals and failures."""
    known = known or Known()
    if isinstance(exc, Refusal):
        return explain(exc, known.codes, known.members), REFUSED
    if isinstance(exc, RxLedgerError):
        return str(exc), BAD_INPUT if isinstance(exc, ValueError) else REFUSED
    if isinstance(exc, requests.RequestException | ConnectionError):
        node = f"the JSON-RPC node at {known.rpc}" if known.rpc else "the JSON-RPC node"
        return f"{node} stopped answering ({type(exc).__name__}); nothing more was sent", REFUSED
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}", BAD_INPUT
    return f"internal error: {type(exc).__name__}: {exc} (RXLEDGER_DEBUG=1 shows where)", REFUSED


def fail(exc: Exception, known: Known | None = None) -> typer.Exit:
    """Print ``exc`` as one line on stderr (unwrapped, so ``file:line`` stays greppable) and
    return the exit to raise."""
    text, code = message(exc, known)
    console.print(f"[red]error:[/red] {escape(text)}", soft_wrap=True, highlight=False)
    return typer.Exit(code=code)


def warn(text: str) -> None:
    """Print a warning as one line on stderr; the command carries on."""
    console.print(f"[yellow]warning:[/yellow] {escape(text)}", soft_wrap=True, highlight=False)


def _showing_ours(show: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` that prints RxLedger's own warnings as :func:`warn` lines and
    hands the others to ``show``."""

    def show_warning(
        message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
    ) -> None:
        if issubclass(category, WeakSerialsWarning):
            warn(str(message))
        else:
            show(message, category, *args, **kwargs)

    return show_warning


def _is_click(exc: Exception) -> bool:
    """Click's own exceptions (exit, abort, usage errors; typer may vendor click) pass."""
    kinds = {k.__name__ for k in type(exc).__mro__}
    return isinstance(exc, typer.Exit | typer.Abort) or "ClickException" in kinds


class ReportingCommand(TyperCommand):
    """A command whose exceptions end as :func:`fail` does: one line, an exit code."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; report any exception but click's own (usage, exit, abort)."""
        known = Known(rpc=ctx.params.get("rpc"))
        token = _known.set(known)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", WeakSerialsWarning)
                warnings.showwarning = _showing_ours(warnings.showwarning)
                return super().invoke(ctx)
        except Exception as exc:
            if _is_click(exc) or os.environ.get("RXLEDGER_DEBUG"):
                raise
            raise fail(exc, known) from None
        finally:
            _known.reset(token)
