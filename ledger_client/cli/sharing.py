"""``rxledger gateway-url``, ``rxledger trace`` and ``rxledger contents``: finding partners'
gateways on chain, a pack's history assembled from them, each event checked against its
anchor, and what a gateway's index of the chain says is inside a case or pallet."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ledger_client.cli.command import RxTyper
from ledger_client.cli.options import JsonOpt
from ledger_client.cli.session import ChainOpts, MemberOpts
from ledger_client.errors import InvalidCodeError, InvalidInputError
from ledger_client.gs1 import PackCode, UnitCode, parse_code
from ledger_client.trace import GatewayClient, Trace, trace

__all__ = ["gateway_url_app", "sharing_app"]

sharing_app = RxTyper()
gateway_url_app = RxTyper(help="Publish or read members' gateway URLs.", no_args_is_help=True)


@gateway_url_app.command("set")
def gateway_url_set(
    url: Annotated[str, typer.Argument(help="the gateway's public http(s) URL")],
    session: MemberOpts,
) -> None:
    """Publish the acting member's gateway URL on chain (partners find its events there)."""
    receipt = session.ledger.set_gateway_url(url.rstrip("/"))
    typer.echo(f"{session.ledger.address}: {url.rstrip('/')} ({receipt.gas_used:,} gas)")


@gateway_url_app.command("show")
def gateway_url_show(
    member: Annotated[str, typer.Argument(help="member name of the deployment, or its address")],
    session: ChainOpts,
) -> None:
    """Print the gateway URL a member published (nothing when it published none)."""
    w3, deployment = session.chain
    address = session.address_of(member, "MEMBER")
    typer.echo(deployment.contract(w3, "Consortium").functions.gatewayUrl(address).call())


def _table(result: Trace) -> Table:
    names = result.names
    table = Table(title=f"{result.trail.gtin} {result.trail.serial}", expand=False)
    for column in ("when", "verdict", "member", "step", "event hash / reason"):
        table.add_column(column)
    for e in result.events:
        event = e.event or {}
        when = event.get("eventTime") or (
            str(e.to_dict()["anchor"]["recorded_at"]) if e.anchor else ""
        )
        kinds = "/".join(sorted(e.anchor.kinds)) if e.anchor else ""
        step = str(event.get("bizStep") or kinds)
        detail = (("0x" + e.event_hash.hex()[:16] + "…") if e.event_hash else "") + (
            f" {e.reason}" if e.reason else ""
        )
        table.add_row(str(when), e.verdict, names.get(e.member, e.member), step, detail.strip())
    return table


@sharing_app.command("trace")
def trace_command(
    pack: Annotated[
        str,
        typer.Option(
            "--pack", help="the pack: GTIN,SERIAL, a GS1 element string or a Digital Link"
        ),
    ],
    session: MemberOpts,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each gateway")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """A pack's full history from the gateways of every partner that held it, each event
    checked against its anchored hash: anchored, unanchored, altered or missing. Exits 3 when
    anything is not anchored-and-matching."""
    code = pack
    if "," in pack and not pack.startswith(("http", "(")):
        gtin, _, serial = pack.partition(",")
        code = f"(01){gtin.strip()}(21){serial.strip()}"
    w3, deployment = session.chain
    result = trace(w3, deployment, session.account, code, timeout=timeout)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for c in result.to_dict()["custody"]:
            typer.echo(f"held by {c['name'] or c['holder']} from {c['from']} to {c['to'] or 'now'}")
        for g in result.gateways:
            note = f" ({g.detail})" if g.detail else ""
            typer.echo(f"gateway of {result.names.get(g.member, g.member)}: {g.status}{note}")
        Console().print(_table(result))
        typer.echo(", ".join(f"{n} {v}" for v, n in result.counts().items()))
    if not result.complete:
        raise typer.Exit(3)


def _tree(node: dict[str, Any], depth: int = 0) -> list[str]:
    """A contents node and what is inside it, one line each, indented by level."""
    packs = f", {node['packs']} pack(s)" if node["kind"] != "pack" else ""
    line = f"{'  ' * depth}{node['kind']} {node['code'] or node['id']} {node['status']}{packs}"
    return [line, *(x for child in node["children"] for x in _tree(child, depth + 1))]


@sharing_app.command("contents")
def contents_command(
    code: Annotated[str, typer.Argument(help="an SSCC or a pack, any GS1 form")],
    session: MemberOpts,
    gateway: Annotated[
        str | None,
        typer.Option(
            "--gateway",
            envvar="RXLEDGER_GATEWAY_URL",
            help="the gateway to ask (default: the one the acting member publishes on chain)",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the gateway")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """What the chain says is inside a case or pallet, level by level, with each item's
    status and the unit's custody (for a pack: the units it sits in), from a gateway's index,
    asked with the acting member's key: its holder, the member it is shipped to and
    regulators may see it."""
    scanned = parse_code(code).code
    if not isinstance(scanned, PackCode | UnitCode):
        raise InvalidCodeError(
            f"{type(scanned).__name__} given: name a pack (GTIN + serial) or an SSCC"
        )
    account = session.account
    if gateway is None:
        w3, deployment = session.chain
        consortium = deployment.contract(w3, "Consortium").functions
        gateway = str(consortium.gatewayUrl(account.address).call())
        if not gateway:
            raise InvalidInputError(
                f"{account.address} publishes no gateway URL on chain: give --gateway URL"
            )
    with GatewayClient(gateway, account, timeout) as client:
        body = client.get("/v1/contents", code=code).json()
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    holder = body["custodian_name"] or body["custodian"] or "nobody"
    moving = body["pending_to_name"] or body["pending_to"]
    going = f", lost on its way to {moving}" if body["lost"] else ""
    going = going or (f", in transit to {moving}" if body["in_transit"] else "")
    typer.echo(f"held by {holder}{going} (as of block {body['as_of_block']})")
    for unit in body["inside"]:
        typer.echo(f"inside {unit['kind']} {unit['code'] or unit['id']} {unit['status']}")
    typer.echo("\n".join(_tree(body["item"])))
