"""``rxledger epcis``: validate, import and export EPCIS documents; DSCSA TI/TS."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger_client.cli.command import RxTyper
from ledger_client.cli.options import JsonOpt
from ledger_client.cli.reporting import console
from ledger_client.cli.session import MemberStoreOpts, StoreLotKeysOpts, StoreOpts
from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.apply import ImportResult
from ledger_client.epcis.capture import capture_document, read_valid_document
from ledger_client.epcis.dscsa import transaction_information
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.export12 import to_epcis_12_xml
from ledger_client.epcis.history import Kind, export_history
from ledger_client.epcis.store import EventStore
from ledger_client.epcis.xml2_write import to_epcis_20_xml
from ledger_client.errors import InvalidInputError

__all__ = ["epcis_app"]

epcis_app = RxTyper(
    help="EPCIS documents: validate, import onto the ledger, export history, DSCSA TI/TS.",
    no_args_is_help=True,
)

FilesArg = Annotated[
    list[Path], typer.Argument(help="EPCIS 2.0 JSON-LD, EPCIS 2.0 XML or EPCIS 1.2 XML files")
]
_FORMATS = ("json", "xml", "xml2")


def _check_file(path: Path) -> dict[str, Any]:
    """Validate one file and map it: a dict for the report, whatever the file holds.

    A document is valid when it reads, passes validation and maps (an event with a ledger
    meaning needs its event hash). Anything else is reported in ``errors``, never raised:
    one file must not stop the report on the others.
    """
    entry: dict[str, Any] = {"path": str(path), "valid": False, "errors": [], "warnings": [],
                             "events": 0, "ledger_operations": 0}  # fmt: skip
    try:
        valid = read_valid_document(path)
        operations = valid.report.ledger_operations
    except InvalidEPCISError as exc:
        entry.update(errors=exc.errors, warnings=[w.to_dict() for w in exc.warnings])
        return entry
    except OSError as exc:
        entry["errors"] = [f"cannot read the file: {exc.strerror or exc}"]
        return entry
    except Exception as exc:  # a bug of ours; RXLEDGER_DEBUG shows where
        if os.environ.get("RXLEDGER_DEBUG"):
            raise
        entry["errors"] = [f"/: cannot be checked: internal error {type(exc).__name__}: {exc}"]
        return entry
    entry.update(valid=True, events=len(valid.events),
                 warnings=[w.to_dict() for w in valid.warnings],
                 ledger_operations=operations)  # fmt: skip
    return entry


def _echo_warnings(warnings: list[dict[str, Any]]) -> None:
    for w in warnings:
        typer.echo(f"  warning: event {w['index']} {w['path']}: {w['message']}")


@epcis_app.command("validate")
def validate(files: FilesArg, as_json: JsonOpt = False) -> None:
    """Validate EPCIS files; exit 0 when every file can be received (with or without
    warnings), 1 otherwise."""
    entries = [_check_file(path) for path in files]
    if as_json:
        typer.echo(json.dumps({"files": entries}, indent=2))
    else:
        for e in entries:
            if e["valid"]:
                verdict = "VALID WITH WARNINGS" if e["warnings"] else "valid"
                n = len(e["warnings"])
                counts = f", {n} warning{'s' if n > 1 else ''}" if n else ""
                typer.echo(f"{e['path']}: {verdict}, {e['events']} events, "
                           f"{e['ledger_operations']} ledger operations{counts}")  # fmt: skip
            else:
                typer.echo(f"{e['path']}: INVALID")
                for error in e["errors"]:
                    typer.echo(f"  {error}")
            _echo_warnings(e["warnings"])
    if not all(e["valid"] for e in entries):
        raise typer.Exit(code=1)


def _print_result(result: ImportResult) -> None:
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
    typer.echo(f"{result.source}: {counts}")
    for event in result.events:
        txs = [tx for op in event.operations for tx in op.tx_hashes]
        detail = f" {len(txs)} tx" if txs else ""
        message = f" - {event.message}" if event.message else ""
        typer.echo(f"  event {event.index} {event.type}: {event.status}{detail}{message}")


@epcis_app.command("import")
def import_(files: FilesArg, session: MemberStoreOpts, as_json: JsonOpt = False) -> None:
    """Import EPCIS documents onto the ledger as one member; exit 1 if any event failed."""
    ledger = session.ledger
    session.store.parent.mkdir(parents=True, exist_ok=True)
    anchors = AnchorIndex.load(ledger.w3, ledger.deployment)
    outputs: list[dict[str, Any]] = []
    ok = True
    with EventStore(session.store) as store:
        for path in files:
            try:
                _, result = capture_document(ledger, path, store, anchors=anchors, name=str(path))
            except (InvalidEPCISError, OSError) as exc:
                errors, warnings = (
                    (exc.errors, [w.to_dict() for w in exc.warnings])
                    if isinstance(exc, InvalidEPCISError)
                    else ([f"cannot read the file: {exc.strerror or exc}"], [])
                )
                ok = False
                outputs.append({"source": str(path), "ok": False, "errors": errors,
                                "warnings": warnings, "events": []})  # fmt: skip
                if not as_json:
                    typer.echo(f"{path}: rejected, nothing imported")
                    for error in errors:
                        typer.echo(f"  {error}")
                    _echo_warnings(warnings)
                continue
            ok = ok and result.ok
            outputs.append(result.to_dict())
            if not as_json:
                _print_result(result)
                _echo_warnings(outputs[-1]["warnings"])
    if as_json:
        typer.echo(json.dumps({"member": ledger.address, "files": outputs}, indent=2))
    if not ok:
        raise typer.Exit(code=1)


@epcis_app.command("export")
def export(
    pack: Annotated[str | None, typer.Option("--pack", help="GTIN + serial, any GS1 form")] = None,
    lot: Annotated[str | None, typer.Option("--lot", help="GTIN + lot, any GS1 form")] = None,
    sscc: Annotated[str | None, typer.Option("--sscc", help="SSCC, any GS1 form")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="json (EPCIS 2.0 JSON-LD), xml2 (EPCIS 2.0 XML), xml (1.2)"),
    ] = "json",
    *,
    session: StoreLotKeysOpts,
) -> None:
    """Export the history of a pack, a lot or a shipment from the ledger as EPCIS."""
    chosen = [(k, v) for k, v in (("pack", pack), ("lot", lot), ("sscc", sscc)) if v]
    if len(chosen) != 1:
        raise InvalidInputError("give exactly one of --pack, --lot, --sscc")
    if fmt not in _FORMATS:
        raise InvalidInputError(f"--format must be json, xml2 or xml, got {fmt!r}")
    kind: Kind = chosen[0][0]  # type: ignore[assignment]
    code = chosen[0][1]
    assert code is not None
    w3, dep = session.chain
    store = EventStore(session.store) if session.store.exists() else None
    doc = export_history(w3, dep, store, kind, code, lot_keys=session.held_lot_keys)
    writers: dict[str, Callable[[dict[str, Any]], bytes]] = {
        "xml": to_epcis_12_xml,
        "xml2": to_epcis_20_xml,
    }
    data = writers[fmt](doc) if fmt in writers else json.dumps(doc, indent=2).encode()
    if out is None:
        typer.echo(data.decode())
    else:
        out.write_bytes(data)
        console.print(f"wrote {out}")


@epcis_app.command("ti-ts")
def ti_ts(
    sscc: Annotated[str, typer.Option("--sscc", help="SSCC of the shipped unit, any GS1 form")],
    session: StoreOpts,
) -> None:
    """DSCSA transaction information and statement of a shipment, as JSON."""
    if not session.store.is_file():
        where = "" if session.store.is_absolute() else f" (in {Path.cwd()})"
        raise InvalidInputError(
            f"no EPCIS store at {session.store}{where}: TI/TS takes the clear codes and master "
            "data from the store `rxledger epcis import` writes; give --store or "
            "RXLEDGER_EPCIS_STORE"
        )
    w3, dep = session.chain
    with EventStore(session.store) as store:
        typer.echo(json.dumps(transaction_information(w3, dep, store, sscc), indent=2))
