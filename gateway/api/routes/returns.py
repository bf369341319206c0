"""Saleable returns: verify returned packs on chain and receive those that pass, in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from gateway.api.deps import OperatorDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import QuarantinedPack, ReturnRequest, ReturnResult
from gateway.services.returns import process_return, quarantined
from ledger_client.contracts import Role
from ledger_client.errors import InvalidInputError

router = APIRouter(prefix="/v1/returns", tags=["returns"])
ERRORS = problems(400, 401, 403, 409, 429)
#: Who takes saleable returns back into stock: DSCSA's wholesale distributors, and the
#: manufacturers and repackagers that sell to them.
RECEIVERS = Role.WHOLESALER | Role.MANUFACTURER | Role.REPACKAGER


@router.post("", response_model=ReturnResult, responses=ERRORS)
def receive_returns(state: StateDep, principal: OperatorDep, body: ReturnRequest) -> ReturnResult:
    """Verify each returned pack against the chain as a saleable return and receive those that
    pass into the operator's stock (one receiving event, anchored); the others get a
    per-pack status and reason and are quarantined. Submitting the same return again writes
    nothing: its packs answer ALREADY_RECEIVED. ``receive: false`` verifies only."""
    principal.require(RECEIVERS, "receiving saleable returns")
    try:
        return process_return(state, body.codes, body.customer, body.receive)
    except InvalidInputError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/quarantine", response_model=list[QuarantinedPack], responses=ERRORS)
def list_quarantine(
    state: StateDep, _: OperatorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[QuarantinedPack]:
    """The returned packs held apart, most recently refused first."""
    return quarantined(state.engine, limit)
