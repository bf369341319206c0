"""The ``rxledger`` command line: lifecycle steps from files, verification, deployment."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.progress import Progress

from ledger_client.chain import connect, dev_account
from ledger_client.cli_options import (
    DEFAULT_DEPLOYMENT,
    DEFAULT_RPC,
    DEFAULT_STORE,
    AsOpt,
    DeploymentOpt,
    JsonOpt,
    KeyOpt,
    RpcOpt,
    StoreOpt,
    console,
    fail,
)
from ledger_client.contracts import Deployment
from ledger_client.devnet import DEMO_MEMBERS
from ledger_client.epcis import operations as op
from ledger_client.epcis.record import member_gln, record
from ledger_client.errors import ConfigurationError, InvalidCodeError, RxLedgerError
from ledger_client.gs1 import PackCode, UnitCode, expiry_to_date, parse_code
from ledger_client.ids import lot_id, pack_id, unit_id
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason, LotStatus, Receipt

app = typer.Typer(
    help="RxLedger: track and trace medicines on a shared ledger.", no_args_is_help=True
)
lot_app = typer.Typer(help="Register lots and change their status.", no_args_is_help=True)
app.add_typer(lot_app, name="lot")

FileArg = Annotated[Path, typer.Argument(help="CSV or JSON lines of GS1 codes, or - for stdin")]


@dataclass
class Session:
    """The member acting and its connection, from the common options."""

    ledger: Ledger

    @classmethod
    def open(cls, rpc: str, deployment: Path, member: str | None, key_file: Path | None) -> Session:
        """Connect, load the deployment, and pick the member key."""
        w3 = connect(rpc)
        dep = Deployment.load(deployment)
        return cls(Ledger(w3, dep, _account(member, key_file)))


def _account(member: str | None, key_file: Path | None) -> LocalAccount:
    if key_file is not None:
        return Account.from_key(key_file.read_text().strip())
    if os.environ.get("RXLEDGER_KEY"):
        return Account.from_key(os.environ["RXLEDGER_KEY"])
    if member is not None:
        if member not in DEMO_MEMBERS:
            raise ConfigurationError(
                f"unknown demo member {member!r}; one of {', '.join(DEMO_MEMBERS)}"
            )
        return dev_account(member)
    raise ConfigurationError(
        "say who acts: --key-file, RXLEDGER_KEY, or --as MEMBER on the demo network"
    )


def read_codes(path: Path) -> Iterator[str]:
    """Yield the GS1 codes of a file: JSON lines (``{"code": ...}``), CSV (a ``code`` column
    or the first column), or one code a line."""
    text = typer.get_text_stream("stdin").read() if str(path) == "-" else path.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].lstrip().startswith("{"):
        for line in lines:
            yield str(json.loads(line)["code"])
        return
    if path.suffix == ".csv":
        rows = list(csv.reader(lines))
        column = rows[0].index("code") if rows and "code" in rows[0] else 0
        for row in rows[1:] if rows and "code" in rows[0] else rows:
            yield row[column]
        return
    yield from (line.strip() for line in lines)


def parse_items(path: Path) -> tuple[list[PackCode], list[UnitCode]]:
    """Parse every code of ``path`` into packs and logistic units; raise on the first bad one."""
    packs: list[PackCode] = []
    units: list[UnitCode] = []
    for line_no, text in enumerate(read_codes(path), start=1):
        try:
            code = parse_code(text).code
        except InvalidCodeError as exc:
            raise InvalidCodeError(f"{path}:{line_no}: {exc}") from None
        if isinstance(code, PackCode):
            packs.append(code)
        elif isinstance(code, UnitCode):
            units.append(code)
        else:
            raise InvalidCodeError(f"{path}:{line_no}: {text!r} names neither a pack nor an SSCC")
    return packs, units


def _in_chunks(
    ledger: Ledger, items: Sequence[bytes], label: str, send: Callable[[list[bytes]], list[Receipt]]
) -> list[Receipt]:
    receipts: list[Receipt] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=len(items))
        for start in range(0, len(items), ledger.batch_size):
            chunk = list(items[start : start + ledger.batch_size])
            receipts += send(chunk)
            progress.advance(task, len(chunk))
    return receipts


def _report(receipts: list[Receipt], items: int, as_json: bool) -> None:
    summary: dict[str, Any] = {
        "items": items,
        "transactions": [r.tx_hash.hex() for r in receipts],
        "gas_used": sum(r.gas_used for r in receipts),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(f"{items} items in {len(receipts)} transactions, {summary['gas_used']:,} gas")


def _member_address(who: str) -> str:
    return dev_account(who).address if who in DEMO_MEMBERS else who


# ------------------------------------------------------------------ lifecycle commands


@lot_app.command("register")
def lot_register(
    gtin: str,
    lot: str,
    expiry: Annotated[str, typer.Argument(help="YYMMDD, day 00 = month end")],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
) -> None:
    """Register a lot of a product with its expiry."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        eh = record(store_path, op.RegisterLot(gtin, lot, expiry_to_date(expiry)))
        receipt = ledger.register_lot(gtin, lot, expiry, eh)
    except RxLedgerError as exc:
        raise fail(exc) from None
    typer.echo(f"lot {lot} of {gtin} registered in block {receipt.block_number}")


@lot_app.command("status")
def lot_status(
    gtin: str,
    lot: str,
    status: Annotated[str, typer.Argument(help="active, quarantined or recalled")],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
) -> None:
    """Quarantine, recall or release a lot (its owner or a regulator)."""
    try:
        new = LotStatus[status.upper()]
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        ledger.set_lot_status(gtin, lot, new, record(store_path, op.SetLotStatus(gtin, lot, new)))
    except KeyError:
        raise fail(ConfigurationError(f"unknown lot status {status!r}")) from None
    except RxLedgerError as exc:
        raise fail(exc) from None
    typer.echo(f"lot {lot} of {gtin} is now {new.name}")


@app.command()
def commission(
    file: FileArg,
    into: Annotated[str | None, typer.Option(help="SSCC of the case to commission into")] = None,
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
) -> None:
    """Commission the packs of FILE (codes with GTIN, serial and lot); lots must be registered."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        packs, units = parse_items(file)
        if units or any(p.lot is None for p in packs):
            raise InvalidCodeError("commissioning needs pack codes with a lot (AI 10)")
        receipts: list[Receipt] = []
        groups: dict[tuple[str, str], list[str]] = {}
        for p in packs:
            groups.setdefault((p.gtin, str(p.lot)), []).append(p.serial)
        unit = unit_id(into) if into else bytes(32)
        for (gtin, lot), serials in groups.items():
            lot_ref = lot_id(gtin, lot)
            eh = record(store_path, op.Commission(gtin, lot, tuple(serials), into))

            def send(chunk: list[bytes], lot_ref: bytes = lot_ref, eh: bytes = eh) -> list[Receipt]:
                return ledger.commission_ids(lot_ref, chunk, unit, eh)

            ids = [pack_id(gtin, s) for s in serials]
            receipts += _in_chunks(ledger, ids, f"commission {gtin}/{lot}", send)
    except RxLedgerError as exc:
        raise fail(exc) from None
    _report(receipts, len(packs), as_json)


@app.command()
def pack(
    sscc: str,
    file: FileArg,
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
) -> None:
    """Pack the packs and SSCCs of FILE into case or pallet SSCC."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        packs, units = parse_items(file)
        refs, ssccs = tuple((p.gtin, p.serial) for p in packs), tuple(u.sscc for u in units)
        receipt = ledger.pack(sscc, refs, ssccs, record(store_path, op.Pack(sscc, refs, ssccs)))
    except RxLedgerError as exc:
        raise fail(exc) from None
    typer.echo(
        f"packed {len(packs)} packs and {len(units)} units into {sscc} ({receipt.gas_used:,} gas)"
    )


@app.command()
def unpack(
    ssccs: Annotated[list[str], typer.Argument(help="SSCCs to unpack whole")],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
) -> None:
    """Unpack whole cases or pallets, one transaction each; their contents stay with you."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        for sscc in ssccs:
            ledger.unpack([sscc], record(store_path, op.Unpack(sscc, (), ())))
    except RxLedgerError as exc:
        raise fail(exc) from None
    typer.echo(f"unpacked {len(ssccs)} units")


@app.command()
def ship(
    file: FileArg,
    to: Annotated[str, typer.Option(help="member address, or demo member name")],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
) -> None:
    """Ship the loose packs and SSCCs of FILE to another member."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        packs, units = parse_items(file)
        recipient = _member_address(to)
        refs, ssccs = tuple((p.gtin, p.serial) for p in packs), tuple(u.sscc for u in units)
        to_gln, from_gln = member_gln(ledger, recipient), member_gln(ledger, ledger.address)
        eh = record(store_path, op.Ship(refs, ssccs, to_party=to_gln, from_party=from_gln))
        receipts = ledger.ship(recipient, refs, ssccs, eh)
    except RxLedgerError as exc:
        raise fail(exc) from None
    _report(receipts, len(packs) + len(units), as_json)


@app.command("receive")
def receive_cmd(
    file: FileArg,
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
) -> None:
    """Receive the packs and SSCCs of FILE shipped to you."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        packs, units = parse_items(file)
        refs, ssccs = tuple((p.gtin, p.serial) for p in packs), tuple(u.sscc for u in units)
        receipts = ledger.receive(refs, ssccs, record(store_path, op.Receive(refs, ssccs)))
    except RxLedgerError as exc:
        raise fail(exc) from None
    _report(receipts, len(packs) + len(units), as_json)


@app.command()
def decommission(
    file: FileArg,
    reason: Annotated[
        str,
        typer.Option(help="dispensed, destroyed, sample, free_sample, exported, stolen, locked"),
    ],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
) -> None:
    """Decommission the packs of FILE."""
    try:
        why = DecommissionReason[reason.upper()]
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        packs, _ = parse_items(file)
        ids = [pack_id(p.gtin, p.serial) for p in packs]
        eh = record(store_path, op.Decommission(tuple((p.gtin, p.serial) for p in packs), why))
        receipts = _in_chunks(
            ledger, ids, f"decommission ({why.name})", lambda c: ledger.decommission_ids(c, why, eh)
        )
    except KeyError:
        raise fail(ConfigurationError(f"unknown reason {reason!r}")) from None
    except RxLedgerError as exc:
        raise fail(exc) from None
    _report(receipts, len(packs), as_json)


@app.command()
def undo(
    file: FileArg,
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
) -> None:
    """Undo your decommissions of the packs of FILE, within the undo window."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        packs, _ = parse_items(file)
        refs = tuple((p.gtin, p.serial) for p in packs)
        receipts = ledger.undo_decommission(refs, record(store_path, op.UndoDecommission(refs)))
    except RxLedgerError as exc:
        raise fail(exc) from None
    _report(receipts, len(packs), as_json)


@app.command()
def verify(
    code: Annotated[
        str, typer.Argument(help="GS1 element string, DataMatrix text or Digital Link URI")
    ],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    as_json: JsonOpt = False,
) -> None:
    """Verify a pack: is it genuine, saleable, or why not. Exit 0 only when VERIFIED."""
    try:
        scan = parse_code(code)
        if not isinstance(scan.code, PackCode):
            raise InvalidCodeError(f"{code!r} is not a pack code (GTIN + serial)")
        p = scan.code
        w3 = connect(rpc)
        dep = Deployment.load(deployment)
        result = Ledger(w3, dep).verify(p.gtin, p.serial, p.lot, p.expiry_yymmdd)
    except RxLedgerError as exc:
        raise fail(exc) from None
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


def main() -> None:
    """Entry point of the ``rxledger`` console script."""
    app()


# ------------------------------------------------------------------ network and governance

council_app = typer.Typer(help="Council proposals: the only way rules and membership change.")
app.add_typer(council_app, name="council")

from ledger_client.epcis.cli import epcis_app  # noqa: E402  (it imports Session lazily)

app.add_typer(epcis_app, name="epcis")

from ledger_client.audit.cli import audit_app, report_app  # noqa: E402

app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")


@app.command()
def deploy(
    members: Annotated[Path, typer.Argument(help="JSON list of bootstrap members")],
    threshold: Annotated[int, typer.Option(help="approvals a proposal needs (at least 2)")] = 2,
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    key_file: KeyOpt = None,
) -> None:
    """Deploy a network's contracts with its bootstrap members; write the deployment file.

    Each member: {"name", "address", "gln", "roles": ["MANUFACTURER", "COUNCIL", ...],
    "licence_expiry": unix time, "prefixes": ["0614141", ...]}.
    """
    from ledger_client.contracts import MemberSpec, Role, deploy_network

    try:
        specs = [
            MemberSpec(
                m["name"],
                m["address"],
                int(m["gln"]),
                Role(sum(Role[r].value for r in m["roles"])),
                int(m["licence_expiry"]),
                tuple(m.get("prefixes", ())),
            )
            for m in json.loads(members.read_text())
        ]
        dep = deploy_network(connect(rpc), _account(None, key_file), specs, threshold)
    except (KeyError, ValueError) as exc:
        raise fail(ConfigurationError(f"{members}: bad member entry: {exc}")) from None
    except RxLedgerError as exc:
        raise fail(exc) from None
    dep.save(deployment)
    typer.echo(f"deployed registry {dep.registry}; deployment written to {deployment}")


@council_app.command("propose")
def council_propose(
    function: Annotated[str, typer.Argument(help="e.g. addMember, setMemberStatus, assignPrefix")],
    args: Annotated[str, typer.Argument(help="JSON list of the function's arguments")],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
) -> None:
    """Propose a change (a call on the consortium) and approve it as its proposer."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        data = ledger.consortium.encode_abi(function, args=json.loads(args))
        receipt = ledger.transact(ledger.consortium.functions.propose(data))
    except (ValueError, TypeError) as exc:
        raise fail(ConfigurationError(f"cannot encode {function}({args}): {exc}")) from None
    except RxLedgerError as exc:
        raise fail(exc) from None
    created = next(e for e in receipt.events if e.name == "ProposalCreated")
    typer.echo(f"proposal {created.args['id']} created; it needs more council approvals")


@council_app.command("approve")
def council_approve(
    proposal: int,
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
) -> None:
    """Approve a proposal; it runs when the approvals reach the threshold."""
    try:
        ledger = Session.open(rpc, deployment, member, key_file).ledger
        receipt = ledger.transact(ledger.consortium.functions.approve(proposal))
    except RxLedgerError as exc:
        raise fail(exc) from None
    executed = any(e.name == "ProposalExecuted" for e in receipt.events)
    typer.echo(f"proposal {proposal} approved{'; executed' if executed else ''}")
