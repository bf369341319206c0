"""The exception desk: ``GET /v1/exceptions``, the exceptions a member opened or must answer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from web3 import Web3

from gateway.api.deps import LimitedPrincipalDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import ExceptionList, ExceptionOut
from gateway.services.exception_desk import list_exceptions
from gateway.services.standing import SEE_ALL
from ledger_client.audit.deadlines import iso
from ledger_client.types import ExceptionStatus

router = APIRouter(prefix="/v1/exceptions", tags=["exceptions"])


@router.get("", response_model=ExceptionList, responses=problems(401, 403, 429))
def exceptions(
    state: StateDep,
    principal: LimitedPrincipalDep,
    status: Annotated[
        list[Literal["OPEN", "ANSWERED", "RESOLVED"]] | None,
        Query(description="statuses to list (default: all)"),
    ] = None,
    overdue: Annotated[
        bool, Query(description="only those still open past their answer deadline")
    ] = False,
    member: Annotated[
        str | None,
        Query(
            pattern=r"^0x[0-9a-fA-F]{40}$",
            description="another member's exceptions: regulators and auditors only",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ExceptionList:
    """The caller's exceptions (those it opened and those it must answer), newest first, each
    with its answer deadline, whether it is overdue and its age in the counterparty's
    business days, as at the chain's time. Regulators and auditors see every member's, or
    one member's with ``member``."""
    see_all = bool(principal.roles & SEE_ALL)
    party: str | None = Web3.to_checksum_address(member) if member else None
    if party is not None and party != principal.address and not see_all:
        raise HTTPException(
            403, "only regulators and auditors may read another member's exceptions"
        )
    if party is None and not see_all:
        party = principal.address
    now = int(state.chain.now())
    with state.engine.connect() as conn:
        rows = list_exceptions(
            conn,
            state.calendar,
            state.settings.epcis_store_path,
            now,
            party,
            [ExceptionStatus[s] for s in status or ()],
            overdue,
            limit,
            state.name_of,
        )
    return ExceptionList(as_of=iso(now), exceptions=[ExceptionOut(**r) for r in rows])
