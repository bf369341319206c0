"""``rxledger cancel|refuse|lost|found`` and ``rxledger exception open|answer|resolve|show``:
shipments that do not go as planned, and the exception records between trading partners.

The custody steps take a code file as ``ship`` and ``receive`` do and, as they do, keep the
step's EPCIS 2.0 event in the member's store and anchor its hash. Evidence of an exception
step is a file whose bytes are hashed (``--evidence``): the chain keeps the hash only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_utils import keccak

from ledger_client.cli.command import RxTyper
from ledger_client.cli.lifecycle import (
    FileArg,
    ToOpt,
    batch_refs,
    choose,
    member_ledger,
    report_receipts,
)
from ledger_client.cli.options import JsonOpt
from ledger_client.cli.proposals import CouncilOpt, send_or_propose
from ledger_client.cli.session import ChainOpts, MemberOpts, MemberStoreOpts, Session
from ledger_client.code_files import read_batch
from ledger_client.epcis import operations as op
from ledger_client.epcis.record import member_gln, record
from ledger_client.errors import InvalidInputError
from ledger_client.inputs import read_bytes
from ledger_client.ledger import Ledger, PackRef
from ledger_client.types import ZERO_HASH, ExceptionKind, ExceptionRecord, Receipt

__all__ = ["exception_app", "shipment_app"]

shipment_app = RxTyper()
exception_app = RxTyper(
    help="Exceptions between trading partners: open, answer, resolve, show.",
    no_args_is_help=True,
)

FromOpt = Annotated[
    str,
    typer.Option(
        "--from", help="the shipment's sender: a member name of the deployment, or its address"
    ),
]
EvidenceOpt = Annotated[
    Path | None,
    typer.Option(help="evidence file (photo, EPCIS document, note): the chain keeps its hash"),
]
KIND_HELP = ", ".join(k.name.lower() for k in ExceptionKind if k)
IdArg = Annotated[int, typer.Argument(help="the exception's id", min=1)]

Step = Callable[[Ledger, str, Sequence[PackRef], Sequence[str], bytes], list[Receipt]]
#: Each custody step: its ledger call and the EPCIS operation its event records.
_STEPS: dict[str, tuple[Step, type[op.CustodyStep]]] = {
    "cancel": (Ledger.cancel_shipment, op.CancelShipment),
    "refuse": (Ledger.refuse, op.Refuse),
    "lost": (Ledger.report_lost, op.ReportLost),
    "found": (Ledger.report_found, op.ReportFound),
}


def evidence_hash(path: Path | None) -> bytes:
    """The keccak256 of the evidence file's bytes (zero when there is none)."""
    return ZERO_HASH if path is None else bytes(keccak(read_bytes(path, "--evidence")))


def _custody_step(
    session: Session, file: Path, party: str, what: str, step: str, as_json: bool
) -> None:
    """Take custody step ``step`` on the items of ``file`` with the member ``party`` names:
    keep its EPCIS event in the member's store, send it anchoring the event's hash."""
    send, operation = _STEPS[step]
    batch = read_batch(file)
    ledger = member_ledger(session, batch)
    other = session.address_of(party, what)
    refs, ssccs = batch_refs(batch)
    me_gln, other_gln = member_gln(ledger, ledger.address), member_gln(ledger, other)
    eh = record(session.store, operation(refs, ssccs, to_party=other_gln, from_party=me_gln))
    report_receipts(send(ledger, other, refs, ssccs, eh), len(refs) + len(ssccs), as_json)


@shipment_app.command()
def cancel(file: FileArg, to: ToOpt, session: MemberStoreOpts, as_json: JsonOpt = False) -> None:
    """Cancel your shipment of the packs and SSCCs of FILE to a member before it receives
    them: they are back in your custody (EPCIS bizStep void_shipping)."""
    _custody_step(session, file, to, "--to", "cancel", as_json)


@shipment_app.command()
def refuse(
    file: FileArg, sender: FromOpt, session: MemberStoreOpts, as_json: JsonOpt = False
) -> None:
    """Refuse the packs and SSCCs of FILE a member shipped to you: they travel back to it,
    and it receives them (rxledger receive). EPCIS: arriving, disposition returned."""
    _custody_step(session, file, sender, "--from", "refuse", as_json)


@shipment_app.command()
def lost(file: FileArg, to: ToOpt, session: MemberStoreOpts, as_json: JsonOpt = False) -> None:
    """Report lost in transit the packs and SSCCs of FILE you shipped to a member: they
    verify LOST until you report them found. EPCIS: transporting, disposition unknown."""
    _custody_step(session, file, to, "--to", "lost", as_json)


@shipment_app.command()
def found(file: FileArg, to: ToOpt, session: MemberStoreOpts, as_json: JsonOpt = False) -> None:
    """Report found the packs and SSCCs of FILE you reported lost: they are in transit to
    their recipient again. EPCIS: transporting, disposition in_transit."""
    _custody_step(session, file, to, "--to", "found", as_json)


# ---------------------------------------------------------------- exception records


def _when(ts: int) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def record_json(case_id: int, record: ExceptionRecord, names: dict[str, str]) -> dict[str, Any]:
    """An exception record as ``exception show --json`` prints it."""
    return {
        "id": case_id,
        "kind": record.kind.name,
        "status": record.status.name,
        "opener": record.opener,
        "opener_name": names.get(record.opener),
        "counterparty": record.counterparty,
        "counterparty_name": names.get(record.counterparty),
        "items_hash": "0x" + record.items_hash.hex(),
        "evidence_hash": "0x" + record.evidence_hash.hex(),
        "opened_at": _when(record.opened_at),
        "answered_at": _when(record.answered_at),
        "resolved_at": _when(record.resolved_at),
        "resolved_by": record.resolved_by.name if record.resolved_by else None,
    }


@exception_app.command("open")
def exception_open(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: FileArg,
    against: Annotated[str, typer.Option(help="the counterparty: a member name or its address")],
    session: MemberOpts,
    evidence: EvidenceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open an exception of KIND against a trading partner about the packs and SSCCs of FILE
    (the chain keeps the hash of their ids)."""
    chosen = choose(ExceptionKind, kind, "exception kind")
    batch = read_batch(file)
    ledger = member_ledger(session, batch)
    refs, ssccs = batch_refs(batch)
    counterparty = session.address_of(against, "--against")
    case_id, receipt = ledger.open_exception(
        counterparty, chosen, refs, ssccs, evidence_hash(evidence)
    )
    if as_json:
        typer.echo(json.dumps({"id": case_id, "tx": receipt.tx_hash.hex()}))
    else:
        typer.echo(f"exception {case_id} ({chosen.name}) opened against {against}")


@exception_app.command("answer")
def exception_answer(case_id: IdArg, session: MemberOpts, evidence: EvidenceOpt = None) -> None:
    """Answer exception ID opened against you (once)."""
    session.ledger.answer_exception(case_id, evidence_hash(evidence))
    typer.echo(f"exception {case_id} answered")


@exception_app.command("resolve")
def exception_resolve(
    case_id: IdArg, session: MemberOpts, evidence: EvidenceOpt = None, council: CouncilOpt = False
) -> None:
    """Resolve exception ID: you opened it (accepting the answer, or withdrawing it before
    one), or with --council the council closes it; a regulator asks for its closure, and a
    second regulator's resolve closes it."""
    ledger = session.ledger
    args = (case_id, evidence_hash(evidence))
    outcome = send_or_propose(ledger, ledger.exceptions, council, "resolveException", *args)
    closed = "" if outcome.startswith("closure") else " resolved"
    typer.echo(f"exception {case_id}{closed}: {outcome}")


@exception_app.command("show")
def exception_show(case_id: IdArg, session: ChainOpts, as_json: JsonOpt = False) -> None:
    """Show exception ID as the chain holds it."""
    w3, deployment = session.chain
    record = Ledger(w3, deployment).exception(case_id)
    if not record.status:
        raise InvalidInputError(f"there is no exception {case_id}")
    names = {address: name for name, address in session.names.items()}
    out = record_json(case_id, record, names)
    if as_json:
        typer.echo(json.dumps(out))
        return
    for key, value in out.items():
        if value is not None:
            typer.echo(f"{key}: {value}")
