"""The options the ``rxledger`` commands share, declared once.

``--rpc``, ``--deployment``, ``--as``, ``--key-file`` and ``--store`` follow the command's
name (``rxledger ship FILE --to X --as Y``). Typer's group options would have to come
before it (``rxledger --as Y ship ...``), changing every documented command line, and a
typer command cannot take a dataclass parameter. So the shared options are the typed
fields of one dataclass (:class:`~ledger_client.cli.session.Session`), and a command asks
for the ones it takes with one parameter, the way FastAPI's ``Annotated[..., Depends()]``
does::

    def ship(file: FileArg, to: ToOpt, session: MemberStoreOpts, as_json: JsonOpt = False)

where ``MemberStoreOpts = Annotated[Session, Common("rpc", "deployment", "member", ...)]``.
:func:`expand_common` (applied by :class:`~ledger_client.cli.command.RxTyper` to every
command) puts those fields' options in that parameter's place in the command's signature,
so ``--help``, env vars and defaults stay per command, and calls the command with the
dataclass built from them. The session opens the chain only when a command first uses it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import typer

DEFAULT_RPC = "http://127.0.0.1:8545"
DEFAULT_DEPLOYMENT = Path(".rxledger/deployment.json")
DEFAULT_STORE = Path(".rxledger/epcis.sqlite")

RpcOpt = Annotated[
    str, typer.Option("--rpc", envvar="RXLEDGER_RPC_URL", help="JSON-RPC URL of a node")
]
DeploymentOpt = Annotated[
    Path, typer.Option("--deployment", envvar="RXLEDGER_DEPLOYMENT", help="deployment file")
]
AsOpt = Annotated[
    str | None, typer.Option("--as", help="demo member name (dev keys, demo network only)")
]
KeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help=(
            "file holding the member's private key: hex, or an encrypted keystore opened with"
            " RXLEDGER_PASSWORD_FILE or the `password` file beside it (or RXLEDGER_KEY)"
        ),
    ),
]
LotKeysOpt = Annotated[
    Path | None,
    typer.Option(
        "--lot-keys",
        envvar="RXLEDGER_LOT_KEYS_FILE",
        help=(
            "lot key file (JSON, member address -> key): the member's own key, with which its"
            " lots' ids are keyed, and for a regulator the keys producers gave it"
        ),
    ),
]
StoreOpt = Annotated[
    Path,
    typer.Option("--store", envvar="RXLEDGER_EPCIS_STORE", help="the owner's EPCIS store (SQLite)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]

OptionName = Literal["rpc", "deployment", "member", "key_file", "lot_keys", "store"]


class Common:
    """Marks a parameter (``Annotated[SomeDataclass, Common(...)]``) that stands for the
    named fields of that dataclass, each a command option."""

    def __init__(self, *names: OptionName) -> None:
        self.names = names


def _marked(param: inspect.Parameter) -> tuple[type, Common] | None:
    """The dataclass and marker of a ``Common`` parameter, else None."""
    if get_origin(param.annotation) is not Annotated:
        return None
    cls, *extras = get_args(param.annotation)
    marker = next((e for e in extras if isinstance(e, Common)), None)
    return None if marker is None else (cls, marker)


def expand_common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as typer should see it: its :class:`Common` parameter replaced by the options
    it names (in the dataclass's field order), which become that parameter's dataclass on
    each call. ``fn`` itself when it has no such parameter."""
    signature = inspect.signature(fn, eval_str=True)
    found = [(p, *m) for p in signature.parameters.values() if (m := _marked(p))]
    if not found:
        return fn
    if len(found) > 1:
        raise TypeError(f"{fn.__name__}: more than one Common parameter")
    [(marked, cls, marker)] = found
    hints = get_type_hints(cls, include_extras=True)
    fields = [f for f in dataclasses.fields(cls) if f.name in marker.names]
    if len(fields) != len(marker.names) or any(f.name in signature.parameters for f in fields):
        raise TypeError(f"{fn.__name__}: {marker.names} has an unknown or taken name")
    options = [
        inspect.Parameter(f.name, marked.kind, default=f.default, annotation=hints[f.name])
        for f in fields
    ]
    params = list(signature.parameters.values())
    at = params.index(marked)

    @functools.wraps(fn)
    def command(**kwargs: Any) -> Any:
        given = {f.name: kwargs.pop(f.name) for f in fields}
        return fn(**kwargs, **{marked.name: cls(**given)})

    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*params[:at], *options, *params[at + 1 :]]
    )
    return command
