"""``rxledger grant add|revoke|list``: who, besides holders and regulators, reads a lot's events
at the gateways (the ``AccessGrants`` contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from ledger_client.cli.command import RxTyper
from ledger_client.cli.proposals import CouncilOpt, send_or_propose
from ledger_client.cli.session import ChainLotKeysOpts, MemberOpts, Session
from ledger_client.epcis.query import time_of
from ledger_client.errors import InvalidInputError
from ledger_client.grants import GrantRecord, read_grants
from ledger_client.owners import PrefixOwners

__all__ = ["grant_app"]

grant_app = RxTyper(
    help="Grant auditors read access to a lot's events, revoke it, list the grants.",
    no_args_is_help=True,
)

GranteeArg = Annotated[str, typer.Argument(help="the auditor: a member name or its address")]
UntilOpt = Annotated[
    str | None,
    typer.Option(help="expiry: RFC 3339 date-time with offset, or Unix time (default: none)"),
]


def parse_until(text: str | None) -> int:
    """The Unix time of ``--until`` (0 when not given)."""
    if text is None:
        return 0
    if text.isdigit():
        return int(text)
    when = time_of(text)
    if when is None:
        raise InvalidInputError(
            f"--until {text!r} is not a time: give an RFC 3339 date-time with its offset "
            "(2026-06-30T00:00:00Z) or a Unix time"
        )
    return int(when)


def _shown_time(when: int) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@grant_app.command("add")
def grant_add(
    gtin: str,
    lot: str,
    grantee: GranteeArg,
    session: MemberOpts,
    until: UntilOpt = None,
    council: CouncilOpt = False,
) -> None:
    """Grant an auditor read access to lot LOT of GTIN's events (the lot's owner, or the
    council with --council), until --until or until revoked; again, to change the expiry."""
    ledger = session.ledger
    lot_id = ledger.owners.lot_id(gtin, lot)
    address = session.address_of(grantee, "GRANTEE")
    expires_at = parse_until(until)
    outcome = send_or_propose(ledger, ledger.grants, council, "grant", lot_id, address, expires_at)
    shown = f"until {_shown_time(expires_at)}" if expires_at else "until revoked"
    typer.echo(f"grant of lot {lot} of {gtin} to {grantee} {shown}: {outcome}")


@grant_app.command("revoke")
def grant_revoke(
    gtin: str, lot: str, grantee: GranteeArg, session: MemberOpts, council: CouncilOpt = False
) -> None:
    """Revoke an auditor's grant on lot LOT of GTIN (the owner: only its own grants; the
    council with --council: any)."""
    ledger = session.ledger
    lot_id = ledger.owners.lot_id(gtin, lot)
    grantee_address = session.address_of(grantee, "GRANTEE")
    outcome = send_or_propose(ledger, ledger.grants, council, "revoke", lot_id, grantee_address)
    typer.echo(f"grant of lot {lot} of {gtin} to {grantee} revoked: {outcome}")


def _grant_line(session: Session, grant: GrantRecord, consortium: str, now: int) -> str:
    names = {address: name for name, address in session.names.items()}
    grantee = names.get(grant.grantee, grant.grantee)
    by = "the council" if grant.by == consortium else names.get(grant.by, grant.by)
    if grant.expires_at == 0:
        state = "until revoked"
    else:
        state = ("until " if grant.live_at(now) else "expired on ") + _shown_time(grant.expires_at)
    return f"lot 0x{grant.lot_id.hex()}: {grantee}, granted by {by}, {state}"


@grant_app.command("list")
def grant_list(
    session: ChainLotKeysOpts,
    gtin: Annotated[str | None, typer.Argument(help="only this product's lot LOT")] = None,
    lot: Annotated[str | None, typer.Argument(help="the lot number")] = None,
) -> None:
    """List the grants not revoked (expired ones say so), of every lot or of lot LOT of GTIN
    (a keyed lot: with its owner's key, --lot-keys)."""
    if (gtin is None) != (lot is None):
        raise InvalidInputError("give both GTIN and LOT, or neither")
    w3, deployment = session.chain
    book = read_grants(w3, deployment)
    grants = list(book.grants.values())
    if gtin is not None and lot is not None:
        owners = PrefixOwners(deployment.contract(w3, "Consortium"), session.held_lot_keys)
        wanted = owners.lot_id(gtin, lot)
        grants = [g for g in grants if g.lot_id == wanted]
    now = int(w3.eth.get_block("latest")["timestamp"])
    typer.echo(f"{len(grants)} grants")
    for grant in grants:
        typer.echo(_grant_line(session, grant, deployment.consortium, now))
