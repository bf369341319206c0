"""The registry's views read by raw ``eth_call``: calldata, JSON-RPC batches, and decoders
that read the returned ABI words straight into the tuples :class:`RegistryModel` writes
(the comparison's speed: web3's contract calls cost a millisecond or more each).

Every view the comparison reads is a static tuple, one 32-byte word per field: ``PackView``
(14 words), ``UnitView`` (8), ``LotView`` (7), ``Verification`` (status, pack id, a
``PackView``, a ``LotView``, the product owner: 24 words) and the exception registry's
``ExceptionView`` (10).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from requests.exceptions import RequestException
from web3 import HTTPProvider, Web3

from ledger_client.events.decoder import address_of

PACK_FIELDS = (
    "status",
    "reason",
    "flags",
    "flag_reason",
    "decommissioned_at",
    "undo_deadline",
    "flag_authority",
    "lot_id",
    "parent",
    "custodian",
    "pending_to",
    "in_transit",
    "lost",
    "lot_tag",
)
UNIT_FIELDS = (
    "index",
    "status",
    "level",
    "parent",
    "custodian",
    "pending_to",
    "in_transit",
    "lost",
)
LOT_FIELDS = (
    "id",
    "owner",
    "expiry",
    "expires_at",
    "status",
    "status_authority",
    "recall_requested_by",
)
EXCEPTION_FIELDS = (
    "opener",
    "counterparty",
    "kind",
    "status",
    "resolved_by",
    "opened_at",
    "answered_at",
    "resolved_at",
    "items_hash",
    "evidence_hash",
)
#: JSON-RPC requests per HTTP batch, and calldata bytes per batch: nodes refuse large request
#: bodies as a whole (anvil answers "Invalid request" to 200 calls of 500 pack ids each).
BATCH = 200
BATCH_BYTES = 256 * 1024


def call_data(signature: str, *args: Any) -> bytes:
    """Calldata of ``signature`` (``"lotState(bytes32)"``) with ``args``."""
    types = signature[signature.index("(") + 1 : -1]
    selector = bytes(function_signature_to_4byte_selector(signature))
    return selector + encode(types.split(",") if types else [], list(args))


def eth_calls(w3: Web3, to: str, calls: Iterable[bytes], block: int | str) -> list[bytes]:
    """The results of ``eth_call`` of each calldata in ``calls`` on contract ``to`` at
    ``block`` (:func:`iter_eth_calls`, collected)."""
    return list(iter_eth_calls(w3, to, calls, block))


def iter_eth_calls(w3: Web3, to: str, calls: Iterable[bytes], block: int | str) -> Iterator[bytes]:
    """The results of ``eth_call`` of each calldata in ``calls`` on contract ``to`` at
    ``block``, in order, as they come: in JSON-RPC batches over HTTP, one by one on other
    providers. A caller that handles each result in turn holds one batch at a time (an
    auditor comparing 10,000,000 packs held every answer, 4.5 GB, before)."""
    if not isinstance(w3.provider, HTTPProvider):
        call: Any = w3.eth.call  # typed for web3's own transaction and block types
        for c in calls:
            yield bytes(call({"to": to, "data": c}, block))
        return
    at = hex(block) if isinstance(block, int) else block
    for batch in _batches(calls):
        yield from _batch_call(w3.provider, to, batch, at)


def _batch_call(provider: HTTPProvider, to: str, batch: Sequence[bytes], at: str) -> list[bytes]:
    """One JSON-RPC batch of ``eth_call``, halved while the node drops or refuses it: geth
    closes the connection when a batch takes longer than its HTTP write timeout (30 s) to
    answer, as a busy node does with 200 calls over a large state. A single call the node
    cannot answer raises."""
    requests: list[Any] = [("eth_call", [{"to": to, "data": "0x" + c.hex()}, at]) for c in batch]
    responses: Any = None
    try:
        responses = provider.make_batch_request(requests)
    except RequestException:
        if len(batch) == 1:
            raise
    if not isinstance(responses, list):  # dropped, or the node refused the whole batch
        if len(batch) == 1:
            raise ValueError(f"eth_call batch failed: {responses.get('error')}")
        middle = len(batch) // 2
        return _batch_call(provider, to, batch[:middle], at) + _batch_call(
            provider, to, batch[middle:], at
        )
    out = []
    for r in responses:
        if "error" in r:
            raise ValueError(f"eth_call failed: {r['error']}")
        out.append(bytes.fromhex(r["result"][2:]))
    return out


def _batches(calls: Iterable[bytes]) -> Iterator[list[bytes]]:
    """``calls`` in runs of at most :data:`BATCH` calls and about :data:`BATCH_BYTES` bytes."""
    batch: list[bytes] = []
    size = 0
    for c in calls:
        if batch and (len(batch) == BATCH or size + len(c) > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(c)
        size += len(c)
    if batch:
        yield batch


def _uint(out: bytes, at: int) -> int:
    return int.from_bytes(out[at : at + 32], "big")


def pack_view(out: bytes, at: int = 0) -> tuple[Any, ...]:
    """The ``PackView`` whose 14 words start at byte ``at`` of ``out``."""
    return (
        out[at + 31],
        out[at + 63],
        out[at + 95],
        out[at + 127],
        _uint(out, at + 128),
        _uint(out, at + 160),
        out[at + 223],
        out[at + 224 : at + 256],
        _uint(out, at + 256),
        address_of(out[at + 288 : at + 320]),
        address_of(out[at + 320 : at + 352]),
        out[at + 383] != 0,
        out[at + 415] != 0,
        out[at + 416 : at + 419],
    )


def pack_views(out: bytes) -> list[tuple[Any, ...]]:
    """The ``PackView[]`` that ``packStates`` returned in ``out``."""
    n = _uint(out, 32)
    size = 32 * len(PACK_FIELDS)
    return [pack_view(out, 64 + size * k) for k in range(n)]


def unit_view(out: bytes, at: int = 0) -> tuple[Any, ...]:
    """The ``UnitView`` whose 8 words start at byte ``at`` of ``out``."""
    return (
        _uint(out, at),
        out[at + 63],
        out[at + 95],
        _uint(out, at + 96),
        address_of(out[at + 128 : at + 160]),
        address_of(out[at + 160 : at + 192]),
        out[at + 223] != 0,
        out[at + 255] != 0,
    )


def lot_view(out: bytes, at: int = 0) -> tuple[Any, ...]:
    """The ``LotView`` whose 7 words start at byte ``at`` of ``out``."""
    return (
        out[at : at + 32],
        address_of(out[at + 32 : at + 64]),
        _uint(out, at + 64),
        _uint(out, at + 96),
        out[at + 159],
        out[at + 191],
        address_of(out[at + 192 : at + 224]),
    )


def verification(out: bytes) -> tuple[Any, ...]:
    """The ``Verification`` that ``verify`` returned in ``out``."""
    return (out[31], out[32:64], pack_view(out, 64), lot_view(out, 512), address_of(out[736:768]))


def exception_view(out: bytes) -> tuple[Any, ...]:
    """The ``ExceptionView`` that ``exceptionRecord`` returned in ``out``."""
    return (
        address_of(out[0:32]),
        address_of(out[32:64]),
        out[95],
        out[127],
        out[159],
        _uint(out, 160),
        _uint(out, 192),
        _uint(out, 224),
        out[256:288],
        out[288:320],
    )
