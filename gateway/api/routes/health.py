"""Liveness and readiness for the operator."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.api.deps import StateDep
from gateway.db.session import is_migrated
from gateway.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(state: StateDep) -> JSONResponse:
    """Ready when the chain answers, the database is migrated, and the index is within reach
    of the head (lag = head - confirmation depth - indexed block)."""
    chain_ok = state.chain.reachable()
    try:
        db_ok = is_migrated(state.engine)
    except Exception:  # noqa: BLE001 - a broken database is reported, not raised
        db_ok = False
    indexed = state.readmodel.indexed_block(0)
    head = int(state.chain.w3.eth.block_number) if chain_ok else state.readmodel.head_block()
    lag = max(0, head - state.settings.confirmation_depth - indexed)
    index_ok = indexed >= 0 and lag <= max(10, state.settings.index_chunk_blocks)
    ok = chain_ok and db_ok and index_ok
    body = Health(
        status="ok" if ok else "unavailable",
        checks={
            "chain": chain_ok,
            "database_migrated": db_ok,
            "indexed_block": indexed,
            "head_block": head,
            "indexer_lag_blocks": lag,
            "confirmation_depth": state.settings.confirmation_depth,
        },
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
