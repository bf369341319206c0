"""Who is calling: members signing in with Ethereum (EIP-4361), the operator's console key,
and role checks against each member's current standing in the index."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_defunct

from gateway.core.config import Settings
from gateway.core.security import TokenError, TokenExpiredError, TokenSigner
from gateway.core.siwe import SiweFormatError, SiweMessage, rfc3339, timestamp
from gateway.services.chain import Chain
from gateway.services.nonces import NonceStore
from gateway.services.readmodel import ReadModel
from gateway.services.standing import Standing, refusal
from gateway.services.throttle import AuthThrottle
from ledger_client.contracts import Role
from ledger_client.errors import RxLedgerError

#: The statement of every login message.
STATEMENT = "Sign in to this RxLedger gateway as a member of the consortium."
TOKEN_PREFIX = "rxl1."
#: Every role: the console stands for the operator with whatever roles the index gives it.
ANY_ROLE = Role(sum(Role))


class AuthError(RxLedgerError, PermissionError):
    """Raised when a caller cannot be authenticated (HTTP 401) or is not allowed (HTTP 403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, with the roles it holds now."""

    address: str
    roles: Role
    kind: str  # "member" (token) or "console" (the operator's staff)
    #: when the caller's token expires (Unix time); None for the console key
    expires_at: int | None = None

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


@dataclass(frozen=True)
class LoginOrigin:
    """What a login message must name: this gateway (from its public URL) and its chain."""

    scheme: str
    domain: str
    uri: str
    chain_id: int

    @classmethod
    def of(cls, public_url: str, chain_id: int) -> LoginOrigin:
        """The origin of a gateway reachable at ``public_url`` on chain ``chain_id``."""
        parts = urlsplit(public_url)
        return cls(parts.scheme, parts.netloc, public_url.rstrip("/"), chain_id)

    def mismatch(self, message: SiweMessage, now: float) -> str | None:
        """Why ``message`` is not a login to this gateway on this chain valid at ``now``."""
        signed_for = f"{message.scheme or 'https'}://{message.domain}"
        expected = f"{self.scheme}://{self.domain}"
        if signed_for.lower() != expected.lower():
            return f"message is signed for {signed_for}, not for this gateway ({expected})"
        if message.uri != self.uri:
            return f"message URI is {message.uri}, not this gateway's ({self.uri})"
        if message.chain_id != self.chain_id:
            return f"message is for chain {message.chain_id}, this gateway's is {self.chain_id}"
        if message.expiration_time is None:
            return "message has no Expiration Time: sign the challenge this gateway issued"
        if timestamp(message.expiration_time) <= now:
            return f"message expired at {message.expiration_time}: request a new challenge"
        if message.not_before is not None and timestamp(message.not_before) > now:
            return f"message is not valid before {message.not_before}"
        return None


@dataclass(frozen=True)
class Challenge:
    """A login challenge: the EIP-4361 message to sign (with its nonce) and its expiry."""

    message: SiweMessage
    expires_at: int


@dataclass(frozen=True)
class Login:
    """A token issued to a member."""

    token: str
    expires_at: int
    address: str
    roles: Role


@dataclass
class Authenticator:
    """Issues tokens to members that sign a challenge, and resolves bearer credentials."""

    signer: TokenSigner
    chain: Chain
    readmodel: ReadModel
    nonces: NonceStore
    throttle: AuthThrottle
    origin: LoginOrigin
    challenge_ttl: int
    console_key: str = field(repr=False)
    operator: str | None

    @classmethod
    def from_settings(
        cls, settings: Settings, chain: Chain, readmodel: ReadModel, nonces: NonceStore
    ) -> Authenticator:
        """The authenticator of a gateway configured by ``settings``, on ``chain``."""
        return cls(
            TokenSigner(
                settings.token_secret.get_secret_value(),
                settings.token_ttl_seconds,
                settings.public_url,
            ),
            chain,
            readmodel,
            nonces,
            AuthThrottle(
                settings.login_attempts_per_minute,
                settings.auth_failures_per_hour,
                settings.rate_limit_per_second,
                settings.rate_limit_burst,
            ),
            LoginOrigin.of(settings.public_url, chain.deployment.chain_id),
            settings.login_challenge_ttl_seconds,
            settings.console_key.get_secret_value(),
            settings.operator.address if settings.operator else None,
        )

    def challenge(self, address: str, client: str) -> Challenge:
        """Return a Sign-In with Ethereum message for ``address`` with a fresh nonce."""
        self.throttle.guard(f"ip:{client}")
        self.throttle.login(f"ip:{client}")
        now = int(time.time())
        expires = now + self.challenge_ttl
        o = self.origin
        message = SiweMessage(
            domain=o.domain,
            address=address,
            uri=o.uri,
            chain_id=o.chain_id,
            nonce=self.nonces.issue(address, expires, now),
            issued_at=rfc3339(now),
            scheme=o.scheme,
            statement=STATEMENT,
            expiration_time=rfc3339(expires),
        )
        return Challenge(message, expires)

    def login(self, text: str, signature: str, client: str) -> Login:
        """Check a signed login message and the signer's membership on chain; return a token.

        Every failure counts against the client IP and the address the message names.
        """
        ip = f"ip:{client}"
        self.throttle.guard(ip)
        self.throttle.login(ip)
        try:
            message = SiweMessage.parse(text)
        except SiweFormatError as exc:
            self.throttle.failed(ip)
            raise AuthError(401, f"not a Sign-In with Ethereum (EIP-4361) message: {exc}") from None
        who = f"address:{message.address}"
        self.throttle.guard(who)
        self.throttle.login(who)
        try:
            return self._login(message, text, signature)
        except AuthError:
            self.throttle.failed(ip, who)
            raise

    def _login(self, message: SiweMessage, text: str, signature: str) -> Login:
        now = int(time.time())
        mismatch = self.origin.mismatch(message, now)
        if mismatch:
            raise AuthError(401, mismatch)
        try:
            signer = Account.recover_message(encode_defunct(text=text), signature=signature)
        except Exception:  # noqa: BLE001 - any malformed signature is a plain 401
            raise AuthError(401, "signature is malformed") from None
        if signer != message.address:
            raise AuthError(401, f"signature is by {signer}, not by {message.address}")
        unusable = self.nonces.consume(message.nonce, message.address, now)
        if unusable:
            raise AuthError(401, unusable)
        member = self.chain.member(message.address)
        standing = Standing(member.roles, member.status, member.licence_expiry)
        refused = refusal(message.address, standing, now)
        if refused:
            raise AuthError(403, refused)
        token, expires = self.signer.issue(message.address, int(member.roles))
        return Login(token, expires, message.address, member.roles)

    def authenticate(self, authorization: str | None, client: str) -> Principal:
        """Resolve an ``Authorization: Bearer ...`` header to a principal with its current
        roles, or raise AuthError (or ThrottledError after too many failures from ``client``).
        """
        if not authorization:
            raise AuthError(
                401, "missing Authorization: Bearer token (get one at /v1/auth/challenge)"
            )
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthError(401, "Authorization must be 'Bearer <token>'")
        ip = f"ip:{client}"
        self.throttle.guard(ip)
        if credential.startswith(TOKEN_PREFIX):
            try:
                claims = self.signer.check(credential)
            except TokenExpiredError as exc:
                raise AuthError(401, str(exc)) from None
            except TokenError as exc:
                self.throttle.failed(ip)
                raise AuthError(401, str(exc)) from None
            return self._current(
                Principal(claims.address, Role(claims.roles), "member", claims.expires_at)
            )
        self.throttle.console(client)
        if not hmac.compare_digest(credential.encode(), self.console_key.encode()):
            self.throttle.failed(ip)
            raise AuthError(
                401, "credential is neither a token of this gateway nor its console key"
            )
        if self.operator is None:
            raise AuthError(403, "this gateway has no operator key: the console is read-only")
        return self._current(Principal(self.operator, ANY_ROLE, "console"))

    def recheck(self, principal: Principal) -> Principal | None:
        """``principal`` with the roles it holds now, or None when it may no longer act (its
        standing changed, or its token expired)."""
        if principal.expires_at is not None and principal.expires_at < time.time():
            return None
        try:
            return self._current(principal)
        except AuthError:
            return None

    def _current(self, principal: Principal) -> Principal:
        """Narrow ``principal``'s roles to those the index holds now; 403 if it may not act."""
        # standing() refreshes the per-block caches the request's later reads use (member names)
        standing = self.readmodel.standing(principal.address)
        refused = refusal(principal.address, standing)
        if refused:
            raise AuthError(403, refused)
        return replace(principal, roles=principal.roles & standing.roles)
