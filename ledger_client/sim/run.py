"""Run a simulation plan on anvil and write its files (history, scans, master data, truth).

Files written to the output directory:

- ``deployment.json``: the demo consortium's contracts;
- ``logs.jsonl``: the chain's RxLedger logs (``rxledger audit export`` format), so the
  evaluation replays offline;
- ``verifications.jsonl``: the off-chain scans, one ``VerificationRecord`` a line;
- ``catalogue.json``: clear GTIN/lot/serial/SSCC behind the ids, member names;
- ``truth.jsonl``: one injected anomaly a line (``kind``, ``subjects``, ``evidence``);
  transaction subjects are the mined transactions' hashes;
- ``meta.json``: parameters, counts, the observation time (``now``) and timings.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from itertools import groupby
from pathlib import Path
from typing import Any

from ledger_client.audit.logs import export_logs
from ledger_client.chain import connect, dev_account
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.bulk import BulkSender
from ledger_client.devnet import DEMO_MEMBERS, deploy_devnet
from ledger_client.logs import fetch_logs
from ledger_client.sim.calendar import next_monday
from ledger_client.sim.plan import SLOT, Plan
from ledger_client.sim.planner import plan


def send(bulk: BulkSender, p: Plan) -> None:
    """Mine the plan slot by slot (each slot's block carries the slot's start time)."""
    needed = {s[4:] for t in p.truth for s in t.subjects if s.startswith("tag:")}
    for slot, actions in groupby(p.actions, key=lambda a: a.ts // SLOT):
        for a in actions:
            tag = a.tag if a.tag in needed else None
            bulk.call(a.sender, a.fn, *a.args, items=a.items, tag=tag)
        bulk.mine(slot * SLOT)


def write_files(out: Path, p: Plan, hashes: dict[str, str]) -> dict[str, int]:
    """Write scans, catalogue and truth (tags resolved to transaction hashes)."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "verifications.jsonl").open("w") as f:
        for r in p.scans:
            f.write(json.dumps(asdict(r)) + "\n")
    p.catalogue.save(out / "catalogue.json")
    counts: dict[str, int] = {}
    with (out / "truth.jsonl").open("w") as f:
        for t in p.truth:
            row = t.as_dict()
            row["subjects"] = [hashes[s[4:]] if s.startswith("tag:") else s for s in t.subjects]
            f.write(json.dumps(row) + "\n")
            counts[t.kind] = counts.get(t.kind, 0) + 1
    return counts


def simulate(
    out: Path, seed: int, packs: int, anomaly_rate: float, port: int = 8555
) -> dict[str, Any]:
    """Start anvil, deploy the demo consortium, plan and mine the traffic, write the files."""
    t_start = time.perf_counter()
    with Anvil(port=port, auto_impersonate=True) as node:
        w3 = connect(node.url, timeout=300)
        net = deploy_devnet(w3)
        d = net.deployment
        start = next_monday(int(w3.eth.get_block("latest")["timestamp"]))
        t_plan = time.perf_counter()
        p = plan(seed, packs, anomaly_rate, start)
        planned = time.perf_counter() - t_plan
        bulk = BulkSender(w3, d.registry, {d.members[n]: dev_account(n) for n in DEMO_MEMBERS})
        t_send = time.perf_counter()
        send(bulk, p)
        mined = time.perf_counter() - t_send
        head = w3.eth.block_number
        now = max(p.end, int(w3.eth.get_block(head)["timestamp"]))
        logs = fetch_logs(w3, d, to_block=head)
        out.mkdir(parents=True, exist_ok=True)
        export_logs(logs, d, out / "logs.jsonl", head)
        d.save(out / "deployment.json")
    counts = write_files(out, p, bulk.hashes)
    meta = {
        "seed": seed,
        "packs_regular": packs,
        "packs_total": len(p.catalogue.packs),
        "anomaly_rate": anomaly_rate,
        "start": p.start,
        "now": now,
        "days": (now - p.start) / 86_400,
        "transactions": bulk.sent,
        "logs": len(logs),
        "scans": len(p.scans),
        "requested_per_kind": p.requested,
        "injected_per_kind": counts,
        "plan_seconds": round(planned, 2),
        "mine_seconds": round(mined, 2),
        "total_seconds": round(time.perf_counter() - t_start, 2),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
