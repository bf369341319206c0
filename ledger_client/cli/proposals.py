"""A member's call, or the same call proposed as the council (``callAsCouncil``): how the
commands that the council may also take (``grant``, ``exception resolve``) send it."""

from __future__ import annotations

from typing import Annotated

import typer
from web3.contract import Contract

from ledger_client.events import ExceptionClosureRequested, ProposalCreated
from ledger_client.ledger import Ledger

CouncilOpt = Annotated[
    bool,
    typer.Option(
        "--council", help="propose it as the council (callAsCouncil); others then approve it"
    ),
]


def send_or_propose(
    ledger: Ledger, contract: Contract, council: bool, function: str, *args: object
) -> str:
    """Call ``contract.function(*args)`` as ``ledger``'s member, or propose the call as the
    council when ``council``; say what happened."""
    if not council:
        receipt = ledger.transact(contract.functions[function](*args))
        if any(isinstance(e, ExceptionClosureRequested) for e in receipt.events):
            return "closure requested; a second regulator's resolve closes it"
        return "done"
    call = contract.encode_abi(function, args=list(args))
    data = ledger.consortium.encode_abi("callAsCouncil", args=[contract.address, call])
    receipt = ledger.transact(ledger.consortium.functions.propose(data))
    created = next(e for e in receipt.events if isinstance(e, ProposalCreated))
    return f"proposed as council proposal {created.id}; it needs more council approvals"
