"""Sharing by right between gateways: a pack traced across partners (``/v1/trace``), the
operator's shipments' DSCSA TI/TS for their recipients (``/v1/shipments/{tx}/ti``), the
TI/TS this gateway fetched for what its operator received (``/v1/ti``), and the
verifications it answered, for regulators' audits (``/v1/scans``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import LimitedPrincipalDep, OperatorDep, StateDep
from gateway.api.openapi import problems
from gateway.services.access import reads_everything
from gateway.services.scans import scan_rows
from gateway.services.ti_exchange import TiNotFoundError, received, seller_ti
from ledger_client.errors import InvalidCodeError
from ledger_client.trace import trace

router = APIRouter(prefix="/v1", tags=["sharing"])
TX = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="shipment transaction hash")]


@router.get("/trace", responses=problems(400, 401, 403, 429))
async def trace_pack(
    state: StateDep,
    principal: OperatorDep,
    code: Annotated[str, Query(min_length=1, max_length=512, description="the pack, any GS1 form")],
) -> dict[str, Any]:
    """The pack's history from the gateways of every partner that held it, asked as this
    gateway's operator, each event checked against its anchored hash (operator only: the
    answer holds what other gateways let the operator see)."""
    operator = state.settings.operator
    assert operator is not None  # OperatorDep refused otherwise
    chain = state.chain
    try:
        result = await run_in_threadpool(trace, chain.w3, chain.deployment, operator, code)
    except (InvalidCodeError, ValueError) as exc:
        raise HTTPException(400, str(exc)) from None
    return result.to_dict()


@router.get("/shipments/{tx}/ti", responses=problems(401, 403, 404, 429))
async def shipment_ti(state: StateDep, principal: LimitedPrincipalDep, tx: TX) -> dict[str, Any]:
    """DSCSA transaction information and statement of this gateway's operator's shipment in
    transaction ``tx``, for its recipient and regulators (decided by the chain)."""
    try:
        return await run_in_threadpool(
            seller_ti,
            state.chain,
            state.readmodel,
            state.engine,
            state.settings.epcis_store_path,
            principal,
            bytes.fromhex(tx[2:]),
        )
    except TiNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/ti", responses=problems(401, 403, 429))
def received_ti(state: StateDep, principal: OperatorDep) -> list[dict[str, Any]]:
    """The TI/TS of every shipment the operator received, as fetched from the sellers'
    gateways: ``stored`` (checked against the chain), ``pending`` or ``failed`` (retried,
    with the last error)."""
    return [
        {
            "shipment_tx": "0x" + bytes(r.shipment_tx).hex(),
            "seller": r.seller,
            "status": r.status,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "fetched_at": r.fetched_at,
            "document": r.document,
        }
        for r in received(state.engine)
    ]


@router.get("/scans", responses=problems(401, 403, 429))
def scans(
    state: StateDep,
    principal: LimitedPrincipalDep,
    after: Annotated[int, Query(ge=0, description="the last scan id of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> dict[str, Any]:
    """The verifications this gateway answered, oldest first, as the anomaly audit's scans
    (``location`` the member that asked, ``time`` when, the lot and expiry its code printed),
    for regulators and the operator: a clone scanned here and its original scanned at another
    partner's gateway are found only from the scans of both. ``next_after`` pages on (None:
    the last page)."""
    if not reads_everything(principal, state.queries.operator):
        raise HTTPException(
            403, f"{principal.address} is neither a regulator nor this gateway's operator"
        )
    with state.engine.connect() as conn:
        rows = scan_rows(conn, after, limit)
    return {
        "scans": [{"id": i, **asdict(r)} for i, r in rows],
        "next_after": rows[-1][0] if len(rows) == limit else None,
    }
