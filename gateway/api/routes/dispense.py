"""Dispense (decommission) and undo with the operator's key: the pharmacy page's writes."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import OperatorDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import DispenseRequest, DispenseResult
from gateway.services.dispense import named, packs_of
from ledger_client.contracts import Role
from ledger_client.types import DecommissionReason

router = APIRouter(prefix="/v1/dispense", tags=["dispense"])
ERRORS = problems(400, 401, 403, 409, 429)


@router.post("", response_model=DispenseResult, responses=ERRORS)
def dispense(state: StateDep, principal: OperatorDep, body: DispenseRequest) -> DispenseResult:
    """Decommission packs (default DISPENSED), signed by this gateway's operator key."""
    if body.reason == "DISPENSED":
        principal.require(Role.DISPENSER, "dispensing")
    packs = packs_of(body.codes)
    operator = state.chain.operator
    assert operator is not None
    with state.oplock.hold(), named(packs, operator.owners):
        receipts = operator.decommission(packs, DecommissionReason[body.reason])
    return DispenseResult(
        tx_hashes=["0x" + r.tx_hash.hex() for r in receipts],
        block_number=max(r.block_number for r in receipts),
        packs=[f"(01){g}(21){s}" for g, s in packs],
        action=f"decommissioned:{body.reason}",
    )


@router.post("/undo", response_model=DispenseResult, responses=ERRORS)
def undo(state: StateDep, principal: OperatorDep, body: DispenseRequest) -> DispenseResult:
    """Undo the operator's own decommissions within the consortium's undo window."""
    packs = packs_of(body.codes)
    operator = state.chain.operator
    assert operator is not None
    with state.oplock.hold(), named(packs, operator.owners):
        receipts = operator.undo_decommission(packs)
    return DispenseResult(
        tx_hashes=["0x" + r.tx_hash.hex() for r in receipts],
        block_number=max(r.block_number for r in receipts),
        packs=[f"(01){g}(21){s}" for g, s in packs],
        action="undone",
    )
