"""What closing a dock session reports, and the exceptions it opens with their evidence.

The report is what the page shows (ids of the missing, quarantined and mis-aggregated
items); each exception's evidence is a canonical JSON document (sorted keys, no spaces)
whose keccak256 is anchored as the exception's evidence hash, as ``rxledger exception open
--evidence`` hashes a file holding that text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from gateway.db import models as m
from gateway.schemas import AggregationDifference, DockReport
from gateway.services.dock_match import Match
from ledger_client.ids import hex_or_none
from ledger_client.types import ExceptionKind


def evidence_document(body: dict[str, Any]) -> tuple[str, bytes]:
    """The evidence text (canonical JSON) and its keccak256."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return text, bytes(keccak(text.encode()))


@dataclass(frozen=True)
class Step:
    """One exception closing opens: kind, counterparty, items (packs and units), evidence."""

    kind: ExceptionKind
    counterparty: str
    packs: tuple[bytes, ...]
    units: tuple[bytes, ...]
    evidence: dict[str, Any]


def report_of(found: Match) -> DockReport:
    """The report a session shows: missing, quarantined, aggregation differences (ids)."""
    return DockReport(
        missing=[str(hex_or_none(i)) for i in found.missing()],
        quarantined=[str(hex_or_none(i)) for i in found.quarantined()],
        aggregation=[
            AggregationDifference(
                unit=str(hex_or_none(d.unit)),
                missing=[str(hex_or_none(i)) for i in d.missing],
                extra=[str(hex_or_none(i)) for i in d.extra],
            )
            for d in found.differences()
        ],
    )


def normal(report: DockReport) -> dict[str, Any]:
    """``report`` in one canonical form (lower-case ids, sorted), to compare and store."""

    def ids(values: Sequence[str]) -> list[str]:
        return sorted({v.lower() for v in values})

    return {
        "missing": ids(report.missing),
        "quarantined": ids(report.quarantined),
        "aggregation": sorted(
            (
                {"unit": d.unit.lower(), "missing": ids(d.missing), "extra": ids(d.extra)}
                for d in report.aggregation
            ),
            key=lambda d: str(d["unit"]),
        ),
    }


def steps(session: m.DockSession, found: Match, codes: dict[bytes, str]) -> list[Step]:
    """The exceptions closing ``session`` opens: data without product against the sender,
    product without data against each holder the chain names (none for codes it never saw),
    an aggregation error against the sender per opened unit that differs."""
    scanned = {bytes(s.item_id): s for s in found.scans}
    is_pack = {i: n.is_pack for i, n in found.nodes.items()}
    is_pack |= {i: s.kind == "pack" for i, s in scanned.items()}

    def named(item: bytes) -> dict[str, Any]:
        return {"id": hex_or_none(item), "code": codes.get(item)}

    def step(
        kind: ExceptionKind, counterparty: str, items: Sequence[bytes], evidence: dict[str, Any]
    ) -> Step:
        unique = sorted(set(items))
        body = {"type": f"rxledger:dock:{kind.name.lower()}", **base, **evidence}
        packs = tuple(i for i in unique if is_pack.get(i, True))
        units = tuple(i for i in unique if not is_pack.get(i, True))
        return Step(kind, counterparty, packs, units, body)

    base = {"session": session.id, "receiver": session.operator, "sender": session.sender}
    found_steps = []
    missing = found.missing()
    evidence: dict[str, Any]
    if missing:
        evidence = {
            "shipment": hex_or_none(session.shipment_tx),
            "missing": [named(i) for i in missing],
        }
        found_steps.append(
            step(ExceptionKind.DATA_WITHOUT_PRODUCT, session.sender, missing, evidence)
        )
    holders: dict[str, list[bytes]] = {}
    for item in found.quarantined():
        holder = found.outcomes[item].holder
        if holder is not None and holder != session.operator:
            holders.setdefault(holder, []).append(item)
    for holder, items in sorted(holders.items()):
        listed = [{**named(i), "scanned": scanned[i].code} for i in items]
        evidence = {"holder": holder, "items": listed}
        found_steps.append(step(ExceptionKind.PRODUCT_WITHOUT_DATA, holder, items, evidence))
    for diff in found.differences():
        evidence = {
            "unit": named(diff.unit),
            "on_chain": [named(i) for i in diff.on_chain],
            "scanned_in_it": [named(i) for i in diff.scanned_in],
            "missing": [named(i) for i in diff.missing],
            "extra": [named(i) for i in diff.extra],
        }
        items = [diff.unit, *diff.missing, *diff.extra]
        found_steps.append(step(ExceptionKind.AGGREGATION_ERROR, session.sender, items, evidence))
    return found_steps
