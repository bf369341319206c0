"""``rxledger lot ...``, ``commission``, ``pack`` ... ``undo``, ``verify``: lifecycle steps
from code files, each kept in the owner's EPCIS store and anchored on chain."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import Progress

from ledger_client.audit.reports import CLASSIFICATIONS
from ledger_client.cli.command import RxTyper
from ledger_client.cli.options import JsonOpt
from ledger_client.cli.reporting import console, remember
from ledger_client.cli.session import ChainOpts, KeyOpts, MemberStoreOpts, Session
from ledger_client.code_files import CodeBatch, read_batch
from ledger_client.epcis import operations as op
from ledger_client.epcis.record import member_gln, record
from ledger_client.errors import InvalidCodeError, InvalidInputError
from ledger_client.explain import code_map
from ledger_client.gs1 import PackCode, expiry_to_date, parse_code
from ledger_client.ledger import Ledger, PackRef, ProgressCallback
from ledger_client.lot_keys import new_lot_key, write_lot_keys
from ledger_client.types import DecommissionReason, FlagReason, LotStatus, PackFlag, Receipt

__all__ = ["lifecycle_app", "lot_app"]

lifecycle_app = RxTyper()
lot_app = RxTyper(help="Register lots and change their status.", no_args_is_help=True)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="codes: one a line, CSV (code, or gtin+serial[+lot,expiry], or sscc), "
        "JSON lines; - for stdin"
    ),
]
ToOpt = Annotated[
    str, typer.Option(help="recipient: a member name of the deployment, or its address")
]
ReasonOpt = Annotated[
    str, typer.Option(help="dispensed, destroyed, sample, free_sample, exported, stolen, locked")
]
CodeArg = Annotated[
    str, typer.Argument(help="GS1 element string, DataMatrix text or Digital Link URI")
]
E = TypeVar("E", bound=enum.IntEnum)


def choose(kind: type[E], text: str, what: str) -> E:
    """The member of ``kind`` named ``text`` (any case); NONE is never a choice."""
    choices = [m for m in kind if m.value]
    for choice in choices:
        if choice.name.lower() == text.lower():
            return choice
    names = ", ".join(c.name.lower() for c in choices)
    raise InvalidInputError(f"{what} {text!r} is unknown: one of {names}")


def member_ledger(
    session: Session,
    batch: CodeBatch | None = None,
    units: Sequence[str] = (),
    lots: Sequence[tuple[str, str]] = (),
) -> Ledger:
    """The acting member's ledger; error messages name the codes of ``batch``, ``units`` and
    ``lots`` (as sent, and as the ids of their genuine records)."""
    ledger = session.ledger
    codes = code_map(units=units, lots=lots, owners=ledger.owners)
    remember(codes=codes | (batch.codes(ledger.owners) if batch else {}))
    return ledger


def batch_refs(batch: CodeBatch) -> tuple[tuple[PackRef, ...], tuple[str, ...]]:
    """The batch's packs as (GTIN, serial) and its units as SSCCs."""
    return tuple((p.gtin, p.serial) for p in batch.packs), tuple(u.sscc for u in batch.units)


def _only_packs(batch: CodeBatch, step: str) -> None:
    if batch.units:
        raise InvalidCodeError(
            f"{batch.source}: {step} takes packs only, not SSCC {batch.units[0].sscc}"
        )


@contextmanager
def _progress_bar(label: str, total: int) -> Iterator[ProgressCallback]:
    """A progress bar on a terminal's stderr, advanced by the callback it yields."""
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.advance(task, done)


def report_receipts(receipts: list[Receipt], items: int, as_json: bool) -> None:
    summary: dict[str, Any] = {
        "items": items,
        "transactions": [r.tx_hash.hex() for r in receipts],
        "gas_used": sum(r.gas_used for r in receipts),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(f"{items} items in {len(receipts)} transactions, {summary['gas_used']:,} gas")


@lot_app.command("register")
def lot_register(
    gtin: str,
    lot: str,
    expiry: Annotated[str, typer.Argument(help="YYMMDD, day 00 = month end")],
    session: MemberStoreOpts,
) -> None:
    """Register a lot of a product with its expiry."""
    expiry_date = expiry_to_date(expiry)  # a precise error for a bad date, before anything is sent
    ledger = member_ledger(session, lots=[(gtin, lot)])
    eh = record(session.store, op.RegisterLot(gtin, lot, expiry_date))
    receipt = ledger.register_lot(gtin, lot, expiry, eh)
    typer.echo(f"lot {lot} of {gtin} registered in block {receipt.block_number}")


@lot_app.command("status")
def lot_status(
    gtin: str,
    lot: str,
    status: Annotated[str, typer.Argument(help="active, quarantined or recalled")],
    session: MemberStoreOpts,
    pack: Annotated[
        str | None,
        typer.Option(help="serial of a pack of the lot: finds it without its owner's lot key"),
    ] = None,
) -> None:
    """Quarantine, recall or release a lot (its owner or a regulator). A lot its owner keyed
    is found by its number with the owner's key (--lot-keys), else through one of its packs
    (--pack)."""
    new = choose(LotStatus, status, "lot status")
    ledger = member_ledger(session, lots=[(gtin, lot)])
    lot_id = ledger.lot_of_pack(gtin, pack) if pack else ledger.owners.lot_id(gtin, lot)
    eh = record(session.store, op.SetLotStatus(gtin, lot, new))
    ledger.set_lot_status_by_id(lot_id, new, eh)
    now = ledger.lot_state_by_id(lot_id).status
    if new == LotStatus.RECALLED and now != new:
        typer.echo(
            f"recall of lot {lot} of {gtin} requested: it is {now.name} until its owner or a"
            " second regulator recalls it"
        )
    else:
        typer.echo(f"lot {lot} of {gtin} is now {now.name}")


@lot_app.command("keygen")
def lot_keygen(
    out: Annotated[Path, typer.Argument(help="the lot key file to write")], session: KeyOpts
) -> None:
    """Write a new random lot key of the acting member to OUT (mode 0600), for --lot-keys and
    the gateway's RXLEDGER_LOT_KEYS_FILE: the ids of the lots it registers are then keyed,
    so nobody reading the chain can recover them by trying lot numbers. Keep it, and give it
    only to regulators: without it a lot is found only through one of its packs."""
    if out.exists():
        raise InvalidInputError(
            f"{out} exists: a lot key is never overwritten (the lots it keyed would no longer"
            " be found by their number)"
        )
    address = session.account.address
    write_lot_keys(out, {address: new_lot_key()})
    typer.echo(f"lot key of {address} written to {out}")


@lifecycle_app.command()
def commission(
    file: FileArg,
    into: Annotated[str | None, typer.Option(help="SSCC of the case to commission into")] = None,
    *,
    session: MemberStoreOpts,
    as_json: JsonOpt = False,
) -> None:
    """Commission the packs of FILE (codes with GTIN, serial and lot); lots must be registered."""
    batch = read_batch(file)
    _only_packs(batch, "commission")
    no_lot = next((p for p in batch.packs if p.lot is None), None)
    if no_lot is not None:
        raise InvalidCodeError(
            f"{batch.source}: commissioning needs each pack's lot (AI 10, or a lot column); "
            f"(01){no_lot.gtin}(21){no_lot.serial} has none"
        )
    ledger = member_ledger(session, batch, units=[into] if into else [])
    groups: dict[tuple[str, str], list[str]] = {}
    for p in batch.packs:
        groups.setdefault((p.gtin, str(p.lot)), []).append(p.serial)
    receipts: list[Receipt] = []
    for (gtin, lot), serials in groups.items():
        eh = record(session.store, op.Commission(gtin, lot, tuple(serials), into))
        with _progress_bar(f"commission {gtin}/{lot}", len(serials)) as advance:
            receipts += ledger.commission(gtin, lot, serials, into, eh, progress=advance)
    report_receipts(receipts, len(batch.packs), as_json)


@lifecycle_app.command()
def pack(sscc: str, file: FileArg, session: MemberStoreOpts) -> None:
    """Pack the packs and SSCCs of FILE into case or pallet SSCC."""
    batch = read_batch(file)
    ledger = member_ledger(session, batch, units=[sscc])
    refs, ssccs = batch_refs(batch)
    receipt = ledger.pack(sscc, refs, ssccs, record(session.store, op.Pack(sscc, refs, ssccs)))
    typer.echo(
        f"packed {len(batch.packs)} packs and {len(batch.units)} units into {sscc} "
        f"({receipt.gas_used:,} gas)"
    )


@lifecycle_app.command()
def unpack(
    ssccs: Annotated[list[str], typer.Argument(help="SSCCs to unpack whole")],
    session: MemberStoreOpts,
) -> None:
    """Unpack whole cases or pallets, one transaction each; their contents stay with you."""
    ledger = member_ledger(session, units=ssccs)
    for sscc in ssccs:
        ledger.unpack([sscc], record(session.store, op.Unpack(sscc, (), ())))
    typer.echo(f"unpacked {len(ssccs)} units")


@lifecycle_app.command()
def ship(file: FileArg, to: ToOpt, session: MemberStoreOpts, as_json: JsonOpt = False) -> None:
    """Ship the loose packs and SSCCs of FILE to another member."""
    batch = read_batch(file)
    ledger = member_ledger(session, batch)
    recipient = session.address_of(to)
    refs, ssccs = batch_refs(batch)
    to_gln, from_gln = member_gln(ledger, recipient), member_gln(ledger, ledger.address)
    eh = record(session.store, op.Ship(refs, ssccs, to_party=to_gln, from_party=from_gln))
    receipts = ledger.ship(recipient, refs, ssccs, eh)
    report_receipts(receipts, len(batch.packs) + len(batch.units), as_json)


@lifecycle_app.command("receive")
def receive_cmd(file: FileArg, session: MemberStoreOpts, as_json: JsonOpt = False) -> None:
    """Receive the packs and SSCCs of FILE shipped to you."""
    batch = read_batch(file)
    ledger = member_ledger(session, batch)
    refs, ssccs = batch_refs(batch)
    eh = record(session.store, op.Receive(refs, ssccs))
    receipts = ledger.receive(refs, ssccs, eh)
    report_receipts(receipts, len(batch.packs) + len(batch.units), as_json)


@lifecycle_app.command()
def decommission(
    file: FileArg, reason: ReasonOpt, session: MemberStoreOpts, as_json: JsonOpt = False
) -> None:
    """Decommission the packs of FILE."""
    why = choose(DecommissionReason, reason, "--reason")
    batch = read_batch(file)
    _only_packs(batch, "decommission")
    ledger = member_ledger(session, batch)
    refs, _ = batch_refs(batch)
    eh = record(session.store, op.Decommission(refs, why))
    with _progress_bar(f"decommission ({why.name})", len(refs)) as advance:
        receipts = ledger.decommission(refs, why, eh, progress=advance)
    report_receipts(receipts, len(batch.packs), as_json)


@lifecycle_app.command()
def undo(file: FileArg, session: MemberStoreOpts, as_json: JsonOpt = False) -> None:
    """Undo your decommissions of the packs of FILE, within the undo window."""
    batch = read_batch(file)
    _only_packs(batch, "undo")
    ledger = member_ledger(session, batch)
    refs, _ = batch_refs(batch)
    eh = record(session.store, op.UndoDecommission(refs))
    receipts = ledger.undo_decommission(refs, eh)
    report_receipts(receipts, len(batch.packs), as_json)


#: What ``rxledger flag --status`` sets.
_FLAGS = {
    "suspect": PackFlag.SUSPECT,
    "illegitimate": PackFlag.ILLEGITIMATE,
    "clear": PackFlag(0),
}


@lifecycle_app.command()
def flag(
    file: FileArg,
    flags: Annotated[
        str,
        typer.Option(
            "--status",
            help="suspect (any holder: quarantined while you investigate), illegitimate (the"
            " product's owner or a regulator: starts the 3911 clock) or clear.",
        ),
    ],
    session: MemberStoreOpts,
    classification: Annotated[
        str | None,
        typer.Option(help="The 3911 classification: " + ", ".join(CLASSIFICATIONS) + "."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Flag the packs of FILE suspect or illegitimate, or clear their flags after the
    investigation (the authority that raised them or a higher one). They verify SUSPECT or
    ILLEGITIMATE and cannot be dispensed meanwhile. EPCIS: inspecting, no_pedigree_match."""
    if flags.lower() not in _FLAGS:
        raise InvalidInputError(f"--status {flags!r} is unknown: one of {', '.join(_FLAGS)}")
    reason = (
        FlagReason.NONE
        if classification is None
        else choose(FlagReason, classification, "--classification")
    )
    batch = read_batch(file)
    _only_packs(batch, "flag")
    ledger = member_ledger(session, batch)
    refs, _ = batch_refs(batch)
    operation = op.FlagPacks(refs, _FLAGS[flags.lower()], reason)
    eh = record(session.store, operation)
    receipts = ledger.flag(refs, operation.flags, int(reason), eh)
    report_receipts(receipts, len(batch.packs), as_json)


@lifecycle_app.command()
def verify(code: CodeArg, session: ChainOpts, as_json: JsonOpt = False) -> None:
    """Verify a pack: is it genuine, saleable, or why not. Exit 0 only when VERIFIED."""
    scan = parse_code(code)
    if not isinstance(scan.code, PackCode):
        raise InvalidCodeError(f"{code!r} is not a pack code (GTIN + serial)")
    p = scan.code
    result = Ledger(*session.chain).verify(p.gtin, p.serial, p.lot, p.expiry_yymmdd)
    out = {
        "status": result.status.name,
        "gtin": p.gtin,
        "serial": p.serial,
        "lot": p.lot,
        "expiry": p.expiry_yymmdd,
        "warnings": list(scan.warnings),
        "lot_status": result.lot.status.name,
        "custodian": result.pack.custodian,
        "decommission_reason": result.pack.reason.name,
        "pack_id": "0x" + result.pack_id.hex(),
    }
    if as_json:
        typer.echo(json.dumps(out))
    else:
        for warning in scan.warnings:
            console.print(f"[yellow]warning:[/yellow] {warning}")
        colour = "green" if result.status.name == "VERIFIED" else "red"
        console.print(f"[{colour}]{result.status.name}[/{colour}] {p.gtin} serial {p.serial}")
    raise typer.Exit(code=0 if result.status.name == "VERIFIED" else 3)
