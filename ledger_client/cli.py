"""The ``rxledger`` command line: lifecycle steps from files, verification, deployment.

Errors end in one line and exit 2 for bad input, 1 for a refusal (``cli_options``).
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from eth_account.signers.local import LocalAccount
from rich.progress import Progress
from web3.exceptions import Web3Exception

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
    RxTyper,
    StoreOpt,
    console,
    open_deployment,
    remember,
)
from ledger_client.code_files import CodeBatch, read_batch
from ledger_client.contracts import Deployment, MemberSpec, Role, deploy_network
from ledger_client.devnet import DEMO_MEMBERS
from ledger_client.epcis import operations as op
from ledger_client.epcis.record import member_gln, record
from ledger_client.errors import InvalidCodeError, InvalidInputError
from ledger_client.explain import code_map
from ledger_client.gs1 import PackCode, expiry_to_date, parse_code
from ledger_client.ids import lot_id, pack_id, unit_id
from ledger_client.inputs import account_from_key, parse_address, read_text, resolve_member
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason, LotStatus, Receipt

app = RxTyper(help="RxLedger: track and trace medicines on a shared ledger.", no_args_is_help=True)
lot_app = RxTyper(help="Register lots and change their status.", no_args_is_help=True)
app.add_typer(lot_app, name="lot")

FileArg = Annotated[
    Path,
    typer.Argument(
        help="codes: one a line, CSV (code, or gtin+serial[+lot,expiry], or sscc), "
        "JSON lines; - for stdin"
    ),
]
E = TypeVar("E", bound=enum.IntEnum)


def member_names(deployment: Deployment) -> dict[str, str]:
    """Member name -> address: the deployment file's, else the demo network's."""
    return dict(deployment.members) or {n: dev_account(n).address for n in DEMO_MEMBERS}


@dataclass
class Session:
    """The member acting and its connection, from the common options."""

    ledger: Ledger
    names: dict[str, str]

    @classmethod
    def open(cls, rpc: str, deployment: Path, member: str | None, key_file: Path | None) -> Session:
        """Pick the member key, connect and load the deployment."""
        account = _account(member, key_file)
        w3, dep = open_deployment(rpc, deployment)
        names = member_names(dep)
        remember(members={address: name for name, address in names.items()})
        return cls(Ledger(w3, dep, account), names)

    def member(self, text: str, what: str = "--to") -> str:
        """The address of a member given by name or address."""
        return resolve_member(text, self.names, what)


def _account(member: str | None, key_file: Path | None) -> LocalAccount:
    if key_file is not None:
        return account_from_key(read_text(key_file, "--key-file"), f"--key-file {key_file}")
    if os.environ.get("RXLEDGER_KEY"):
        return account_from_key(os.environ["RXLEDGER_KEY"], "RXLEDGER_KEY")
    if member is not None:
        if member not in DEMO_MEMBERS:
            raise InvalidInputError(
                f"--as {member!r} is not a demo member: one of {', '.join(DEMO_MEMBERS)}"
            )
        return dev_account(member)
    raise InvalidInputError(
        "say who acts: --key-file, RXLEDGER_KEY, or --as MEMBER on the demo network"
    )


def _choose(kind: type[E], text: str, what: str) -> E:
    """The member of ``kind`` named ``text`` (any case); NONE is never a choice."""
    choices = [m for m in kind if m.value]
    for choice in choices:
        if choice.name.lower() == text.lower():
            return choice
    names = ", ".join(c.name.lower() for c in choices)
    raise InvalidInputError(f"{what} {text!r} is unknown: one of {names}")


def _read(file: Path) -> CodeBatch:
    """Read ``file`` and let error messages name its codes."""
    batch = read_batch(file)
    remember(codes=batch.codes())
    return batch


def _pack_ids(batch: CodeBatch) -> list[bytes]:
    return [pack_id(p.gtin, p.serial) for p in batch.packs]


def _unit_ids(batch: CodeBatch) -> list[bytes]:
    return [unit_id(u.sscc) for u in batch.units]


def _only_packs(batch: CodeBatch, step: str) -> None:
    if batch.units:
        raise InvalidCodeError(
            f"{batch.source}: {step} takes packs only, not SSCC {batch.units[0].sscc}"
        )


def _in_chunks(
    ledger: Ledger, items: Sequence[bytes], label: str, send: Callable[[list[bytes]], list[Receipt]]
) -> list[Receipt]:
    receipts: list[Receipt] = []
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
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
    expiry_date = expiry_to_date(expiry)  # a precise error for a bad date, before anything is sent
    remember(codes=code_map(lots=[(gtin, lot)]))
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    eh = record(store_path, op.RegisterLot(gtin, lot, expiry_date))
    receipt = ledger.register_lot(gtin, lot, expiry, eh)
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
    new = _choose(LotStatus, status, "lot status")
    remember(codes=code_map(lots=[(gtin, lot)]))
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    ledger.set_lot_status(gtin, lot, new, record(store_path, op.SetLotStatus(gtin, lot, new)))
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
    batch = _read(file)
    _only_packs(batch, "commission")
    no_lot = next((p for p in batch.packs if p.lot is None), None)
    if no_lot is not None:
        raise InvalidCodeError(
            f"{batch.source}: commissioning needs each pack's lot (AI 10, or a lot column); "
            f"(01){no_lot.gtin}(21){no_lot.serial} has none"
        )
    unit = unit_id(into) if into else bytes(32)
    remember(codes=code_map(units=[into] if into else []))
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    groups: dict[tuple[str, str], list[str]] = {}
    for p in batch.packs:
        groups.setdefault((p.gtin, str(p.lot)), []).append(p.serial)
    receipts: list[Receipt] = []
    for (gtin, lot), serials in groups.items():
        lot_ref = lot_id(gtin, lot)
        eh = record(store_path, op.Commission(gtin, lot, tuple(serials), into))

        def send(chunk: list[bytes], lot_ref: bytes = lot_ref, eh: bytes = eh) -> list[Receipt]:
            return ledger.commission_ids(lot_ref, chunk, unit, eh)

        ids = [pack_id(gtin, s) for s in serials]
        receipts += _in_chunks(ledger, ids, f"commission {gtin}/{lot}", send)
    _report(receipts, len(batch.packs), as_json)


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
    remember(codes=code_map(units=[sscc]))
    batch = _read(file)
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    refs, ssccs = tuple((p.gtin, p.serial) for p in batch.packs), tuple(u.sscc for u in batch.units)
    receipt = ledger.pack(sscc, refs, ssccs, record(store_path, op.Pack(sscc, refs, ssccs)))
    typer.echo(
        f"packed {len(batch.packs)} packs and {len(batch.units)} units into {sscc} "
        f"({receipt.gas_used:,} gas)"
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
    remember(codes=code_map(units=ssccs))
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    for sscc in ssccs:
        ledger.unpack([sscc], record(store_path, op.Unpack(sscc, (), ())))
    typer.echo(f"unpacked {len(ssccs)} units")


@app.command()
def ship(
    file: FileArg,
    to: Annotated[
        str, typer.Option(help="recipient: a member name of the deployment, or its address")
    ],
    rpc: RpcOpt = DEFAULT_RPC,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    member: AsOpt = None,
    key_file: KeyOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
) -> None:
    """Ship the loose packs and SSCCs of FILE to another member."""
    batch = _read(file)
    session = Session.open(rpc, deployment, member, key_file)
    ledger, recipient = session.ledger, session.member(to)
    refs, ssccs = tuple((p.gtin, p.serial) for p in batch.packs), tuple(u.sscc for u in batch.units)
    to_gln, from_gln = member_gln(ledger, recipient), member_gln(ledger, ledger.address)
    eh = record(store_path, op.Ship(refs, ssccs, to_party=to_gln, from_party=from_gln))
    receipts = ledger.ship_ids(recipient, _pack_ids(batch), _unit_ids(batch), eh)
    _report(receipts, len(batch.packs) + len(batch.units), as_json)


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
    batch = _read(file)
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    refs, ssccs = tuple((p.gtin, p.serial) for p in batch.packs), tuple(u.sscc for u in batch.units)
    eh = record(store_path, op.Receive(refs, ssccs))
    receipts = ledger.receive_ids(_pack_ids(batch), _unit_ids(batch), eh)
    _report(receipts, len(batch.packs) + len(batch.units), as_json)


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
    why = _choose(DecommissionReason, reason, "--reason")
    batch = _read(file)
    _only_packs(batch, "decommission")
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    eh = record(store_path, op.Decommission(tuple((p.gtin, p.serial) for p in batch.packs), why))
    receipts = _in_chunks(
        ledger,
        _pack_ids(batch),
        f"decommission ({why.name})",
        lambda c: ledger.decommission_ids(c, why, eh),
    )
    _report(receipts, len(batch.packs), as_json)


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
    batch = _read(file)
    _only_packs(batch, "undo")
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    refs = tuple((p.gtin, p.serial) for p in batch.packs)
    eh = record(store_path, op.UndoDecommission(refs))
    receipts = ledger.undo_decommission_ids(_pack_ids(batch), eh)
    _report(receipts, len(batch.packs), as_json)


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
    scan = parse_code(code)
    if not isinstance(scan.code, PackCode):
        raise InvalidCodeError(f"{code!r} is not a pack code (GTIN + serial)")
    p = scan.code
    w3, dep = open_deployment(rpc, deployment)
    result = Ledger(w3, dep).verify(p.gtin, p.serial, p.lot, p.expiry_yymmdd)
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

council_app = RxTyper(help="Council proposals: the only way rules and membership change.")
app.add_typer(council_app, name="council")

from ledger_client.epcis.cli import epcis_app  # noqa: E402  (it imports Session lazily)

app.add_typer(epcis_app, name="epcis")

from ledger_client.audit.cli import audit_app, report_app  # noqa: E402

app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")


def _member_spec(m: Any, where: str) -> MemberSpec:
    if not isinstance(m, dict):
        raise InvalidInputError(f"{where}: expected a JSON object")
    missing = [k for k in ("name", "address", "gln", "roles", "licence_expiry") if k not in m]
    if missing:
        raise InvalidInputError(f"{where}: no {', '.join(missing)}")
    roles = Role(0)
    for name in m["roles"] if isinstance(m["roles"], list) else [m["roles"]]:
        if str(name).upper() not in Role.__members__:
            known = ", ".join(r.name or "" for r in Role)
            raise InvalidInputError(f"{where}: unknown role {name!r}: one of {known}")
        roles |= Role[str(name).upper()]
    try:
        return MemberSpec(
            str(m["name"]),
            parse_address(str(m["address"]), f"{where} address"),
            int(m["gln"]),
            roles,
            int(m["licence_expiry"]),
            tuple(str(p) for p in m.get("prefixes", ())),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{where}: {exc}") from None


def _member_specs(path: Path) -> list[MemberSpec]:
    """The bootstrap members of a members file, each checked; errors name the entry."""
    try:
        entries = json.loads(read_text(path, "members file"))
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(entries, list) or not entries:
        raise InvalidInputError(f"{path}: expected a JSON list of members")
    return [_member_spec(m, f"{path}: member {n}") for n, m in enumerate(entries, start=1)]


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
    specs = _member_specs(members)
    deployer = _account(None, key_file)
    dep = deploy_network(connect(rpc), deployer, specs, threshold)
    dep.save(deployment)
    typer.echo(f"deployed registry {dep.registry}; deployment written to {deployment}")


def _proposal_call(ledger: Ledger, function: str, values: list[Any]) -> str:
    """The encoded call of consortium ``function`` (one a proposal may run) with ``values``."""
    abi = {
        f["name"]: f
        for f in ledger.consortium.abi
        if f["type"] == "function" and f.get("stateMutability") == "nonpayable"
    }
    abi.pop("propose", None)
    abi.pop("approve", None)
    if function not in abi:
        raise InvalidInputError(
            f"{function!r} is not a change a proposal can make: one of {', '.join(sorted(abi))}"
        )
    params = ", ".join(f"{i['type']} {i['name']}" for i in abi[function]["inputs"])
    try:
        return str(ledger.consortium.encode_abi(function, args=values))
    except (Web3Exception, TypeError, ValueError, OverflowError):
        raise InvalidInputError(
            f"ARGS {json.dumps(values)} do not fit {function}({params})"
        ) from None


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
        values = json.loads(args)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"ARGS is not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(values, list):
        raise InvalidInputError(f"ARGS must be a JSON list, like '[\"0x...\", 1]', got {args}")
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    data = _proposal_call(ledger, function, values)
    receipt = ledger.transact(ledger.consortium.functions.propose(data))
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
    ledger = Session.open(rpc, deployment, member, key_file).ledger
    receipt = ledger.transact(ledger.consortium.functions.approve(proposal))
    executed = any(e.name == "ProposalExecuted" for e in receipt.events)
    typer.echo(f"proposal {proposal} approved{'; executed' if executed else ''}")


if __name__ == "__main__":
    main()
