"""Relayed (meta-)transactions: a member signs, any gateway submits through the forwarder.

A member signs an ERC-2771 ``ForwardRequest`` (EIP-712 typed data, domain "RxLedger" v1 of
the network's ``RxForwarder``) for any Ledger call; the request travels as JSON to a gateway,
which submits it with :func:`relay` and pays the gas. The contracts see the signer as the
caller. The relayer can neither forge nor alter a request: the forwarder checks signature,
nonce (each request runs at most once) and deadline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_bytes, to_checksum_address
from web3.contract.contract import ContractFunction

from ledger_client.contracts import revert_decoder
from ledger_client.errors import ConfigurationError, RxLedgerError
from ledger_client.ledger import REVERT_ERRORS, Ledger
from ledger_client.reverts import LedgerRevertError, revert_data
from ledger_client.types import Receipt

DOMAIN_NAME = "RxLedger"
DOMAIN_VERSION = "1"
#: Seconds a request stays valid by default.
DEFAULT_TTL = 3600
#: The EIP-712 types of OpenZeppelin's ERC2771Forwarder.
TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "ForwardRequest": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "gas", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint48"},
        {"name": "data", "type": "bytes"},
    ],
}
UINT48_MAX = 2**48 - 1
UINT256_MAX = 2**256 - 1
#: A request's JSON fields, in EIP-712 order and then the signature: the wire format.
WIRE_FIELDS = ("from", "to", "value", "gas", "nonce", "deadline", "data", "signature")


class ForwardRequestError(RxLedgerError, ValueError):
    """Raised when a forward request is malformed (bad JSON, address, number or hex)."""


@dataclass(frozen=True)
class ForwardRequest:
    """A signed ERC-2771 forward request, as a gateway receives it over HTTP.

    :meth:`from_json` is the one parser of its wire format (the gateway's ``/v1/relay`` uses
    it; ``gateway.schemas.ForwardRequestIn`` only describes it in OpenAPI).

    ``sender`` is the signer (``from`` in JSON and on chain); ``nonce`` is the forwarder nonce
    it was signed with (the forwarder reads its own, so a stale nonce fails the signature).
    """

    sender: str
    to: str
    value: int
    gas: int
    nonce: int
    deadline: int
    data: bytes
    signature: bytes

    def message(self) -> dict[str, Any]:
        """The EIP-712 ``ForwardRequest`` message that was signed."""
        return {
            "from": self.sender,
            "to": self.to,
            "value": self.value,
            "gas": self.gas,
            "nonce": self.nonce,
            "deadline": self.deadline,
            "data": self.data,
        }

    def as_struct(self) -> tuple[str, str, int, int, int, bytes, bytes]:
        """The ``ForwardRequestData`` tuple that ``forwarder.execute`` takes."""
        return (
            self.sender,
            self.to,
            self.value,
            self.gas,
            self.deadline,
            self.data,
            self.signature,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: addresses checksummed, bytes as 0x-hex, numbers as integers."""
        out = asdict(self)
        out["from"] = out.pop("sender")
        out["data"] = "0x" + self.data.hex()
        out["signature"] = "0x" + self.signature.hex()
        return {k: out[k] for k in WIRE_FIELDS}

    def to_json(self) -> str:
        """This request as a JSON object."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, raw: Any) -> ForwardRequest:
        """Parse and check a request dict (as produced by :meth:`to_dict`)."""
        if not isinstance(raw, dict):
            raise ForwardRequestError("a forward request must be a JSON object")
        expected = set(WIRE_FIELDS)
        if set(raw) != expected:
            missing, extra = sorted(expected - set(raw)), sorted(set(raw) - expected)
            raise ForwardRequestError(
                f"forward request fields: missing {missing}, unexpected {extra}"
            )
        return cls(
            sender=_address(raw["from"], "from"),
            to=_address(raw["to"], "to"),
            value=_uint(raw["value"], "value", UINT256_MAX),
            gas=_uint(raw["gas"], "gas", UINT256_MAX),
            nonce=_uint(raw["nonce"], "nonce", UINT256_MAX),
            deadline=_uint(raw["deadline"], "deadline", UINT48_MAX),
            data=_hex(raw["data"], "data"),
            signature=_hex(raw["signature"], "signature"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ForwardRequest:
        """Parse a request from JSON text; raise :class:`ForwardRequestError` saying what is
        wrong (not JSON, not an object, missing or unexpected fields, the first bad value)."""
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ForwardRequestError(f"forward request is not valid JSON: {exc}") from None
        return cls.from_dict(raw)


def _address(value: Any, field: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ForwardRequestError(f"{field} is not an address: {value!r}")
    return str(to_checksum_address(value))


def _uint(value: Any, field: str, maximum: int) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ForwardRequestError(f"{field} is not an unsigned integer in range: {value!r}")
    return value


def _hex(value: Any, field: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) % 2:
        raise ForwardRequestError(f"{field} is not 0x-prefixed hex: {value!r}")
    try:
        return bytes(to_bytes(hexstr=value))
    except ValueError:
        raise ForwardRequestError(f"{field} is not 0x-prefixed hex: {value!r}") from None


def typed_data(
    request: ForwardRequest | dict[str, Any], chain_id: int, forwarder: str
) -> dict[str, Any]:
    """The full EIP-712 typed data of ``request`` (a request or its message dict)."""
    message = request.message() if isinstance(request, ForwardRequest) else request
    return {
        "types": TYPES,
        "primaryType": "ForwardRequest",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(forwarder),
        },
        "message": message,
    }


def _decoded(exc: BaseException) -> LedgerRevertError | None:
    data = revert_data(exc)
    return None if data is None else revert_decoder().decode(data)


def estimate_forwarded_gas(ledger: Ledger, fn: ContractFunction, sender: str | None = None) -> int:
    """Gas for ``fn`` called by ``sender`` (default: ``ledger``'s member) through the
    forwarder, with a margin.

    Raises the call's decoded :class:`LedgerRevertError` when it would revert.
    """
    call = {
        "from": ledger.forwarder.address,
        "to": fn.address,
        "data": fn._encode_transaction_data() + (sender or ledger.address)[2:].lower(),
        "gasPrice": 0,  # the forwarder holds no ether
    }
    try:
        gas = ledger.w3.eth.estimate_gas(call)  # type: ignore[arg-type]
    except REVERT_ERRORS as exc:
        error = _decoded(exc)
        if error is None:
            raise
        raise error from None
    return gas * 5 // 4 + 20_000


def sign_request(
    ledger: Ledger,
    fn: ContractFunction,
    *,
    gas: int | None = None,
    ttl: int = DEFAULT_TTL,
    deadline: int | None = None,
    nonce: int | None = None,
    chain_id: int | None = None,
    account: LocalAccount | None = None,
) -> ForwardRequest:
    """Sign a forward request for Ledger call ``fn`` as ``ledger``'s member (or ``account``).

    ``gas`` defaults to an estimate (which raises the call's revert error when it would fail);
    ``deadline`` to the latest block time plus ``ttl``; ``nonce`` to the forwarder's next
    nonce of the signer; ``chain_id`` to the connected chain's.
    """
    signer = account or ledger.account
    if signer is None:
        raise ConfigurationError("signing a forward request needs the member's account")
    w3 = ledger.w3
    if gas is None:
        gas = estimate_forwarded_gas(ledger, fn, signer.address)
    if deadline is None:
        deadline = int(w3.eth.get_block("latest")["timestamp"]) + ttl
    if nonce is None:
        nonce = int(ledger.forwarder.functions.nonces(signer.address).call())
    unsigned = ForwardRequest(
        sender=signer.address,
        to=to_checksum_address(fn.address),
        value=0,
        gas=gas,
        nonce=nonce,
        deadline=deadline,
        data=bytes(to_bytes(hexstr=fn._encode_transaction_data())),
        signature=b"",
    )
    data = typed_data(
        unsigned, chain_id if chain_id is not None else w3.eth.chain_id, ledger.forwarder.address
    )
    signed = signer.sign_message(encode_typed_data(full_message=data))
    return ForwardRequest(**{**asdict(unsigned), "signature": bytes(signed.signature)})


def relay(relayer: Ledger, request: ForwardRequest) -> Receipt:
    """Submit ``request`` through the forwarder, paid by ``relayer``; return the receipt.

    Raises :class:`LedgerRevertError`: the forwarder's error when the request is invalid
    (``ERC2771ForwarderInvalidSigner`` for a tampered, replayed or foreign-chain request,
    ``ERC2771ForwarderExpiredRequest`` past its deadline), else the target contract's own
    error (e.g. ``ConsortiumNotMember`` when the signer is not a member).
    """
    execute = relayer.forwarder.functions.execute(request.as_struct())
    try:
        return relayer.transact(execute)
    except LedgerRevertError as exc:
        if exc.error != "FailedCall":
            raise
    # The forwarder hides why the forwarded call failed: replay it as the forwarder would.
    call = {
        "from": relayer.forwarder.address,
        "to": request.to,
        "data": "0x" + (request.data + to_bytes(hexstr=request.sender)).hex(),
        "gasPrice": 0,
    }
    try:
        relayer.w3.eth.estimate_gas(call)  # type: ignore[arg-type]
    except REVERT_ERRORS as exc:
        error = _decoded(exc)
        if error is not None:
            raise error from None
        raise
    # It succeeds with all the gas it wants: the request's gas was too little.
    raise LedgerRevertError("FailedCall", {"gas": request.gas}, b"")
