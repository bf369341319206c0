"""EPCIS 2.0 capture (REST binding): POST a document, poll the job."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import OperatorDep, PrincipalDep, StateDep
from gateway.api.openapi import problems, request_body
from gateway.db import models as m
from gateway.schemas import CaptureJobOut, CaptureWarningOut, EPCISDocumentIn
from gateway.services.capture import JSON_TYPES, XML_TYPES, parse_body

router = APIRouter(prefix="/v1/capture", tags=["capture"])
ERRORS = problems(400, 401, 403, 429)
XML_DOCUMENT = {
    "type": "string",
    "description": "an EPCIS 2.0 or 1.2 XML EPCISDocument (converted)",
}


def _iso(ts: float | None) -> str | None:
    return (
        dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z") if ts else None
    )


def counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """How many events of a job ended in each status."""
    out = {"applied": 0, "skipped": 0, "stored_only": 0, "failed": 0}
    for event in results:
        status = str(event.get("status"))
        out[status] = out.get(status, 0) + 1
    return out


def warning_out(row: m.EventWarning, results: list[dict[str, Any]]) -> CaptureWarningOut:
    """Render a warning of a captured event (``results``: its job's per-event results)."""
    result = results[row.event_index] if row.event_index < len(results) else {}
    return CaptureWarningOut(
        index=row.event_index,
        eventID=row.event_id,
        eventHash=result.get("event_hash"),
        path=row.path,
        field=row.field,
        kind=row.kind,
        value=row.value,
        message=row.message,
    )


def job_out(job: m.CaptureJob, warnings: Sequence[m.EventWarning] = ()) -> CaptureJobOut:
    """Render a capture job document with its events' warnings."""
    return CaptureJobOut(
        captureID=job.id,
        createdAt=_iso(job.created_at) or "",
        finishedAt=_iso(job.finished_at),
        running=job.running,
        success=job.success,
        captureErrorBehaviour=job.error_behaviour,
        errors=job.errors,
        counts=counts(job.results),
        results=job.results,
        warnings=[warning_out(w, job.results) for w in warnings],
    )


@router.post(
    "",
    status_code=202,
    responses={
        202: {"description": "capture job created; see Location"},
        **problems(413, 415),
        **ERRORS,
    },
    openapi_extra=request_body(
        {
            **dict.fromkeys(JSON_TYPES, EPCISDocumentIn),
            **dict.fromkeys(XML_TYPES, XML_DOCUMENT),
        }
    ),
)
async def capture(
    request: Request,
    state: StateDep,
    principal: OperatorDep,
    error_behaviour: Annotated[
        str, Header(alias="GS1-Capture-Error-Behaviour", pattern="^(rollback|proceed)$")
    ] = "rollback",
) -> JSONResponse:
    """Validate the document now (400 with its errors if it cannot be trusted for custody)
    and write its events to the chain in the background, signed with this gateway's
    operator key. Warnings (a malformed location or party id, an unknown vocabulary value,
    a non-standard extension) do not refuse it: the job lists them beside its results.

    EPCIS 2.0 JSON-LD, or EPCIS 2.0 or 1.2 XML (``application/xml``, converted). Every event is
    applied, skipped (already on chain), stored only, or failed with the contract's error;
    a failing event does not stop the others. ``rollback`` (the binding's default) refuses
    the whole document when an event cannot be mapped to the ledger; failures the chain
    reports later cannot be rolled back and are reported per event.
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (*JSON_TYPES, *XML_TYPES):
        raise HTTPException(
            415, "send application/ld+json (EPCIS 2.0) or application/xml (EPCIS 2.0 or 1.2)"
        )
    body = await request.body()  # at most RXLEDGER_MAX_CAPTURE_BYTES: see gateway.api.limits
    doc = await run_in_threadpool(parse_body, body, media)
    job_id = await run_in_threadpool(state.capture.submit, doc, principal.address, error_behaviour)
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
    jobs = state.capture.jobs(principal.address)
    warnings = state.capture.warnings([j.id for j in jobs])
    return [job_out(j, warnings.get(j.id, [])) for j in jobs]


@router.get("/{capture_id}", response_model=CaptureJobOut, responses=problems(404) | ERRORS)
def get_job(state: StateDep, principal: PrincipalDep, capture_id: str) -> CaptureJobOut:
    """A capture job's status with its per-event results."""
    job = state.capture.job(capture_id)
    if job is None or job.owner != principal.address:
        raise HTTPException(404, f"no capture job {capture_id}")
    return job_out(job, state.capture.warnings([job.id]).get(job.id, []))
