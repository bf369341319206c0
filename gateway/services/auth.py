"""Who is calling: members proving their key, the operator's console key, and role checks."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from gateway.core.security import TokenError, TokenSigner, challenge_message
from gateway.services.chain import Chain
from gateway.services.readmodel import ReadModel
from ledger_client.contracts import MemberStatus, Role


class AuthError(Exception):
    """Raised when a caller cannot be authenticated (HTTP 401) or is not allowed (HTTP 403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    address: str
    roles: Role
    kind: str  # "member" (token) or "console" (the operator's staff)

    @property
    def key(self) -> str:
        """Identity used for rate limits and verification records."""
        return f"{self.kind}:{self.address}"

    def require(self, roles: Role, what: str) -> None:
        """Raise 403 unless the principal has one of ``roles``."""
        if not self.roles & roles:
            names = "|".join(r.name or "" for r in Role if r & roles)
            raise AuthError(
                403,
                f"{what} needs one of the roles {names};"
                f" {self.address} has {role_names(self.roles)}",
            )


def role_names(roles: Role | int) -> list[str]:
    """Return the names of the bits set in ``roles``."""
    return [r.name or "" for r in Role if Role(roles) & r]


class Authenticator:
    """Issues tokens to members that sign a challenge, and resolves bearer credentials."""

    def __init__(
        self,
        signer: TokenSigner,
        chain: Chain,
        readmodel: ReadModel,
        console_key: str,
        operator: str | None,
    ) -> None:
        self.signer = signer
        self.chain = chain
        self.readmodel = readmodel
        self._console_key = console_key
        self.operator = operator

    def challenge(self, address: str) -> tuple[str, str, int]:
        """Return a nonce, the message to sign and its expiry."""
        address = Web3.to_checksum_address(address)
        nonce, expires = self.signer.challenge(address)
        return nonce, challenge_message(address, nonce, expires), expires

    def login(self, address: str, nonce: str, signature: str) -> tuple[str, int, Role]:
        """Check the signed challenge and the signer's membership on chain; return a token."""
        address = Web3.to_checksum_address(address)
        try:
            expires = self.signer.check_challenge(nonce, address)
        except TokenError as exc:
            raise AuthError(401, str(exc)) from None
        message = challenge_message(address, nonce, expires)
        try:
            signer = Account.recover_message(encode_defunct(text=message), signature=signature)
        except Exception:  # noqa: BLE001 - any malformed signature is a plain 401
            raise AuthError(401, "signature is malformed") from None
        if signer != address:
            raise AuthError(401, f"signature is by {signer}, not by {address}")
        member = self.chain.member(address)
        self._require_active(address, member.status, member.licence_expiry)
        token, token_expires = self.signer.issue(address, int(member.roles))
        return token, token_expires, member.roles

    def _require_active(self, address: str, status: int, licence_expiry: int) -> None:
        if status == MemberStatus.NONE:
            raise AuthError(403, f"{address} is not a member of this RxLedger network")
        if status != MemberStatus.ACTIVE:
            raise AuthError(403, f"member {address} is {MemberStatus(status).name.lower()}")
        if licence_expiry and licence_expiry < time.time():
            raise AuthError(403, f"member {address}'s licence expired")

    def authenticate(self, authorization: str | None) -> Principal:
        """Resolve an ``Authorization: Bearer ...`` header to a principal, or raise AuthError."""
        if not authorization:
            raise AuthError(
                401, "missing Authorization: Bearer token (get one at /v1/auth/challenge)"
            )
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthError(401, "Authorization must be 'Bearer <token>'")
        if hmac.compare_digest(credential.encode(), self._console_key.encode()):
            if self.operator is None:
                raise AuthError(403, "this gateway has no operator key: the console is read-only")
            return Principal(self.operator, self._indexed_roles(self.operator), "console")
        try:
            claims = self.signer.check(credential)
        except TokenError as exc:
            raise AuthError(401, str(exc)) from None
        self.readmodel.refresh(self.readmodel.indexed_block())
        member = self.readmodel.member(claims.address)
        if member is not None:
            self._require_active(claims.address, member.status, 0)
        return Principal(claims.address, Role(claims.roles), "member")

    def _indexed_roles(self, address: str) -> Role:
        self.readmodel.refresh(self.readmodel.indexed_block())
        member = self.readmodel.member(address)
        return Role(member.roles) if member else Role(0)
