"""A dock session as the API answers it: the expected tree with each item's state, the scans
with what each matched and why, what is receivable, the report and the writes done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from gateway.db import models as m
from gateway.schemas import DockActionOut, DockNode, DockScanOut, DockView
from gateway.services.contents import Item
from gateway.services.dock_match import Match
from gateway.services.dock_report import report_of
from ledger_client.ids import hex_or_none

NameOf = Callable[[str | None], str | None]


def iso(ts: float) -> str:
    """A Unix time as ISO 8601 UTC."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def action_out(a: m.DockAction, name_of: NameOf) -> DockActionOut:
    """The API form of a write a session made."""
    return DockActionOut(
        kind=a.kind,
        counterparty=a.counterparty,
        counterparty_name=name_of(a.counterparty),
        items=list(a.items),
        tx_hashes=list(a.tx_hashes),
        exception_id=a.exception_id,
        evidence=a.evidence,
        evidence_hash=hex_or_none(a.evidence_hash),
        at=iso(a.at),
    )


@dataclass
class SessionView:
    """Renders one session's match (``codes``: the clear codes known for its ids)."""

    session: m.DockSession
    found: Match
    codes: dict[bytes, str]
    name_of: NameOf

    def render(self, actions: list[m.DockAction], block: int) -> DockView:
        """The session as the API answers it, as of indexed block ``block``."""
        found, session = self.found, self.session
        receivable = set(found.receivable())
        scans = [self.scan(n, s) for n, s in enumerate(found.scans, 1)]
        report = report_of(found)
        states = list(found.states.values())
        return DockView(
            id=session.id,
            status=session.status,  # type: ignore[arg-type]
            sender=session.sender,
            sender_name=self.name_of(session.sender),
            shipment=hex_or_none(session.shipment_tx),
            created_at=iso(session.created_at),
            closed_at=iso(session.closed_at) if session.closed_at else None,
            as_of_block=block,
            expected=[self.node(t, receivable) for t in found.top],
            scans=scans,
            receivable=[str(hex_or_none(i)) for i in sorted(receivable)],
            report=report,
            actions=[action_out(a, self.name_of) for a in actions],
            counts={
                "expected": len(found.nodes),
                "expected_packs": sum(1 for n in found.nodes.values() if n.is_pack),
                "scanned": len(found.scans),
                "repeats": sum(s.repeats for s in found.scans),
                "matched": sum(1 for s in scans if s.outcome == "matched"),
                "seen": sum(1 for s in states if s in ("scanned", "inferred")),
                "receivable": len(receivable),
                "received": len(found.received),
                "missing": len(report.missing),
                "quarantined": len(report.quarantined),
                "aggregation_errors": len(report.aggregation),
            },
        )

    def node(self, item: Item, receivable: set[bytes]) -> DockNode:
        """An expected item and what is inside it."""
        found = self.found
        return DockNode(
            id="0x" + item.id.hex(),
            kind=item.kind,  # type: ignore[arg-type]
            level=item.level,
            code=self.codes.get(item.id),
            status=item.status_name,
            state=found.states[item.id],
            opened=item.id in found.opened,
            received=item.id in found.received,
            receivable=item.id in receivable,
            children=[self.node(c, receivable) for c in item.children],
        )

    def scan(self, n: int, scan: m.DockScan) -> DockScanOut:
        """Scan number ``n`` and what it matched."""
        item = bytes(scan.item_id)
        verdict = self.found.outcomes[item]
        note = self.note(scan)
        if scan.repeats:
            note += f"; scanned {scan.repeats + 1} times, counted once"
        within = bytes(scan.within) if scan.within is not None else None
        return DockScanOut(
            n=n,
            code=scan.code,
            clear=scan.clear,
            item_id="0x" + item.hex(),
            kind=scan.kind,  # type: ignore[arg-type]
            within=self.codes.get(within, hex_or_none(within)) if within else None,
            outcome=verdict.outcome,
            note=note,
            repeats=scan.repeats,
            last_holder=verdict.holder,
            last_holder_name=self.name_of(verdict.holder),
        )

    def note(self, scan: m.DockScan) -> str:
        """Why a scan matched what it did, and what to do about it."""
        found, item = self.found, bytes(scan.item_id)
        verdict = found.outcomes[item]
        holder = self._who(verdict.holder)
        if verdict.outcome == "matched":
            node = found.nodes[item]
            parent = found.parent.get(item)
            if parent is None:
                done = "received" if item in found.received else "receivable"
                return f"{node.kind} of the shipment: {done}"
            where = self.codes.get(parent) or f"{found.nodes[parent].kind} {hex_or_none(parent)}"
            return f"{node.kind} inside {where}, as on chain"
        if verdict.outcome == "held":
            return "already in your custody (received before, or shipped by you)"
        if verdict.outcome == "other_shipment":
            return (
                f"in transit to you from {holder}, not in this session's shipment:"
                " receive it in a session for that shipment"
            )
        if verdict.holder is None:
            return "quarantined: product without data, the chain has never seen this code"
        where_now = verdict.custody
        if where_now is not None and where_now.lost and where_now.pending_to == found.operator:
            return (
                f"quarantined: reported lost by {holder} on its way to you; once it reports it"
                " found (rxledger found), receive it"
            )
        return (
            f"quarantined: product without data, not shipped to you; the chain names {holder}"
            " as its holder"
        )

    def _who(self, address: str | None) -> str:
        return self.name_of(address) or address or "nobody"
