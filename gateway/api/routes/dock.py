"""Receiving at the dock: sessions for expected inbound shipments, scans, Receive matched and
Close, signed with the operator's key (the operator's staff only, like dispensing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import OperatorDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import (
    DockActionResult,
    DockReceiveRequest,
    DockReport,
    DockScanRequest,
    DockScanResult,
    DockSessionRequest,
    DockView,
    InboundShipment,
)

router = APIRouter(prefix="/v1/dock", tags=["dock"])
READS = problems(401, 403, 404, 429)
WRITES = problems(400, 401, 403, 404, 409, 429)
SessionId = Annotated[str, Path(pattern=r"^dock-[0-9a-f]{16}$")]


@router.get("/inbound", response_model=list[InboundShipment], responses=READS)
def inbound(state: StateDep, principal: OperatorDep) -> list[InboundShipment]:
    """What each sender has in transit to the operator, by shipment transaction."""
    return state.dock.inbound(principal.address)


@router.post("/sessions", response_model=DockView, status_code=201, responses=WRITES)
def open_session(state: StateDep, principal: OperatorDep, body: DockSessionRequest) -> DockView:
    """Open a receiving session for what a sender (or one shipment) has in transit to you."""
    return state.dock.open(principal.address, body.sender, body.shipment)


@router.get("/sessions", response_model=list[DockView], responses=READS)
def sessions(state: StateDep, principal: OperatorDep) -> list[DockView]:
    """The gateway's receiving sessions, newest first (at most 100)."""
    return state.dock.sessions()


@router.get("/sessions/{session_id}", response_model=DockView, responses=READS)
def session(state: StateDep, principal: OperatorDep, session_id: SessionId) -> DockView:
    """A session: expected vs scanned level by level, receivable items and the report."""
    return state.dock.view(session_id)


@router.post("/sessions/{session_id}/scans", response_model=DockScanResult, responses=WRITES)
def scan(
    state: StateDep, principal: OperatorDep, session_id: SessionId, body: DockScanRequest
) -> DockScanResult:
    """Record a scan (a repeat counts once) and match it against the shipment."""
    return state.dock.scan(session_id, body.code, body.within)


@router.post("/sessions/{session_id}/receive", response_model=DockActionResult, responses=WRITES)
async def receive(
    state: StateDep, principal: OperatorDep, session_id: SessionId, body: DockReceiveRequest
) -> DockActionResult:
    """Receive on chain exactly the matched items the page shows (409 if the session shows
    others now); the same request again writes nothing."""
    return await run_in_threadpool(state.dock.receive, session_id, body.items)


@router.post("/sessions/{session_id}/close", response_model=DockActionResult, responses=WRITES)
async def close(
    state: StateDep, principal: OperatorDep, session_id: SessionId, body: DockReport
) -> DockActionResult:
    """Close with the report the page shows (409 if the session shows another now): open
    the exceptions for missing, quarantined and mis-aggregated items, alert the sender."""
    return await run_in_threadpool(state.dock.close, session_id, body)
