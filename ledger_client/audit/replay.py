"""Replay an RxLedger history into :class:`RegistryModel` and compare it with the chain.

``replay_logs`` decodes and applies logs (timed: the auditor's throughput); ``compare_with_chain``
reads every pack (batched ``packStates``), unit and lot the history names from the contracts and
reports each difference as a :class:`Divergence`, as are the events the model found
impossible (:class:`~ledger_client.audit.state.RuleViolation`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import HTTPProvider, Web3

from ledger_client.audit.logs import load_logs
from ledger_client.audit.model import Lot, RegistryModel, Unit
from ledger_client.contracts import Deployment
from ledger_client.events import ConsortiumEvent, RawLog, decode
from ledger_client.events.decoder import address_of
from ledger_client.logs import fetch_logs
from ledger_client.types import ZERO_ADDRESS

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
)
UNIT_FIELDS = ("index", "status", "level", "parent", "custodian", "pending_to", "in_transit")
LOT_FIELDS = (
    "id",
    "owner",
    "expiry",
    "expires_at",
    "status",
    "status_authority",
    "recall_requested_by",
)
#: Packs per ``packStates`` call: well under any node's eth_call gas cap.
DEFAULT_CHUNK = 500


def _show(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Divergence:
    """A difference between the replayed model and the chain, or an impossible event."""

    kind: str
    subject: str
    fields: dict[str, dict[str, Any]]
    evidence: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "fields": self.fields,
            "evidence": self.evidence,
        }


@dataclass
class ReplayResult:
    """A replayed model with its throughput and, once compared, its divergences."""

    model: RegistryModel
    decode_seconds: float
    apply_seconds: float
    fetch_seconds: float = 0.0
    compare_seconds: float = 0.0
    compared: dict[str, int] = field(default_factory=dict)
    compared_at_block: int | str | None = None
    divergences: list[Divergence] = field(default_factory=list)

    @property
    def events(self) -> int:
        """Decoded RxLedger logs replayed (one log = one event)."""
        return len(self.model.events)

    @property
    def replay_seconds(self) -> float:
        """Decode plus apply time."""
        return self.decode_seconds + self.apply_seconds

    def summary(self) -> dict[str, Any]:
        """Return the numbers of this replay as a JSON-ready dict."""
        seconds = max(self.replay_seconds, 1e-9)
        m = self.model
        return {
            "events": self.events,
            "packs": len(m.packs),
            "units": len(m.units),
            "lots": len(m.lots),
            "members": len(m.members),
            "pack_operations": m.pack_ops,
            "replay_seconds": round(self.replay_seconds, 4),
            "decode_seconds": round(self.decode_seconds, 4),
            "apply_seconds": round(self.apply_seconds, 4),
            "fetch_seconds": round(self.fetch_seconds, 4),
            "compare_seconds": round(self.compare_seconds, 4),
            "events_per_second": round(self.events / seconds),
            "pack_operations_per_second": round(m.pack_ops / seconds),
            "compared": self.compared,
            "compared_at_block": self.compared_at_block,
            "divergences": len(self.divergences),
            "findings": [d.as_dict() for d in self.divergences],
        }


def consortium_address(logs: Sequence[RawLog]) -> str:
    """The address that emitted the consortium's events among ``logs`` (zero if none did)."""
    for log in logs:
        if any(isinstance(e, ConsortiumEvent) for e in decode([log])):
            return to_checksum_address(log.address)
    return ZERO_ADDRESS


def replay_logs(logs: Sequence[RawLog], model: RegistryModel | None = None) -> ReplayResult:
    """Decode and apply ``logs`` (in chain order) to a fresh model (or ``model``), whose
    council is the consortium that emitted them."""
    model = model or RegistryModel(consortium_address(logs))
    # The replay allocates millions of small objects that live until the end: the cyclic
    # collector would only rescan them over and over.
    enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        events = decode(logs)
        t1 = time.perf_counter()
        model.apply_all(events)
        t2 = time.perf_counter()
    finally:
        if enabled:
            gc.enable()
    result = ReplayResult(model, t1 - t0, t2 - t1)
    result.divergences.extend(_violations(model))
    return result


def _violations(model: RegistryModel) -> list[Divergence]:
    out = []
    for v in model.violations:
        d = v.as_dict(model)
        out.append(
            Divergence("IMPOSSIBLE_EVENT", d["subject"], {"rule": {"model": d["rule"]}}, [d])
        )
    return out


def _evidence(model: RegistryModel, history: list[int], last: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "event": e.name,
            "tx": "0x" + e.tx_hash.hex(),
            "block": e.block_number,
            "timestamp": e.timestamp,
        }
        for e in (model.events[i] for i in history[-last:])
    ]


def _diff(
    names: Sequence[str], mine: Sequence[Any], theirs: Sequence[Any]
) -> dict[str, dict[str, Any]]:
    return {
        n: {"model": _show(a), "chain": _show(b)}
        for n, a, b in zip(names, mine, theirs, strict=True)
        if a != b
    }


def _normalise(t: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(bytes(x) if isinstance(x, bytes | bytearray) else x for x in t)


_PACK_STATES = bytes(function_signature_to_4byte_selector("packStates(bytes32[])"))
#: ABI words of one ``PackView`` (a static tuple): one per field.
_PACK_WORDS = len(PACK_FIELDS)


def _pack_states(
    w3: Web3, registry: str, ids: list[bytes], block: int | str
) -> list[tuple[Any, ...]]:
    """``packStates(ids)`` by raw eth_call, decoded straight from the returned words."""
    data = _PACK_STATES + encode(["bytes32[]"], [ids])
    tx: Any = {"to": registry, "data": data}
    out = bytes(w3.eth.call(tx, block_identifier=block))  # type: ignore[arg-type]
    n = int.from_bytes(out[32:64], "big")
    if n != len(ids):
        raise ValueError(f"packStates returned {n} views for {len(ids)} ids")
    views = []
    for k in range(n):
        base = 64 + 32 * _PACK_WORDS * k
        w = [out[base + 32 * j : base + 32 * j + 32] for j in range(_PACK_WORDS)]
        views.append(
            (
                w[0][31],
                w[1][31],
                w[2][31],
                w[3][31],
                int.from_bytes(w[4], "big"),
                int.from_bytes(w[5], "big"),
                w[6][31],
                bytes(w[7]),
                int.from_bytes(w[8], "big"),
                address_of(w[9]),
                address_of(w[10]),
                w[11][31] != 0,
            )
        )
    return views


def _call_many(w3: Web3, calls: list[Any], block: int | str) -> list[Any]:
    """Run contract calls at ``block``, in JSON-RPC batches where the provider supports them."""
    if not isinstance(w3.provider, HTTPProvider):
        return [c.call(block_identifier=block) for c in calls]
    out: list[Any] = []
    for start in range(0, len(calls), 200):
        with w3.batch_requests() as batch:
            for c in calls[start : start + 200]:
                batch.add(c.call(block_identifier=block))
            out.extend(batch.execute())
    return out


_R = TypeVar("_R", Lot, Unit)


def _state_divergences(
    model: RegistryModel,
    kind: str,
    names: Sequence[str],
    records: Sequence[_R],
    view: Callable[[_R], tuple[Any, ...]],
    chain_views: Sequence[Sequence[Any]],
) -> list[Divergence]:
    """A divergence for each unit or lot whose model view differs from the chain's."""
    found = []
    for record, raw in zip(records, chain_views, strict=True):
        mine, theirs = view(record), _normalise(raw)
        if mine != theirs:
            found.append(
                Divergence(
                    kind,
                    "0x" + record.id.hex(),
                    _diff(names, mine, theirs),
                    _evidence(model, record.history),
                )
            )
    return found


def compare_with_chain(
    model: RegistryModel,
    w3: Web3,
    deployment: Deployment,
    chunk: int = DEFAULT_CHUNK,
    block: int | str = "latest",
) -> tuple[list[Divergence], dict[str, int]]:
    """Compare every pack, unit and lot the history names with the contracts' state."""
    registry = deployment.contract(w3, "SerialRegistry")
    found: list[Divergence] = []
    pack_ids = list(model.packs) + [i for i in model.unknown_ids if i not in model.units]
    for start in range(0, len(pack_ids), chunk):
        ids = pack_ids[start : start + chunk]
        views = _pack_states(w3, registry.address, ids, block)
        for pid, theirs in zip(ids, views, strict=True):
            p = model.packs.get(pid)
            mine = model.pack_view(p)
            if mine != theirs:
                ev = _evidence(model, p.history) if p is not None else []
                found.append(
                    Divergence("PACK_STATE", "0x" + pid.hex(), _diff(PACK_FIELDS, mine, theirs), ev)
                )
    units = list(model.units.values())
    unit_views = _call_many(w3, [registry.functions.unitState(u.id) for u in units], block)
    found += _state_divergences(
        model, "UNIT_STATE", UNIT_FIELDS, units, model.unit_view, unit_views
    )
    lots = list(model.lots.values())
    lot_views = _call_many(w3, [registry.functions.lotState(lot.id) for lot in lots], block)
    found += _state_divergences(model, "LOT_STATE", LOT_FIELDS, lots, model.lot_view, lot_views)
    return found, {"packs": len(pack_ids), "units": len(units), "lots": len(lots)}


def _up_to_head(
    w3: Web3, deployment: Deployment, logs: list[RawLog], upto: int
) -> tuple[list[RawLog], int]:
    """Add the logs of the blocks after ``upto`` up to the head, then once more for the blocks
    that arrived meanwhile; return the logs and the block they now reach."""
    for _ in range(2):
        head = int(w3.eth.block_number)
        if head > upto:
            logs = logs + fetch_logs(w3, deployment, from_block=upto + 1, to_block=head)
            upto = head
    return logs, upto


def audit(
    w3: Web3 | None,
    deployment: Deployment | None = None,
    log_file: Path | None = None,
    compare: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ReplayResult:
    """Fetch (or load ``log_file``), replay, and compare with the chain when ``w3`` is given.

    The contracts are read at the head the logs reach, never at an older block, so a node
    without archive state can answer: the logs of the blocks after an export's last block
    are fetched from the chain and replayed with it. An export that names no last block is
    compared at the latest block as it is.
    """
    t0 = time.perf_counter()
    block: int | str = "latest"
    upto: int | None
    if log_file is not None:
        export = load_logs(log_file)
        deployment, logs, upto = deployment or export.deployment, export.logs, export.to_block
    else:
        if w3 is None or deployment is None:
            raise ValueError("audit needs a log file, or a chain connection and a deployment")
        logs, upto = [], deployment.block - 1
    if w3 is not None and upto is not None and (compare or log_file is None):
        logs, block = _up_to_head(w3, deployment, logs, upto)
    fetched = time.perf_counter() - t0
    if progress:
        progress(f"{len(logs)} logs read in {fetched:.2f}s")
    result = replay_logs(logs)
    result.fetch_seconds = fetched
    if compare and w3 is not None and deployment is not None:
        t1 = time.perf_counter()
        found, counts = compare_with_chain(result.model, w3, deployment, block=block)
        result.divergences.extend(found)
        result.compared = counts
        result.compared_at_block = block
        result.compare_seconds = time.perf_counter() - t1
    return result
