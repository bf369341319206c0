"""``rxledger return``: verify packs a customer sent back and receive those that pass into
saleable stock, in one command (DSCSA saleable returns)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ledger_client.cli.command import RxTyper
from ledger_client.cli.lifecycle import FileArg, member_ledger
from ledger_client.cli.options import JsonOpt
from ledger_client.cli.session import MemberStoreOpts
from ledger_client.code_files import read_batch
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import to_element_string
from ledger_client.returns import ALREADY_RECEIVED, check_returns, take_back

__all__ = ["returns_app"]

returns_app = RxTyper()

CustomerOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="the returning customer (member name or address): each pack must come from it",
    ),
]
CheckOpt = Annotated[bool, typer.Option("--check", help="verify only: receive nothing")]


@returns_app.command("return")
def return_cmd(
    file: FileArg,
    session: MemberStoreOpts,
    customer: CustomerOpt = None,
    check: CheckOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify each returned pack of FILE (GTIN, serial, lot and expiry as printed) on chain and
    receive those that pass back into your stock, anchoring one receiving event. Exit 3 when
    a pack is refused (its status and reason say why)."""
    batch = read_batch(file)
    if batch.units:
        raise InvalidCodeError(
            f"{batch.source}: returns are checked pack by pack, not SSCC {batch.units[0].sscc}"
        )
    ledger = member_ledger(session, batch)
    sender = session.address_of(customer, "--from") if customer else None
    names = {address: name for name, address in session.names.items()}
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    scans = [to_element_string(p) for p in batch.packs]
    checks = check_returns(ledger, scans, sender, lambda a: names.get(a, a), now)
    receipts = [] if check else take_back(ledger, checks, session.store)[0]
    done = {c.code for c in checks if c.receivable and not check}
    items = [
        {
            "code": c.code,
            "status": c.status,
            "received": c.code in done,
            "reason": c.reason,
        }
        for c in checks
    ]
    if as_json:
        txs = [r.tx_hash.hex() for r in receipts]
        typer.echo(json.dumps({"items": items, "transactions": txs}))
    else:
        for item in items:
            mark = "received" if item["received"] else "not received"
            typer.echo(f"{item['code']}  {item['status']}  {mark}: {item['reason']}")
        typer.echo(f"{len(done)} of {len(items)} packs received in {len(receipts)} transactions")
    refused = [c for c in checks if not (c.receivable or c.status == ALREADY_RECEIVED)]
    if refused:
        raise typer.Exit(3)
