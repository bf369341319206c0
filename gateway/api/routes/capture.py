"""EPCIS 2.0 capture (REST binding): POST a document, poll the job."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException
from fastapi.responses import JSONResponse

from gateway.api.deps import OperatorDep, PrincipalDep, StateDep
from gateway.db import models as m
from gateway.schemas import CaptureJobOut, Problem

router = APIRouter(prefix="/v1/capture", tags=["capture"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    403: {"model": Problem},
    429: {"model": Problem},
}
MAX_BYTES = 5_000_000


def _iso(ts: float | None) -> str | None:
    return (
        dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z") if ts else None
    )


def job_out(job: m.CaptureJob) -> CaptureJobOut:
    """Render a capture job document."""
    return CaptureJobOut(
        captureID=job.id,
        createdAt=_iso(job.created_at) or "",
        finishedAt=_iso(job.finished_at),
        running=job.running,
        success=job.success,
        captureErrorBehaviour=job.error_behaviour,
        errors=job.errors,
        results=job.results,
    )


@router.post(
    "",
    status_code=202,
    responses={202: {"description": "capture job created; see Location"}, **ERRORS},
)
def capture(
    state: StateDep,
    principal: OperatorDep,
    document: Annotated[dict[str, Any], Body(description="an EPCIS 2.0 JSON-LD EPCISDocument")],
    error_behaviour: Annotated[
        str, Header(alias="GS1-Capture-Error-Behaviour", pattern="^(rollback|proceed)$")
    ] = "proceed",
) -> JSONResponse:
    """Validate the document now (400 with the schema errors if invalid) and write its events
    to the chain in the background; ``rollback`` stops at the first failing event (events
    already written stay on chain and are reported)."""
    if len(json.dumps(document)) > MAX_BYTES:
        raise HTTPException(413, "capture document larger than 5 MB: split it")
    job_id = state.capture.submit(document, principal.address, error_behaviour)
    return JSONResponse(
        {"captureID": job_id},
        status_code=202,
        headers={
            "Location": f"/v1/capture/{job_id}",
            "GS1-Capture-Error-Behaviour": error_behaviour,
        },
    )


@router.get("", response_model=list[CaptureJobOut], responses=ERRORS)
def list_jobs(state: StateDep, principal: PrincipalDep) -> list[CaptureJobOut]:
    """The caller's recent capture jobs."""
    return [job_out(j) for j in state.capture.jobs(principal.address)]


@router.get(
    "/{capture_id}", response_model=CaptureJobOut, responses={404: {"model": Problem}, **ERRORS}
)
def get_job(state: StateDep, principal: PrincipalDep, capture_id: str) -> CaptureJobOut:
    """A capture job's status with its per-event results."""
    job = state.capture.job(capture_id)
    if job is None or job.owner != principal.address:
        raise HTTPException(404, f"no capture job {capture_id}")
    return job_out(job)
