"""Run a simulation plan on anvil and write its files (history, scans, master data, truth).

Files written to the output directory:

- ``deployment.json``: the world's consortium and contracts;
- ``logs.jsonl``: the chain's RxLedger logs (``rxledger audit export`` format), so the
  evaluation replays offline;
- ``verifications.jsonl``: the off-chain scans, one ``VerificationRecord`` a line;
- ``catalogue.json``: clear GTIN/lot/serial/SSCC behind the ids; members' names, kinds,
  time zones, opening hours and holidays;
- ``truth.jsonl``: one injected incident a line (``kind``, ``level``, ``subjects``,
  ``accept``, ``evidence``); transaction subjects are the mined transactions' hashes;
- ``flows.jsonl``: one legitimate flow a line (``flow``, ``subjects``, ``evidence``);
- ``meta.json``: parameters, counts, the observation time (``now``) and timings.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from itertools import groupby
from pathlib import Path
from typing import Any

from ledger_client.audit.logs import export_logs
from ledger_client.audit.scans import write_scans
from ledger_client.chain import connect, dev_account, fund
from ledger_client.contracts import deploy_network
from ledger_client.dev.anvil import Anvil
from ledger_client.dev.bulk import BulkSender
from ledger_client.errors import InvalidInputError
from ledger_client.logs import fetch_logs
from ledger_client.sim.calendar import next_monday
from ledger_client.sim.config import WorldConfig
from ledger_client.sim.members import layout, specs
from ledger_client.sim.plan import DAY, SLOT, Plan
from ledger_client.sim.planner import plan


def send(bulk: BulkSender, p: Plan) -> None:
    """Mine the plan slot by slot (each slot's block carries the slot's start time)."""
    needed = {
        s[4:]
        for rows in (p.truth, p.flows)
        for t in rows
        for s in t.subjects
        if s.startswith("tag:")
    }
    for slot, actions in groupby(p.actions, key=lambda a: a.ts // SLOT):
        for a in actions:
            tag = a.tag if a.tag in needed else None
            bulk.call(a.sender, a.fn, *a.args, items=a.items, tag=tag)
        bulk.mine(slot * SLOT)


def _resolved(subjects: list[str], hashes: dict[str, str]) -> list[str] | None:
    """Subjects with tags replaced by transaction hashes, the tags never mined (after the
    end) left out; None when it has tags and none was mined."""
    tags = [s[4:] for s in subjects if s.startswith("tag:")]
    if tags and not any(t in hashes for t in tags):
        return None
    return [
        hashes[s[4:]] if s.startswith("tag:") else s
        for s in subjects
        if not s.startswith("tag:") or s[4:] in hashes
    ]


#: Why an incident the end of the world cut short is not scored.
CUT = "cut short by the end of the world: a later transaction of it was never mined"


def write_files(out: Path, p: Plan, hashes: dict[str, str]) -> dict[str, dict[str, int]]:
    """Write scans, catalogue, truth and flows (tags resolved to transaction hashes); return
    the scored incidents written per kind and level. An incident whose transactions all fell
    after the end is left out; one cut short by it (a case shipped on, the next leg after
    the end) keeps the subjects that were mined and is marked unscored (:data:`CUT`)."""
    out.mkdir(parents=True, exist_ok=True)
    write_scans(p.scans, out / "verifications.jsonl")
    p.catalogue.save(out / "catalogue.json")
    counts: dict[str, Counter[str]] = {}
    with (out / "truth.jsonl").open("w") as f:
        for t in p.truth:
            subjects = _resolved(t.subjects, hashes)
            if subjects is None:
                continue
            row = t.as_dict() | {"subjects": subjects}
            if len(subjects) < len(t.subjects):
                row["unscored"] = CUT
            elif not t.unscored:
                counts.setdefault(t.kind, Counter())[t.level] += 1
            f.write(json.dumps(row) + "\n")
    with (out / "flows.jsonl").open("w") as f:
        for fl in p.flows:
            subjects = _resolved(fl.subjects, hashes)
            if subjects is not None:
                f.write(json.dumps(fl.as_dict() | {"subjects": subjects}) + "\n")
    return {k: dict(v) for k, v in counts.items()}


def simulate(
    out: Path,
    cfg: WorldConfig,
    seed: int,
    port: int = 8555,
    preset: str = "",
    start: int | None = None,
) -> dict[str, Any]:
    """Start anvil, deploy the world's consortium, plan and mine the traffic, write the files.
    The world starts on ``start`` (a Monday 00:00 UTC: the same seed and start make the same
    world), or on the Monday after today."""
    if start is not None and start != next_monday(start - DAY):
        raise InvalidInputError(f"a world starts on a Monday 00:00 UTC, not at {start}")
    t_start = time.perf_counter()
    genesis = None if start is None else start - DAY
    with Anvil(port=port, auto_impersonate=True, timestamp=genesis) as node:
        w3 = connect(node.url, timeout=300)
        now0 = int(w3.eth.get_block("latest")["timestamp"])
        start = next_monday(now0)
        members = layout(cfg, start)
        deployer = dev_account("deployer")
        fund(w3, [deployer.address, *(m.address for m in members)], wei=10**20)
        d = deploy_network(w3, deployer, specs(members, now0), 2)
        t_plan = time.perf_counter()
        p = plan(cfg, seed, start)
        planned = time.perf_counter() - t_plan
        bulk = BulkSender(
            w3, d.registry, {m.address: dev_account(f"sim:{m.name}") for m in members}
        )
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
        "preset": preset,
        "seed": seed,
        "config": cfg.as_dict(),
        "packs_total": len(p.catalogue.packs),
        "members": len(members),
        "start": p.start,
        "now": now,
        "days": (now - p.start) / 86_400,
        "transactions": bulk.sent,
        "logs": len(logs),
        "scans": len(p.scans),
        "incidents": counts,
        "flows": dict(Counter(f.name for f in p.flows)),
        "plan_seconds": round(planned, 2),
        "mine_seconds": round(mined, 2),
        "total_seconds": round(time.perf_counter() - t_start, 2),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
