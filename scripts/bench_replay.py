"""Benchmark the auditor's replay on a history of at least 100,000 packs on anvil.

Builds (once; the anvil state and a log export are cached under .rxledger/bench/) a history in
which a manufacturer commissions packs into cases, palletises them, ships pallets to two
wholesalers, who break them down and ship cases and loose packs to pharmacies, who dispense,
with undos, destructions, flags and a recall. Then replays it, compares the model with the
contracts, and compares the throughput with two naive baselines: web3's generic log decoder,
and reading each pack's state with its own eth_call. When the logs are on the chain (not only in
the cached export), it also times a pack's EPCIS export by full replay and with the persisted
projection: the owner's store's copy of the chain's events (``ledger_client.epcis.stream``).

    python scripts/bench_replay.py [--packs 100000] [--json]
"""

from __future__ import annotations

import gzip
import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import ROOT, history_arguments
from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3._utils.events import get_event_data

from ledger_client.audit.logs import export_logs, load_logs
from ledger_client.audit.replay import compare_with_chain, replay_logs
from ledger_client.chain import connect, dev_account
from ledger_client.contracts import Deployment, artifact
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.bulk import BulkSender
from ledger_client.dev.codes import sscc
from ledger_client.devnet import DEMO_MEMBERS, demo_index, deploy_devnet
from ledger_client.epcis.history import export_history
from ledger_client.epcis.store import EventStore
from ledger_client.events import EVENT_TYPES
from ledger_client.ids import (
    lot_hash,
    pack_hash,
    pack_word,
    record_id,
    unit_hash,
    with_check_digit,
)
from ledger_client.logs import fetch_logs
from ledger_client.types import DecommissionReason, LotStatus

ZERO = b"\x00" * 32
CASE = 25
PALLET = 20
PRODUCTS = [with_check_digit(f"006141410{i:04d}") for i in range(4)]
#: The pack whose EPCIS export is timed: the history's first.
EXPORTED_PACK = f"(01){PRODUCTS[0]}(21)S{0:09d}"
#: The manufacturer's company prefix (of its cases' and pallets' SSCCs) and member index: it
#: creates every lot, pack and unit, so each is filed under that index.
PREFIX = "0614141"
MAKER = demo_index("manufacturer")


def _mine(code_hash: bytes) -> bytes:
    """The id of the manufacturer's record of ``code_hash``."""
    return record_id(MAKER, code_hash)


@dataclass(frozen=True)
class PharmacyFates:
    """What the pharmacies do with the packs they hold: dispense in batches, destroy, or leave
    on the shelf for the regulator to flag. Each pack has at most one fate."""

    dispense: list[list[tuple[str, bytes]]]
    destroy: list[tuple[str, bytes]]
    flag: list[tuple[str, bytes]]


def pharmacy_fates(
    at_pharmacy: list[tuple[str, bytes]], batch: int = 5, flags: int = 200
) -> PharmacyFates:
    """Split ``(pharmacy, pack)`` pairs: the first 90% dispensed in batches of ``batch``, a
    quarter of the rest destroyed, up to ``flags`` of the remainder flagged. The batches are cut
    from the dispensed part alone, so the last one never reaches into the packs destroyed."""
    cut = int(len(at_pharmacy) * 0.9)
    to_dispense, rest = at_pharmacy[:cut], at_pharmacy[cut:]
    quarter = len(rest) // 4
    return PharmacyFates(
        dispense=[to_dispense[k : k + batch] for k in range(0, len(to_dispense), batch)],
        destroy=rest[:quarter],
        flag=rest[quarter : quarter + flags],
    )


def build_history(url: str, packs: int, seed: int) -> Deployment:
    """Deploy the demo network on ``url`` and write the history; return the deployment."""
    rng = random.Random(seed)
    w3 = connect(url)
    net = deploy_devnet(w3)
    d = net.deployment
    addr = {n: d.members[n] for n in DEMO_MEMBERS}
    bulk = BulkSender(w3, d.registry, {addr[n]: dev_account(n) for n in DEMO_MEMBERS})
    m, wholesalers, pharmacies = (
        addr["manufacturer"],
        [addr["wholesaler_a"], addr["wholesaler_b"]],
        [addr["pharmacy_a"], addr["pharmacy_b"]],
    )
    n_lots = max(4, packs // 5000)
    lots = [(PRODUCTS[i % 4], f"LOT{i:04d}") for i in range(n_lots)]
    for g, lot in lots:
        bulk.call(m, "registerLot", lot_hash(g, lot), 301231, ZERO)
    bulk.mine()
    cases: list[tuple[bytes, list[bytes]]] = []
    serial = 0
    per_lot = -(-packs // n_lots)
    for g, lot in lots:
        for start in range(0, per_lot, CASE):
            n = min(CASE, per_lot - start)
            serials = [f"S{serial + k:09d}" for k in range(n)]
            hashes = [pack_hash(g, s) for s in serials]
            serial += n
            case = unit_hash(sscc(0, PREFIX, len(cases) + 1))
            cases.append((_mine(case), [_mine(h) for h in hashes]))
            words = [pack_word(g, s, lot) for s in serials]
            bulk.call(m, "commission", lot_hash(g, lot), case, words, ZERO, items=n)
    bulk.mine()
    pallets = []
    for k in range(0, len(cases), PALLET):
        pallet = unit_hash(sscc(0, PREFIX, 10_000_000 + k))
        members = [c for c, _ in cases[k : k + PALLET]]
        pallets.append((_mine(pallet), members))
        bulk.call(m, "pack", pallet, [], members, ZERO, items=len(members))
    bulk.mine()
    owner = {}
    for k, (pallet, _) in enumerate(pallets):
        owner[pallet] = wholesalers[k % 2]
        bulk.call(m, "ship", [], [pallet], owner[pallet], ZERO, items=1)
    bulk.mine()
    for pallet, _ in pallets:
        bulk.call(owner[pallet], "receiveItems", [], [pallet], ZERO, items=1)
    bulk.mine()
    for pallet, _ in pallets:
        bulk.call(owner[pallet], "unpack", [pallet], ZERO, items=1)
    bulk.mine()
    contents = dict(cases)
    # wholesalers: 80% of cases go whole to a pharmacy; from the rest they pick loose orders
    shipped_cases: list[tuple[bytes, str]] = []
    loose: list[tuple[str, bytes]] = []
    for pallet, members in pallets:
        w = owner[pallet]
        for case in members:
            if rng.random() < 0.8:
                ph = rng.choice(pharmacies)
                bulk.call(w, "ship", [], [case], ph, ZERO, items=1)
                shipped_cases.append((case, ph))
            else:
                ids = contents[case]
                bulk.call(w, "unpackItems", case, ids, [], ZERO, items=len(ids))
                loose.extend((w, i) for i in ids)
    bulk.mine()
    orders = []
    for k in range(0, len(loose), 10):
        chunk = loose[k : k + 10]
        by_w: dict[str, list[bytes]] = {}
        for w, i in chunk:
            by_w.setdefault(w, []).append(i)
        for w, ids in by_w.items():
            ph = rng.choice(pharmacies)
            bulk.call(w, "ship", ids, [], ph, ZERO, items=len(ids))
            orders.append((ph, ids))
    bulk.mine()
    for case, ph in shipped_cases:
        bulk.call(ph, "receiveItems", [], [case], ZERO, items=1)
    for ph, ids in orders:
        bulk.call(ph, "receiveItems", ids, [], ZERO, items=len(ids))
    bulk.mine()
    at_pharmacy: list[tuple[str, bytes]] = []
    for case, ph in shipped_cases:
        bulk.call(ph, "unpack", [case], ZERO, items=1)
        at_pharmacy.extend((ph, i) for i in contents[case])
    for ph, ids in orders:
        at_pharmacy.extend((ph, i) for i in ids)
    bulk.mine()
    rng.shuffle(at_pharmacy)
    fates = pharmacy_fates(at_pharmacy)
    dispensed: dict[str, list[bytes]] = {p: [] for p in pharmacies}
    for batch in fates.dispense:
        ph = batch[0][0]
        ids = [i for p, i in batch if p == ph]
        others = [(p, i) for p, i in batch if p != ph]
        bulk.call(ph, "decommission", ids, int(DecommissionReason.DISPENSED), ZERO, items=len(ids))
        dispensed[ph].extend(ids)
        for p, i in others:
            bulk.call(p, "decommission", [i], int(DecommissionReason.DISPENSED), ZERO, items=1)
            dispensed[p].append(i)
    for ph, i in fates.destroy:
        bulk.call(ph, "decommission", [i], int(DecommissionReason.DESTROYED), ZERO, items=1)
    flagged = [i for _, i in fates.flag]
    bulk.call(addr["regulator"], "flagPacks", flagged, 1, 3, ZERO, items=len(flagged))
    bulk.mine()
    for ph in pharmacies:
        undo = dispensed[ph][:100]
        bulk.call(ph, "undoDecommission", undo, ZERO, items=len(undo))
    g, lot = lots[-1]
    # the owner recalls at once (one regulator's recall would only request it)
    bulk.call(m, "setLotStatus", _mine(lot_hash(g, lot)), int(LotStatus.RECALLED), ZERO)
    bulk.mine()
    return d


def web3_decode(w3: Web3, logs: list[dict[str, Any]]) -> int:
    """Decode ``logs`` with web3's generic decoder, the naive baseline; return how many."""
    abis = {
        bytes(event_abi_to_log_topic(item)): item
        for contract in EVENT_TYPES
        for item in artifact(contract)["abi"]
        if item["type"] == "event"
    }
    return sum(1 for log in logs if get_event_data(w3.codec, abis[log["topics"][0]], log))


def dump_state(url: str, path: Path) -> None:
    w3 = connect(url)
    raw = w3.provider.make_request("anvil_dumpState", [])["result"]  # type: ignore[arg-type]
    path.write_bytes(gzip.decompress(bytes.fromhex(raw[2:])))


def measure_export(w3: Web3, deployment: Deployment, rounds: int) -> dict[str, Any]:
    """Seconds of an EPCIS export of one pack: by full replay (no store), the first with a
    store (which copies the chain's logs), and the best later one (reading no new block)."""

    def timed(store: EventStore | None) -> tuple[float, dict[str, Any]]:
        t = time.perf_counter()
        doc = export_history(
            w3, deployment, store, "pack", EXPORTED_PACK, creation_date="2025-01-01T00:00:00Z"
        )
        return time.perf_counter() - t, doc

    with tempfile.TemporaryDirectory() as tmp, EventStore(Path(tmp) / "store.sqlite") as store:
        full = [timed(None) for _ in range(rounds)]
        first = timed(store)
        persisted = [timed(store) for _ in range(rounds)]
    docs = [doc for _, doc in (*full, first, *persisted)]
    assert all(doc == docs[0] for doc in docs), "the exports differ"
    return {
        "export_events": len(docs[0]["epcisBody"]["eventList"]),
        "export_full_replay_seconds": round(min(t for t, _ in full), 3),
        "export_persisted_first_seconds": round(first[0], 3),
        "export_persisted_seconds": round(min(t for t, _ in persisted), 3),
    }


def measure(url: str, deployment: Deployment, export: Path, rounds: int) -> dict[str, Any]:
    w3 = connect(url, timeout=300)
    t0 = time.perf_counter()
    logs = fetch_logs(w3, deployment)
    fetch = time.perf_counter() - t0
    source = "chain"
    if not logs:  # a loaded state without block history: use the cached export
        logs = load_logs(export).logs
        source = "export"
    best = None
    for _ in range(rounds):
        result = replay_logs(logs)
        if best is None or result.replay_seconds < best.replay_seconds:
            best = result
    assert best is not None
    t1 = time.perf_counter()
    found, counts = compare_with_chain(best.model, w3, deployment)
    compare = time.perf_counter() - t1
    summary = best.summary()
    summary.pop("findings")
    summary.update(
        fetch_seconds=round(fetch, 3),
        compare_seconds=round(compare, 3),
        logs_from=source,
        divergences=len(found) + len(best.divergences),
        compared=counts,
    )
    # baseline 1: web3's generic decoder, then the same model
    sample = logs[: min(len(logs), 20_000)]
    web3_logs = [
        {
            "address": g.address,
            "topics": list(g.topics),
            "data": g.data,
            "blockNumber": g.block_number,
            "transactionHash": g.tx_hash,
            "logIndex": g.log_index,
            "blockHash": b"\0" * 32,
            "transactionIndex": 0,
        }
        for g in sample
    ]
    t2 = time.perf_counter()
    decoded = web3_decode(w3, web3_logs)
    t3 = time.perf_counter()
    summary["baseline_web3_decode_events_per_second"] = round(decoded / (t3 - t2))
    # baseline 2: one eth_call per pack (the state walk an auditor without events must do)
    ids = list(best.model.packs)[:1000]
    registry = deployment.contract(w3, "SerialRegistry")
    t4 = time.perf_counter()
    for i in ids:
        registry.functions.packState(i).call()
    t5 = time.perf_counter()
    summary["baseline_per_pack_call_packs_per_second"] = round(len(ids) / (t5 - t4))
    summary["batched_compare_packs_per_second"] = round(counts["packs"] / max(compare, 1e-9))
    summary["model_rule_check"] = "every event checked against SerialRegistry.sol's rules"
    if source == "chain":
        summary.update(measure_export(w3, deployment, rounds))
    return summary


def main() -> None:
    ap = history_arguments(__doc__, port=8547)
    ap.add_argument("--cache", type=Path, default=ROOT / ".rxledger" / "bench")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cache = args.cache / f"packs-{args.packs}-seed-{args.seed}"
    state, meta_path, export = cache / "anvil-state.json", cache / "meta.json", cache / "logs.jsonl"
    cached = state.is_file() and meta_path.is_file() and not args.rebuild
    built = None
    with Anvil(port=args.port, load_state=state if cached else None, auto_impersonate=True) as node:
        if cached:
            meta = json.loads(meta_path.read_text())
            deployment = Deployment(**meta["deployment"])
        else:
            cache.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            deployment = build_history(node.url, args.packs, args.seed)
            built = time.perf_counter() - t
            w3 = connect(node.url, timeout=300)
            export_logs(fetch_logs(w3, deployment), deployment, export, w3.eth.block_number)
            dump_state(node.url, state)
            meta_path.write_text(
                json.dumps({"deployment": deployment.__dict__, "build_seconds": built})
            )
        summary = measure(node.url, deployment, export, args.rounds)
    summary["build_seconds"] = (
        round(built, 1) if built is not None else json.loads(meta_path.read_text())["build_seconds"]
    )
    summary["history_cached"] = built is None
    if args.json:
        print(json.dumps(summary))
        return
    rows = [
        ("events (decoded logs)", summary["events"]),
        ("packs / units / lots", f"{summary['packs']} / {summary['units']} / {summary['lots']}"),
        ("pack operations", summary["pack_operations"]),
        ("replay (decode + model) events/s", summary["events_per_second"]),
        ("replay pack operations/s", summary["pack_operations_per_second"]),
        (
            "baseline: web3 get_event_data events/s",
            summary["baseline_web3_decode_events_per_second"],
        ),
        ("compare: packStates batched packs/s", summary["batched_compare_packs_per_second"]),
        (
            "baseline: one packState call per pack, packs/s",
            summary["baseline_per_pack_call_packs_per_second"],
        ),
        ("fetch logs (eth_getLogs) s", summary["fetch_seconds"]),
        ("EPCIS export of a pack: full replay s", summary.get("export_full_replay_seconds", "n/a")),
        (
            "EPCIS export with persisted projection s",
            summary.get("export_persisted_seconds", "n/a"),
        ),
        ("divergences", summary["divergences"]),
        (
            "history build s (cached)" if summary["history_cached"] else "history build s",
            summary["build_seconds"],
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
