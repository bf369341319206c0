"""Replay an RxLedger history into :class:`RegistryModel` and compare it with the chain.

``replay_logs`` decodes and applies logs (timed: the auditor's throughput); ``compare_with_chain``
reads every pack (batched ``packStates``), unit, lot and exception record the history names
from the contracts
(raw calls in JSON-RPC batches, :mod:`ledger_client.audit.views`) and reports each difference
as a :class:`Divergence`, as are the events the model found impossible
(:class:`~ledger_client.audit.state.RuleViolation`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from eth_utils import to_checksum_address
from web3 import Web3

from ledger_client.audit.logs import load_logs
from ledger_client.audit.model import Lot, RegistryModel, Unit
from ledger_client.audit.views import (
    EXCEPTION_FIELDS,
    LOT_FIELDS,
    PACK_FIELDS,
    UNIT_FIELDS,
    call_data,
    eth_calls,
    exception_view,
    iter_eth_calls,
    lot_view,
    pack_views,
    unit_view,
)
from ledger_client.contracts import Deployment
from ledger_client.events import ConsortiumEvent, RawLog, decode
from ledger_client.logs import fetch_logs
from ledger_client.types import ZERO_ADDRESS

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
        return asdict(self)


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
    #: The time the history stands at: the cut given, else the last block read (its time,
    #: where a node answered; else the last replayed event's).
    as_of: int = 0

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


_R = TypeVar("_R", Lot, Unit)


def _state_divergences(
    model: RegistryModel,
    kind: str,
    names: Sequence[str],
    records: Sequence[_R],
    view: Callable[[_R], tuple[Any, ...]],
    chain_views: Sequence[tuple[Any, ...]],
) -> list[Divergence]:
    """A divergence for each unit or lot whose model view differs from the chain's."""
    found = []
    for record, theirs in zip(records, chain_views, strict=True):
        mine = view(record)
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
    """Compare every pack, unit and lot the history names with the contracts' state (read
    in JSON-RPC batches of raw calls: ``packStates`` of ``chunk`` packs, ``unitState``,
    ``lotState``)."""
    pack_ids = list(model.packs) + [i for i in model.unknown_ids if i not in model.units]
    chunks = [pack_ids[start : start + chunk] for start in range(0, len(pack_ids), chunk)]
    units, lots = list(model.units.values()), list(model.lots.values())
    # the packs' answers are compared as they come, so one batch of them is held at a time
    pack_calls = (call_data("packStates(bytes32[])", ids) for ids in chunks)
    answers = iter_eth_calls(w3, deployment.registry, pack_calls, block)
    found: list[Divergence] = []
    for ids, raw in zip(chunks, answers, strict=True):
        views = pack_views(raw)
        if len(views) != len(ids):
            raise ValueError(f"packStates returned {len(views)} views for {len(ids)} ids")
        for pid, theirs in zip(ids, views, strict=True):
            p = model.packs.get(pid)
            mine = model.pack_view(p)
            if mine != theirs:
                ev = _evidence(model, p.history) if p is not None else []
                found.append(
                    Divergence("PACK_STATE", "0x" + pid.hex(), _diff(PACK_FIELDS, mine, theirs), ev)
                )
    calls = [call_data("unitState(bytes32)", u.id) for u in units]
    calls += [call_data("lotState(bytes32)", lot.id) for lot in lots]
    rest = eth_calls(w3, deployment.registry, calls, block)
    unit_views = [unit_view(raw) for raw in rest[: len(units)]]
    found += _state_divergences(
        model, "UNIT_STATE", UNIT_FIELDS, units, model.unit_view, unit_views
    )
    lot_views = [lot_view(raw) for raw in rest[len(units) :]]
    found += _state_divergences(model, "LOT_STATE", LOT_FIELDS, lots, model.lot_view, lot_views)
    found += _exception_divergences(model, w3, deployment, block)
    counts = {"packs": len(pack_ids), "units": len(units), "lots": len(lots)}
    return found, {**counts, "exceptions": len(model.exceptions)}


def _exception_divergences(
    model: RegistryModel, w3: Web3, deployment: Deployment, block: int | str
) -> list[Divergence]:
    """A divergence for each exception record whose model view differs from the chain's, and
    for a count of exceptions that differs."""
    cases = list(model.exceptions.values())
    calls = [call_data("exceptionCount()")]
    calls += [call_data("exceptionRecord(uint256)", c.id) for c in cases]
    count, *out = eth_calls(w3, deployment.exceptions, calls, block)
    found = []
    theirs_count = int.from_bytes(count, "big")
    if theirs_count != len(cases):
        fields = {"count": {"model": len(cases), "chain": theirs_count}}
        found.append(Divergence("EXCEPTION_COUNT", deployment.exceptions, fields, []))
    for case, raw in zip(cases, out, strict=True):
        mine, theirs = model.exception_view(case), exception_view(raw)
        if mine != theirs:
            fields = _diff(EXCEPTION_FIELDS, mine, theirs)
            found.append(
                Divergence("EXCEPTION_STATE", str(case.id), fields, _evidence(model, case.history))
            )
    return found


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


def _last_time(w3: Web3 | None, block: int | str, logs: Sequence[RawLog]) -> int:
    """The time of the last block read: ``block``'s on the node, else the last log's."""
    if w3 is not None and isinstance(block, int):
        return int(w3.eth.get_block(block)["timestamp"])
    return logs[-1].timestamp if logs else 0


def audit(
    w3: Web3 | None,
    deployment: Deployment | None = None,
    log_file: Path | None = None,
    compare: bool = True,
    progress: Callable[[str], None] | None = None,
    until: int | None = None,
) -> ReplayResult:
    """Fetch (or load ``log_file``), replay, and compare with the chain when ``w3`` is given.

    The contracts are read at the head the logs reach, never at an older block, so a node
    without archive state can answer: the logs of the blocks after an export's last block
    are fetched from the chain and replayed with it. An export that names no last block is
    compared at the latest block as it is. ``until`` (Unix seconds) replays the history as
    it stood then: the events of later blocks are left out (nothing is compared).
    """
    if until is not None and compare:
        raise ValueError("a history cut at a time is not compared with the chain's head")
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
    if until is not None:
        logs = [log for log in logs if log.timestamp <= until]
    fetched = time.perf_counter() - t0
    if progress:
        progress(f"{len(logs)} logs read in {fetched:.2f}s")
    result = replay_logs(logs)
    result.fetch_seconds = fetched
    result.as_of = until if until is not None else _last_time(w3, block, logs)
    if compare and w3 is not None and deployment is not None:
        t1 = time.perf_counter()
        found, counts = compare_with_chain(result.model, w3, deployment, block=block)
        result.divergences.extend(found)
        result.compared = counts
        result.compared_at_block = block
        result.compare_seconds = time.perf_counter() - t1
    return result
