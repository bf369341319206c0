"""POST /v1/relay: submit a member-signed ERC-2771 forward request with the operator's key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import LimitedPrincipalDep, StateDep
from gateway.api.openapi import request_body
from gateway.schemas import ForwardRequestIn, Problem, RelayResult
from gateway.services.auth import AuthError
from gateway.services.relayer import submit
from ledger_client.relay import ForwardRequest

router = APIRouter(prefix="/v1/relay", tags=["relay"])


@router.post(
    "",
    response_model=RelayResult,
    responses={
        400: {"model": Problem},
        401: {"model": Problem},
        403: {"model": Problem},
        409: {"model": Problem},
        413: {"model": Problem},
        429: {"model": Problem},
    },
    openapi_extra=request_body({"application/json": ForwardRequestIn}),
)
async def relay_request(
    request: Request, state: StateDep, principal: LimitedPrincipalDep
) -> RelayResult:
    """Submit a forward request signed by an active member; the chain sees the signer as
    caller.

    400 when the body is no ForwardRequest, or when this gateway will not pay for it (a
    target that is not one of this deployment's SerialRegistry, ProductDirectory or
    Consortium; more gas than ``RXLEDGER_RELAY_MAX_GAS``; ether attached; a signer that is not
    an active member in the index), or with the forwarder's error when the forwarder refuses
    it (``ERC2771ForwarderInvalidSigner``: tampered, replayed or signed for another network;
    ``ERC2771ForwarderExpiredRequest``; ``FailedCall``: too little gas); 409 with the target
    contract's error (``SerialRegistryNotCustodian``, ...).
    """
    if state.chain.operator is None:
        raise AuthError(403, "this gateway has no operator key: it cannot relay")
    # the body's size and nesting are bounded before this runs (gateway.api.limits)
    forward = ForwardRequest.from_json(await request.body())
    state.relay_policy.check(forward, state.readmodel.standing(forward.sender))
    relayed = await run_in_threadpool(submit, state.chain.operator, state.oplock, forward)
    return RelayResult(**vars(relayed), relayed_by=state.chain.operator.address)
