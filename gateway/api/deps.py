"""Typed dependencies: the gateway state, the authenticated caller, rate limits.

They are ``async`` on purpose: each is a few microseconds of work (an HMAC, cached lookups),
and a sync dependency would cost a hop to the thread pool and back on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.services.auth import AuthError, Principal
from gateway.state import GatewayState

bearer = HTTPBearer(
    auto_error=False, description="a member token from /v1/auth/token, or the console key"
)


async def get_state(request: Request) -> GatewayState:
    """Return the gateway state of this app."""
    return request.app.state.rx  # type: ignore[no-any-return]


StateDep = Annotated[GatewayState, Depends(get_state)]


async def get_principal(
    state: StateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """Return the authenticated caller or raise 401/403."""
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    return state.auth.authenticate(header)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def take_rate(state: GatewayState, principal: Principal) -> Principal:
    """Return the caller after taking one request from its rate limit (429 when exhausted)."""
    wait = state.limiter.acquire(principal.key)
    if wait:
        raise HTTPException(
            429,
            f"rate limit of {state.settings.rate_limit_per_second:g}/s exceeded",
            headers={"Retry-After": str(max(1, int(wait + 0.999)))},
        )
    return principal


async def rate_limited(state: StateDep, principal: PrincipalDep) -> Principal:
    """The authenticated caller, rate limited (see :func:`take_rate`)."""
    return take_rate(state, principal)


LimitedPrincipalDep = Annotated[Principal, Depends(rate_limited)]


async def operator_principal(state: StateDep, principal: LimitedPrincipalDep) -> Principal:
    """Return the caller if it may make this gateway sign with the operator's key."""
    operator = state.settings.operator
    if operator is None:
        raise AuthError(403, "this gateway has no operator key: it cannot write")
    if principal.address != operator.address:
        raise AuthError(
            403,
            f"{principal.address} is not this gateway's operator ({operator.address}): sign the "
            "write yourself as an ERC-2771 forward request (ledger_client.relay.sign_request) "
            "and POST it to /v1/relay",
        )
    return principal


OperatorDep = Annotated[Principal, Depends(operator_principal)]
