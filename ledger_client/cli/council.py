"""``rxledger deploy`` and ``rxledger council ...``: a network's start and its governance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from web3.contract import Contract
from web3.exceptions import Web3Exception

from ledger_client.chain import connect
from ledger_client.cli.command import RxTyper
from ledger_client.cli.session import ChainOpts, DeployerOpts, MemberOpts, Session
from ledger_client.contracts import MemberSpec, Role, deploy_network
from ledger_client.errors import InvalidInputError
from ledger_client.events import ProposalCreated, ProposalExecuted
from ledger_client.inputs import load_json, parse_address, read_text
from ledger_client.ledger import Ledger

__all__ = ["council_app", "deploy_app"]

deploy_app = RxTyper()
council_app = RxTyper(help="Council proposals: the only way rules and membership change.")


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


@deploy_app.command()
def deploy(
    members: Annotated[Path, typer.Argument(help="JSON list of bootstrap members")],
    threshold: Annotated[int, typer.Option(help="approvals a proposal needs (at least 2)")] = 2,
    *,
    session: DeployerOpts,
) -> None:
    """Deploy a network's contracts with its bootstrap members; write the deployment file.

    Each member: {"name", "address", "gln", "roles": ["MANUFACTURER", "COUNCIL", ...],
    "licence_expiry": unix time, "prefixes": ["0614141", ...]}.
    """
    specs = _member_specs(members)
    deployer = session.account
    dep = deploy_network(connect(session.rpc), deployer, specs, threshold)
    dep.save(session.deployment)
    typer.echo(f"deployed registry {dep.registry}; deployment written to {session.deployment}")


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
    function: Annotated[
        str, typer.Argument(help="e.g. addMember, setMemberStatus, assignPrefix, rotateMemberKey")
    ],
    args: Annotated[str, typer.Argument(help="JSON list of the function's arguments")],
    session: MemberOpts,
) -> None:
    """Propose a change (a call on the consortium) and approve it as its proposer."""
    values = load_json(
        args,
        list,
        "ARGS is not JSON",
        f"ARGS must be a JSON list, like '[\"0x...\", 1]', got {args}",
    )
    ledger = session.ledger
    data = _proposal_call(ledger, function, values)
    receipt = ledger.transact(ledger.consortium.functions.propose(data))
    created = next(e for e in receipt.events if isinstance(e, ProposalCreated))
    typer.echo(f"proposal {created.id} created; it needs more council approvals")


@council_app.command("approve")
def council_approve(proposal: int, session: MemberOpts) -> None:
    """Approve a proposal; it runs when the approvals that count reach the threshold."""
    ledger = session.ledger
    consortium = ledger.consortium
    receipt = ledger.transact(consortium.functions.approve(proposal))
    if any(isinstance(e, ProposalExecuted) for e in receipt.events):
        typer.echo(f"proposal {proposal} approved; executed")
        return
    counted = consortium.functions.countedApprovals(proposal).call()
    typer.echo(
        f"proposal {proposal} approved; {counted} of the {_threshold(consortium)} approvals "
        "it needs count now"
    )


@council_app.command("cancel")
def council_cancel(proposal: int, session: MemberOpts) -> None:
    """Cancel your own open proposal (the council cancels any with `council propose cancel`)."""
    ledger = session.ledger
    ledger.transact(ledger.consortium.functions.cancel(proposal))
    typer.echo(f"proposal {proposal} cancelled")


def _threshold(consortium: Contract) -> int:
    return int(consortium.functions.parameter(b"THRESHOLD".ljust(32, b"\0")).call())


def _proposal_line(session: Session, consortium: Contract, number: int, now: int) -> str:
    """One proposal: number, the change, its proposer, its state and its counted approvals."""
    proposer, deadline, approvals, executed, cancelled, data = consortium.functions.proposal(
        number
    ).call()
    try:
        function, args = consortium.decode_function_input(data)
        change = f"{function.fn_name}({', '.join(map(_shown, args.values()))})"
    except ValueError:
        change = "0x" + bytes(data).hex()
    names = {address: name for name, address in session.names.items()}
    who = f"{names[proposer]} ({proposer})" if proposer in names else proposer
    state = _state(executed, cancelled, deadline, now)
    counted = consortium.functions.countedApprovals(number).call()
    return f"#{number} {change} by {who}: {state}; {counted} of {approvals} approvals count now"


def _state(executed: bool, cancelled: bool, deadline: int, now: int) -> str:
    if executed:
        return "executed"
    if cancelled:
        return "cancelled"
    until = datetime.fromtimestamp(deadline, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"expired on {until}" if now > deadline else f"open until {until}"


def _shown(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return json.dumps(value) if isinstance(value, str) else str(value)


@council_app.command("list")
def council_list(session: ChainOpts) -> None:
    """List every proposal: its change, proposer, state (open, executed, cancelled, expired)
    and how many of its approvals count now (of members still on the council, licensed)."""
    w3, deployment = session.chain
    consortium = deployment.contract(w3, "Consortium")
    threshold = _threshold(consortium)
    now = int(w3.eth.get_block("latest")["timestamp"])
    count = consortium.functions.proposalCount().call()
    typer.echo(f"{count} proposals; a proposal runs at {threshold} approvals that count")
    for number in range(count):
        typer.echo(_proposal_line(session, consortium, number, now))
