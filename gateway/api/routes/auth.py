"""Member login: sign a challenge with the member key, get a short-lived token."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import PrincipalDep, StateDep
from gateway.schemas import (
    ChallengeRequest,
    ChallengeResponse,
    Problem,
    TokenRequest,
    TokenResponse,
)
from gateway.services.auth import role_names

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/challenge", response_model=ChallengeResponse)
def challenge(state: StateDep, body: ChallengeRequest) -> ChallengeResponse:
    """Return a nonce and the exact message to sign with EIP-191 ``personal_sign``."""
    nonce, message, expires = state.auth.challenge(body.address)
    return ChallengeResponse(nonce=nonce, message=message, expires_at=expires)


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={401: {"model": Problem}, 403: {"model": Problem}},
)
def token(state: StateDep, body: TokenRequest) -> TokenResponse:
    """Check the signature and that the signer is an active member on chain; issue a token."""
    access, expires, roles = state.auth.login(body.address, body.nonce, body.signature)
    from web3 import Web3

    return TokenResponse(
        access_token=access,
        expires_at=expires,
        address=Web3.to_checksum_address(body.address),
        roles=role_names(roles),
    )


@router.get("/me", responses={401: {"model": Problem}, 403: {"model": Problem}})
def me(principal: PrincipalDep) -> dict[str, object]:
    """Who the bearer credential stands for."""
    return {
        "address": principal.address,
        "roles": role_names(principal.roles),
        "kind": principal.kind,
    }
