"""Member login: Sign-In with Ethereum (EIP-4361) with the member key, get a short-lived token."""

from __future__ import annotations

from fastapi import APIRouter
from web3 import Web3

from gateway.api.deps import ClientDep, PrincipalDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import ChallengeRequest, ChallengeResponse, TokenRequest, TokenResponse
from gateway.services.auth import role_names

router = APIRouter(prefix="/v1/auth", tags=["auth"])
THROTTLED = problems(429)
ERRORS = problems(401, 403, 429)


@router.post("/challenge", response_model=ChallengeResponse, responses=THROTTLED)
def challenge(state: StateDep, client: ClientDep, body: ChallengeRequest) -> ChallengeResponse:
    """Return an EIP-4361 message naming this gateway, its chain and a single-use nonce, to
    sign with EIP-191 ``personal_sign``."""
    issued = state.auth.challenge(Web3.to_checksum_address(body.address), client)
    message = issued.message
    return ChallengeResponse(
        message=message.text(),
        nonce=message.nonce,
        domain=message.domain,
        uri=message.uri,
        chain_id=message.chain_id,
        expires_at=issued.expires_at,
    )


@router.post(
    "/token",
    response_model=TokenResponse,
    responses=ERRORS,
)
def token(state: StateDep, client: ClientDep, body: TokenRequest) -> TokenResponse:
    """Check the signed message (this gateway's domain and URI, its chain id, an unused nonce,
    not expired, signed by the address it names) and that the signer is an active member on
    chain; issue a token. Each nonce buys one token: a second exchange is 401."""
    login = state.auth.login(body.message, body.signature, client)
    return TokenResponse(
        access_token=login.token,
        expires_at=login.expires_at,
        address=login.address,
        roles=role_names(login.roles),
    )


@router.get("/me", responses=ERRORS)
def me(principal: PrincipalDep) -> dict[str, object]:
    """Who the bearer credential stands for, with the roles it holds now."""
    return {
        "address": principal.address,
        "roles": role_names(principal.roles),
        "kind": principal.kind,
    }
