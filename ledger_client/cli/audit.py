"""``rxledger audit ...`` and ``rxledger report ...``: the auditor's commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from web3 import Web3

from ledger_client.audit.alerts import expiring, shortage
from ledger_client.audit.anomalies import detect
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.deadlines import DEFAULT_ANSWER_DAYS, BusinessCalendar, parse_holidays
from ledger_client.audit.exception_report import (
    exception_rows,
    partner_report,
    report_csv,
    summary_csv,
)
from ledger_client.audit.gateway_scans import collect_scans
from ledger_client.audit.history import custody_chain, lot_trace
from ledger_client.audit.investigations import investigation_rows, notification_3911
from ledger_client.audit.logs import export_logs, load_logs
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.replay import ReplayResult, audit
from ledger_client.audit.reports import fmd_alert, transaction_history, write_report
from ledger_client.audit.scans import read_scans
from ledger_client.audit.scans_cursor import ScansCursor, append_scans, load_cursor
from ledger_client.chain import connect
from ledger_client.cli.command import RxTyper
from ledger_client.cli.options import JsonOpt
from ledger_client.cli.session import ChainOpts, MemberOpts, MemberStoreOpts, Session, StoreOpts
from ledger_client.contracts import Deployment
from ledger_client.epcis.store import EventStore
from ledger_client.errors import InvalidInputError, RxLedgerError
from ledger_client.explain import lot_label, pack_label
from ledger_client.inputs import parse_time, resolve_member
from ledger_client.logs import fetch_logs

audit_app = RxTyper(
    help="Replay and check the on-chain history; trace custody and lots.", no_args_is_help=True
)
report_app = RxTyper(
    help="Write regulators' reports (FDA 3911, DSCSA history, EU FMD alert).", no_args_is_help=True
)

LogFile = Annotated[
    Path | None, typer.Option("--log-file", help="Replay this exported log file offline.")
]
CatalogueFile = Annotated[
    Path | None,
    typer.Option("--catalogue", help="Master data JSON (clear ids, products, members)."),
]
Out = Annotated[Path, typer.Option("--out", help="Report file: .json or .html.")]
At = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="TIME",
        help=(
            "Report as at TIME: the history up to TIME, and TIME as the report's now (ISO 8601,"
            " UTC unless it gives an offset, or Unix seconds; default: the last block read)."
        ),
    ),
]
Scans = Annotated[
    Path | None, typer.Option("--scans", help="Off-chain verification records (JSON lines).")
]


def _load(
    session: Session, log_file: Path | None, compare: bool = True, at: str | None = None
) -> tuple[ReplayResult, Web3 | None, Deployment]:
    """Replay from ``log_file`` (comparing with the chain if one answers) or from the chain;
    as at time ``at`` (``--at``: the history up to then), else as at the last block read
    (``result.as_of`` says which time)."""
    until = None if at is None else parse_time(at, "--at")
    w3: Web3 | None
    if log_file is not None:
        try:
            w3 = connect(session.rpc) if compare else None
        except RxLedgerError:
            w3 = None  # offline audit: replay only
        result = audit(w3, log_file=log_file, compare=compare, until=until)
        dep = Deployment.load(session.deployment) if session.deployment.is_file() else None
        dep = dep or load_logs(log_file).deployment
    else:
        w3, dep = session.chain
        result = audit(w3, dep, compare=compare, until=until)
    return result, w3, dep


def _member(text: str | None, dep: Deployment, what: str) -> str | None:
    """The address of a member given by name or address (None stays None)."""
    return None if text is None else resolve_member(text, dep.members, what)


def _catalogue(
    path: Path | None,
    w3: Web3 | None,
    dep: Deployment,
    gtins: list[str],
    store: tuple[Path, RegistryModel] | None = None,
) -> Catalogue:
    """The catalogue of ``path``, with the deployment's members, the directory's entries of
    ``gtins``, and the clear codes and members' location time zones of an owner's EPCIS
    ``store`` (its ids under the prefix owners of the replayed ``model``)."""
    cat = Catalogue.load(path) if path is not None else Catalogue()
    cat.add_members(dep)
    if w3 is not None:
        cat.add_directory(w3, dep, [g for g in gtins if g not in cat.products])
    if store is not None and store[0].is_file():
        with EventStore(store[0]) as events:
            cat.add_store(events, store[1])
            cat.add_locations(events, store[1])
    return cat


def _reporter(text: str | None, session: Session, dep: Deployment) -> str:
    """The reporting member: ``--reporter`` (a name or address), else the member acting
    (``--as``, ``--key-file``, ``RXLEDGER_KEY``)."""
    if text is not None:
        return resolve_member(text, dep.members, "--reporter")
    return str(session.account.address)


def _print_trace(
    trace: Callable[[RegistryModel, bytes], dict[str, Any]],
    key: Callable[[RegistryModel], bytes],
    label: str,
    session: Session,
    log_file: Path | None,
    at: str | None,
) -> None:
    """Print ``trace`` of the id ``key`` finds in the replayed history as at ``at`` (that of
    the genuine record, under the prefix owner) as JSON; ``label`` names it if absent."""
    result, _, _ = _load(session, log_file, compare=False, at=at)
    try:
        typer.echo(json.dumps(trace(result.model, key(result.model)), indent=2))
    except KeyError:
        raise InvalidInputError(f"{label} is not in the replayed history") from None


@audit_app.command("replay")
def replay_cmd(
    session: ChainOpts,
    log_file: LogFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    compare: Annotated[
        bool, typer.Option(help="Compare the model with the contracts' state.")
    ] = True,
) -> None:
    """Replay every event into an independent model and compare it with the contracts."""
    result, _, _ = _load(session, log_file, compare)
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"{summary['events']} events, {summary['packs']} packs, {summary['units']} units, "
            f"{summary['lots']} lots replayed at {summary['events_per_second']} events/s "
            f"({summary['pack_operations_per_second']} pack operations/s)"
        )
        typer.echo(f"divergences: {summary['divergences']}")
        for d in summary["findings"]:
            typer.echo(f"  {d['kind']} {d['subject']}: {json.dumps(d['fields'])}")
    if summary["divergences"]:
        raise typer.Exit(1)


@audit_app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="JSON-lines file to write.")],
    session: ChainOpts,
) -> None:
    """Export every RxLedger log of the deployment to a JSON-lines file for offline audit."""
    w3, dep = session.chain
    block = w3.eth.block_number
    n = export_logs(fetch_logs(w3, dep, to_block=block), dep, out, block)
    typer.echo(f"{n} logs up to block {block} written to {out}")


@audit_app.command("custody")
def custody_cmd(
    gtin: Annotated[str, typer.Option(help="GTIN-14 of the pack.")],
    serial: Annotated[str, typer.Option(help="Serial number of the pack.")],
    session: ChainOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Print a pack's custody chain as JSON: holders, times, transactions, EPCIS event hashes."""
    label = pack_label(gtin, serial)
    _print_trace(custody_chain, lambda m: m.pack_id(gtin, serial), label, session, log_file, at)


@audit_app.command("lot-trace")
def lot_trace_cmd(
    gtin: Annotated[str, typer.Option(help="GTIN-14 of the lot.")],
    lot: Annotated[str, typer.Option(help="Lot number.")],
    session: ChainOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Print every holder of a lot and how many packs each holds (for a recall)."""
    label = lot_label(gtin, lot)
    _print_trace(lot_trace, lambda m: m.lot_id(gtin, lot), label, session, log_file, at)


@audit_app.command("expiry")
def expiry_cmd(
    days: Annotated[int, typer.Option(help="Horizon in days.")] = 90,
    member: Annotated[
        str | None, typer.Option(help="Only this member's custody (member name or address).")
    ] = None,
    *,
    session: ChainOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """List packs held per member whose lot expires within DAYS of the report's time."""
    result, _, dep = _load(session, log_file, compare=False, at=at)
    m = _member(member, dep, "--member")
    say = _catalogue(None, None, dep, []).describer(result.model)
    typer.echo(json.dumps(expiring(result.model, result.as_of, days, m, say), indent=2))


@audit_app.command("anomalies")
def anomalies_cmd(
    scans: Scans = None,
    catalogue: CatalogueFile = None,
    *,
    session: ChainOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Print every anomaly finding as JSON: what, why, the threshold crossed, evidence
    (transactions and scans), model inputs, severity; members named, times local."""
    result, w3, dep = _load(session, log_file, compare=False, at=at)
    cat = _catalogue(catalogue, w3, dep, [])
    records = read_scans(scans) if scans is not None else []
    findings = detect(result.model, cat, records, now=result.as_of)
    typer.echo(json.dumps([f.as_dict() for f in findings], indent=2, default=str))


@audit_app.command("scans")
def scans_cmd(
    out: Annotated[Path, typer.Option("--out", help="JSON-lines file of scans to write.")],
    session: MemberOpts,
    append: Annotated[
        bool,
        typer.Option(
            "--append",
            help="Add only the scans taken since the last run (its cursor: FILE.cursor.json).",
        ),
    ] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each gateway")] = 10.0,
    json_out: JsonOpt = False,
) -> None:
    """Gather the verifications every member's gateway answered (a regulator's, or an
    operator's own) into one scans file for `audit anomalies --scans`: a clone scanned at one
    gateway and its original at another are found only from both. Each gateway is named with
    what it gave; exit 1 when one was unreachable, refused or gave no scans page. The file's
    cursor (FILE.cursor.json) says where each gateway stopped: with --append, each is asked
    only for the scans after it, and a run cut short is taken again without writing a scan
    twice."""
    w3, deployment = session.chain
    last = load_cursor(out) if append else ScansCursor()
    got = collect_scans(w3, deployment, session.account, after=last.after, timeout=timeout)
    append_scans(out, got.records, last, {**last.after, **got.after})
    n = len(got.records)
    done = "appended to" if append else "written to"
    if json_out:
        sources = [{**vars(s), "failed": s.failed} for s in got.sources]
        report = {"out": str(out), "scans": n, "appended": append, "gateways": sources}
        typer.echo(json.dumps(report, indent=2))
    else:
        for s in got.sources:
            said = f" ({s.detail})" if s.detail else ""
            typer.echo(f"{s.member} {s.url or '-'}: {s.status}, {s.scans} scans{said}")
        typer.echo(f"{n} scans {done} {out}")
    if got.failed:
        raise typer.Exit(1)


@audit_app.command("shortage")
def shortage_cmd(
    catalogue: Annotated[Path, typer.Option(help="Master data JSON: which GTIN each pack is.")],
    threshold_days: Annotated[float, typer.Option(help="Alert below this days of supply.")] = 7.0,
    window_days: Annotated[int, typer.Option(help="Dispense-rate window in days.")] = 30,
    all_rows: Annotated[bool, typer.Option("--all", help="Also rows above the threshold.")] = False,
    *,
    session: ChainOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Print days of supply (stock held and in transit to the member) per member and GTIN;
    alerts list who else holds stock, wholesalers first, then makers, then other dispensers."""
    result, w3, dep = _load(session, log_file, compare=False, at=at)
    cat = _catalogue(catalogue, w3, dep, [])
    signals = shortage(result.model, cat, result.as_of, window_days, threshold_days, not all_rows)
    typer.echo(json.dumps([s.as_dict() for s in signals], indent=2))


BusinessDays = Annotated[
    int,
    typer.Option(
        "--business-days", min=1, max=365, help="Business days the counterparty has to answer."
    ),
]
Holidays = Annotated[
    list[str] | None,
    typer.Option("--holiday", metavar="YYYY-MM-DD", help="A holiday (repeat): not a business day."),
]


def _exception_rows(
    session: StoreOpts,
    log_file: Path | None,
    at: str | None,
    catalogue: Path | None,
    days: int,
    holidays: list[str] | None,
) -> tuple[list[dict[str, Any]], RegistryModel, Catalogue, Deployment]:
    """The exception rows of the history as at ``at``, deadlines counted in the
    counterparties' time zones from the catalogue and the member's EPCIS store."""
    calendar = BusinessCalendar(days, parse_holidays(holidays or []))
    result, w3, dep = _load(session, log_file, compare=False, at=at)
    cat = _catalogue(catalogue, w3, dep, [], (session.store, result.model))
    say = cat.describer(result.model)
    return exception_rows(result.model, say, calendar, result.as_of), result.model, cat, dep


@audit_app.command("exceptions")
def exceptions_cmd(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only the exceptions not answered in time.")
    ] = False,
    days: BusinessDays = DEFAULT_ANSWER_DAYS,
    holiday: Holidays = None,
    catalogue: CatalogueFile = None,
    *,
    session: StoreOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Print every exception between trading partners as JSON with its answer deadline
    (business days, in the counterparty's time zone, weekends and --holiday skipped): due
    time, overdue (OPEN and past it), age, how long it took to answer and resolve, evidence."""
    rows, _, _, _ = _exception_rows(session, log_file, at, catalogue, days, holiday)
    if overdue:
        rows = [r for r in rows if r["answer_overdue"]]
    typer.echo(json.dumps(rows, indent=2))


@audit_app.command("investigations")
def investigations_cmd(
    catalogue: CatalogueFile = None,
    *,
    session: StoreOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Print every illegitimacy determination on chain as JSON: when and by whom (the flag's
    transaction), its packs, the 3911-style notification's due time (24 hours later) and
    whether it is overdue (still open past it), and when the investigation closed."""
    result, w3, dep = _load(session, log_file, compare=False, at=at)
    cat = _catalogue(catalogue, w3, dep, [], (session.store, result.model))
    typer.echo(json.dumps(investigation_rows(result.model, cat, result.as_of), indent=2))


@audit_app.command("exception-report")
def exception_report_cmd(
    report_format: Annotated[
        str, typer.Option("--format", help="json or csv (one line per partner and exception).")
    ] = "json",
    partner: Annotated[
        str | None, typer.Option(help="Only this trading partner (member name or address).")
    ] = None,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary", help="CSV: one line per partner and kind (open by age, time to resolve)."
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout).")
    ] = None,
    days: BusinessDays = DEFAULT_ANSWER_DAYS,
    holiday: Holidays = None,
    catalogue: CatalogueFile = None,
    *,
    session: StoreOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Per trading partner: its open and closed exceptions by kind and age band, how long
    they took to resolve, and each exception with its age and how long it took to answer and
    to resolve (business days and hours), and its evidence (the exception id, each step's
    transaction, the evidence hashes)."""
    if report_format not in ("json", "csv"):
        raise InvalidInputError(f"--format must be json or csv, got {report_format!r}")
    if summary and report_format != "csv":
        raise InvalidInputError("--summary is a CSV layout: give --format csv with it")
    rows, model, cat, dep = _exception_rows(session, log_file, at, catalogue, days, holiday)
    who = _member(partner, dep, "--partner")
    report = partner_report(rows, cat.describer(model), who)
    if report_format == "json":
        text = json.dumps(report, indent=2) + "\n"
    else:
        text = summary_csv(report) if summary else report_csv(report)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        typer.echo(f"report written to {out}")


def _write(report: dict[str, Any], out: Path) -> None:
    write_report(report, out)
    typer.echo(f"report written to {out}")


@report_app.command("3911")
def report_3911(
    gtin: Annotated[str, typer.Option(help="GTIN-14 of the packs.")],
    serial: Annotated[list[str], typer.Option(help="Serial number (repeat for several packs).")],
    classification: Annotated[str, typer.Option(help="COUNTERFEIT, DIVERTED, STOLEN, ...")],
    description: Annotated[str, typer.Option(help="What was found.")],
    out: Out,
    lot: Annotated[
        str | None, typer.Option(help="Lot number, when the catalogue lacks it.")
    ] = None,
    report_type: Annotated[
        str, typer.Option("--type", help="INITIAL, FOLLOW_UP, REQUEST_FOR_TERMINATION")
    ] = "INITIAL",
    reporter: Annotated[
        str | None,
        typer.Option(help="Reporting member, a name or address (default: the member acting)."),
    ] = None,
    catalogue: CatalogueFile = None,
    scans: Scans = None,
    *,
    session: MemberStoreOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Write an FDA Form 3911-style illegitimate-product notification, reported by the member
    acting (``--as``, ``--key-file``, ``RXLEDGER_KEY``) or ``--reporter``, with the anomaly
    findings about its packs and the scans that show where and when each was seen, and the
    investigation's clock: the illegitimacy determination on chain, the notification's due
    time (24 hours after it) and whether it is late as at the report's time; with --type
    REQUEST_FOR_TERMINATION, the events that closed the investigation (the flag cleared)."""
    result, w3, dep = _load(session, log_file, compare=False, at=at)
    by = _reporter(reporter, session, dep)
    cat = _catalogue(catalogue, w3, dep, [gtin], (session.store, result.model))
    if lot:
        cat.add_lot(gtin, lot, owner=result.model.owner_index(gtin))
    records = read_scans(scans) if scans is not None else []
    rep = notification_3911(
        result.model,
        cat,
        [(gtin, s) for s in serial],
        classification,
        description,
        result.as_of,
        report_type,
        by,
        detect(result.model, cat, records, now=result.as_of),
    )
    _write(rep, out)


@report_app.command("history")
def report_history(
    out: Out,
    gtin: Annotated[str | None, typer.Option(help="GTIN-14 of the lot.")] = None,
    lot: Annotated[str | None, typer.Option(help="Lot number.")] = None,
    tx: Annotated[
        str | None, typer.Option(help="A shipment's transaction hash instead of a lot.")
    ] = None,
    catalogue: CatalogueFile = None,
    *,
    session: StoreOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Write a DSCSA-style transaction history for a lot (--gtin --lot) or a shipment (--tx).
    A lot registered under another company's prefix is found too, and the report says so."""
    if (tx is None) == (gtin is None or lot is None):
        raise InvalidInputError("give --gtin and --lot, or --tx")
    tx_hash = _tx_hash(tx) if tx is not None else None
    result, w3, dep = _load(session, log_file, compare=False, at=at)
    cat = _catalogue(catalogue, w3, dep, [gtin] if gtin else [], (session.store, result.model))
    if tx_hash is not None:
        rep = transaction_history(result.model, cat, tx=tx_hash)
    else:
        assert gtin is not None and lot is not None
        rep = transaction_history(result.model, cat, lid=_lot_of(result.model, cat, gtin, lot))
    _write(rep, out)


def _lot_of(model: RegistryModel, cat: Catalogue, gtin: str, lot: str) -> bytes:
    """The id of lot ``lot`` of ``gtin`` in the history: the genuine one (under the GTIN's
    prefix owner), else the one a member registered under another company's prefix."""
    found = model.lots_of_code(gtin, lot)
    if not found:
        raise InvalidInputError(f"{lot_label(gtin, lot)} is not in the replayed history")
    if len(found) > 1 and found[0] != model.lot_id(gtin, lot):
        raise InvalidInputError(
            f"{lot_label(gtin, lot)} was registered by {len(found)} members, none of them "
            "the prefix owner: give the shipment with --tx"
        )
    cat.lots.setdefault(found[0], (gtin, lot))
    return found[0]


def _tx_hash(text: str) -> bytes:
    digits = text.removeprefix("0x")
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise InvalidInputError(f"--tx {text!r} is not a transaction hash: 0x and 64 hex digits")
    return bytes.fromhex(digits)


@report_app.command("fmd-alert")
def report_fmd(
    gtin: Annotated[str, typer.Option(help="GTIN-14 scanned.")],
    serial: Annotated[str, typer.Option(help="Serial number scanned.")],
    alert: Annotated[str, typer.Option(help="ALREADY_DECOMMISSIONED, BATCH_MISMATCH, ...")],
    location: Annotated[
        str, typer.Option(help="Member where the pack was scanned (member name or address).")
    ],
    out: Out,
    lot: Annotated[str | None, typer.Option(help="Lot number scanned.")] = None,
    expiry: Annotated[str | None, typer.Option(help="Expiry scanned (YYMMDD).")] = None,
    catalogue: CatalogueFile = None,
    *,
    session: StoreOpts,
    log_file: LogFile = None,
    at: At = None,
) -> None:
    """Write an EU FMD-style alert report for a scanned pack, raised at the report's time."""
    result, w3, dep = _load(session, log_file, compare=False, at=at)
    cat = _catalogue(catalogue, w3, dep, [gtin], (session.store, result.model))
    scanned = {"gtin": gtin, "serial": serial, "lot": lot, "expiry": expiry}
    rep = fmd_alert(
        result.model,
        cat,
        gtin,
        serial,
        alert,
        resolve_member(location, dep.members, "--location"),
        scanned,
        result.as_of,
    )
    _write(rep, out)
