"""GET/POST /v1/verify: is this pack genuine and saleable?"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gateway.api.deps import LimitedPrincipalDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import VerifyBatchResult, VerifyRequest, VerifyResult
from gateway.services.alerts import VerificationNote
from gateway.services.auth import Principal
from gateway.services.readmodel import PackRecord
from gateway.state import GatewayState
from ledger_client.contracts import Role

router = APIRouter(prefix="/v1/verify", tags=["verify"])
Source = Annotated[
    Literal["index", "chain"],
    Query(description="index: the confirmed SQL index (fast); chain: a fresh eth_call at the head"),
]
ERRORS = problems(401, 403, 429)


def viewer_of(principal: Principal) -> str | None:
    """Return the address whose custody the verdict weighs: a dispenser's (members with the
    DISPENSER role, or the console of a dispensing operator), None for other callers."""
    return principal.address if principal.roles & Role.DISPENSER else None


def record(
    state: GatewayState,
    principal: Principal,
    result: VerifyResult,
    pack: PackRecord | None,
    pid: bytes | None,
) -> None:
    """Queue the verification for the SQL record (who asked, when, what they got)."""
    if pid is None or result.gtin is None or result.serial is None:
        return
    state.recorder.add(
        VerificationNote(
            pack_id=pid,
            gtin=result.gtin,
            serial=result.serial,
            status=result.status,
            client=principal.address,
            by_dispenser=bool(principal.roles & Role.DISPENSER),
            pack_status=pack.status if pack else 0,
            pack_reason=pack.reason if pack else 0,
            at=time.time(),
            lot=result.lot,
            expiry=_yymmdd(result.expiry),
        )
    )


def _yymmdd(iso: str | None) -> int | None:
    """A scanned expiry (ISO date) as the YYMMDD integer the anomaly rules compare."""
    return None if iso is None else int(dt.date.fromisoformat(iso).strftime("%y%m%d"))


@router.get("", response_model=VerifyResult, responses=ERRORS)
async def verify_one(
    state: StateDep,
    principal: LimitedPrincipalDep,
    code: Annotated[
        str,
        Query(
            min_length=1,
            max_length=512,
            description="scanned text: DataMatrix, element string or Digital Link",
        ),
    ],
    source: Source = "index",
) -> Response:
    """Verify one scanned pack: status, green/amber/red verdict, reasons, product and pack facts.

    For a dispenser the verdict also weighs custody: green only for a pack it holds."""
    viewer = viewer_of(principal)
    if source == "chain":
        from starlette.concurrency import run_in_threadpool

        result, pack, pid = await run_in_threadpool(state.verifier.verify, code, source, viewer)
    else:
        result, pack, pid = state.verifier.verify(code, source, viewer)
    record(state, principal, result, pack, pid)
    return Response(result.model_dump_json(), media_type="application/json")


@router.post("", response_model=VerifyBatchResult, responses=ERRORS)
def verify_batch(
    state: StateDep, principal: LimitedPrincipalDep, body: VerifyRequest, source: Source = "index"
) -> VerifyBatchResult:
    """Verify a whole delivery, each pack as GET does; the batch verdict is the worst pack's."""
    wait = state.limiter.acquire(principal.key, cost=max(0, len(body.codes) // 10))
    if wait:
        from fastapi import HTTPException

        raise HTTPException(
            429, "rate limit exceeded by this batch", headers={"Retry-After": str(int(wait) + 1)}
        )
    batch, answers = state.verifier.verify_batch(body.codes, source, viewer_of(principal))
    for result, pack, pid in answers:
        record(state, principal, result, pack, pid)
    return batch
