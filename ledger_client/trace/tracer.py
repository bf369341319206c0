"""A pack's full history from the stores of every partner that held it, each event checked
against the hash the chain anchors for it.

1. The chain gives the pack's holders with their custody intervals, the units it travelled
   in, and the EPCIS event hashes anchored for it (:mod:`.chain`).
2. Every holder, and every member that anchored an event about the pack, is asked through
   its gateway (URL from the consortium) for the events naming the pack, and then for those
   naming each case or pallet that held it, as their SSCCs show up in the events returned
   (an SSCC counts only if its ledger id is one of the pack's units). The tracer signs in
   with its own member key, so each gateway decides what it may see.
3. Every event returned gets one verdict, never merged with another:

   - ``anchored``: its event hash is one the chain anchors for the pack;
   - ``altered``: it has a ledger meaning (a commissioning, shipment, receipt, ...) and its
     hash matches no anchor, while an anchor of the same kind written by the same member has
     no matching event: the gateway serves something else than what was anchored;
   - ``unanchored``: its hash matches no anchor and no anchor is left for it: an event with
     no ledger meaning (an inspection), or one the chain never recorded;

   and every anchor no event matched is ``missing``, with why: the writer has no gateway
   on chain, its gateway is unreachable or refused, or it answered without the event
   (withheld, possibly by its access rules).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger_client.contracts import Deployment
from ledger_client.epcis import operations as ops
from ledger_client.epcis.errors import InvalidEPCISError
from ledger_client.epcis.hashing import event_hash_uri, hash_uri_digest
from ledger_client.epcis.mapping import map_event
from ledger_client.gs1.epc import parse_epc_or_none
from ledger_client.ids import unit_id
from ledger_client.owners import PrefixOwners
from ledger_client.trace.chain import Anchor, ChainTrail, chain_trail
from ledger_client.trace.client import (
    ClientFactory,
    GatewayClient,
    GatewayRefusedError,
    GatewayUnreachableError,
)

__all__ = ["GatewayAnswer", "Trace", "TracedEvent", "Verdict", "trace"]

Verdict = Literal["anchored", "unanchored", "altered", "missing"]
#: The contract events each ledger operation is anchored by.
_ANCHORED_BY: dict[type, set[str]] = {
    ops.Commission: {"PacksCommissioned"},
    ops.Pack: {"ItemsPacked"},
    ops.Unpack: {"ItemsUnpacked", "UnitsDissolved"},
    ops.Ship: {"ItemsShipped"},
    ops.Receive: {"ItemsReceived"},
    ops.CancelShipment: {"ShipmentCancelled"},
    ops.Refuse: {"ItemsRefused"},
    ops.ReportLost: {"ItemsLost"},
    ops.ReportFound: {"LostItemsFound"},
    ops.Decommission: {"PacksDecommissioned"},
    ops.UndoDecommission: {"DecommissionsUndone"},
    ops.FlagPacks: {"PacksFlagged"},
}
_ITEM_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass
class GatewayAnswer:
    """How one member's gateway answered the tracer."""

    member: str
    url: str | None
    status: Literal["answered", "no gateway", "unreachable", "refused"] = "answered"
    detail: str | None = None
    refused: dict[str, str] = field(default_factory=dict)
    """Identifiers the gateway refused to answer for, with its reason (it answered others)."""


@dataclass
class TracedEvent:
    """One event of the trace with its verdict (see the module docstring)."""

    verdict: Verdict
    member: str
    """The gateway's member that returned the event, or (missing) that anchored it."""
    event: dict[str, Any] | None = None
    event_hash: bytes | None = None
    anchor: Anchor | None = None
    reason: str | None = None

    @property
    def sort_key(self) -> tuple[float, str]:
        if self.anchor is not None:
            return (float(self.anchor.timestamp), self.verdict)
        when = str((self.event or {}).get("eventTime", ""))
        try:
            return (dt.datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp(), "")
        except ValueError:
            return (float("inf"), "")

    def to_dict(self) -> dict[str, Any]:
        anchor = None
        if self.anchor is not None:
            a = self.anchor
            anchor = {
                "event_hash": _hex(a.event_hash),
                "by": a.writer,
                "events": sorted(a.kinds),
                "transactions": sorted({_hex(e.tx_hash) for e in a.events}),
                "recorded_at": _iso(a.timestamp),
            }
        return {
            "verdict": self.verdict,
            "member": self.member,
            "event_hash": _hex(self.event_hash) if self.event_hash else None,
            "anchor": anchor,
            "reason": self.reason,
            "event": self.event,
        }


@dataclass
class Trace:
    """A pack's history across partners."""

    trail: ChainTrail
    gateways: list[GatewayAnswer]
    events: list[TracedEvent]
    units: dict[str, str | None]
    """Each unit the pack travelled in (ledger id in hex) and its SSCC when an event named it."""
    names: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many events got each verdict."""
        verdicts: tuple[Verdict, ...] = ("anchored", "unanchored", "altered", "missing")
        return {v: sum(e.verdict == v for e in self.events) for v in verdicts}

    @property
    def complete(self) -> bool:
        """True when every anchored event came back unaltered and nothing else did."""
        counts = self.counts()
        return counts["anchored"] > 0 and counts["anchored"] == len(self.events)

    def to_dict(self) -> dict[str, Any]:
        t = self.trail
        return {
            "pack": {"gtin": t.gtin, "serial": t.serial, "pack_id": _hex(t.pack_id)},
            "custody": [
                {
                    "holder": c.holder,
                    "name": self.names.get(c.holder),
                    "from": _iso(c.start),
                    "to": _iso(c.end) if c.end is not None else None,
                }
                for c in t.custody
            ],
            "units": [{"unit_id": u, "sscc": s} for u, s in self.units.items()],
            "gateways": [
                {
                    "member": g.member,
                    "name": self.names.get(g.member),
                    "url": g.url,
                    "status": g.status,
                    "detail": g.detail,
                    "refused": g.refused,
                }
                for g in self.gateways
            ],
            "counts": self.counts(),
            "complete": self.complete,
            "steps_without_event": t.unanchored_steps,
            "events": [e.to_dict() for e in self.events],
        }


def _event_hash(event: dict[str, Any]) -> bytes | None:
    try:
        return hash_uri_digest(event_hash_uri(event, event.get("@context")))
    except InvalidEPCISError:
        return None


def _ledger_kinds(event: dict[str, Any]) -> set[str]:
    """The contract events that would anchor ``event``, from its ledger operations."""
    report = map_event(event, context=event.get("@context"))
    return {kind for op in report.operations for kind in _ANCHORED_BY.get(type(op), set())}


class _Collector:
    """Asks each gateway for the events of the pack and its units, learning SSCCs."""

    def __init__(self, trail: ChainTrail, owners: PrefixOwners) -> None:
        self.trail = trail
        self.owners = owners
        self.units: dict[bytes, str | None] = dict.fromkeys(trail.units)
        self.epcs = [f"https://id.gs1.org/01/{trail.gtin}/21/{quote(trail.serial, safe='')}"]

    def learn(self, event: dict[str, Any]) -> None:
        """Note the SSCCs of the pack's units that ``event`` names."""
        values = [event.get("parentID")]
        for name in _ITEM_FIELDS:
            listed = event.get(name)
            values += listed if isinstance(listed, list) else []
        for value in values:
            epc = parse_epc_or_none(value)
            if epc is None or epc.kind != "sscc" or not epc.sscc:
                continue
            uid = unit_id(epc.sscc, owner=self.owners.index(epc.sscc))
            if uid in self.units and self.units[uid] is None:
                self.units[uid] = epc.sscc
                self.epcs.append(f"https://id.gs1.org/00/{epc.sscc}")


def _ask(
    collector: _Collector, answer: GatewayAnswer, client: GatewayClient
) -> list[dict[str, Any]]:
    """The events ``client``'s gateway returns for every identifier known so far (and those
    learnt on the way); records refusals in ``answer``."""
    found: dict[bytes | None, dict[str, Any]] = {}
    asked = 0
    while asked < len(collector.epcs):
        epc = collector.epcs[asked]
        asked += 1
        try:
            events = client.epc_events(epc)
        except GatewayRefusedError as exc:
            answer.refused[epc] = exc.detail
            continue
        for event in events:
            collector.learn(event)
            key = _event_hash(event)
            found.setdefault(key if key is not None else f"raw:{len(found)}".encode(), event)
    return list(found.values())


def trace(
    w3: Web3,
    deployment: Deployment,
    account: LocalAccount,
    code: str,
    *,
    timeout: float = 10.0,
    client_factory: ClientFactory | None = None,
) -> Trace:
    """Trace the pack ``code`` names as member ``account`` (see the module docstring)."""
    make_client = client_factory or (lambda url, acct: GatewayClient(url, acct, timeout))
    trail = chain_trail(w3, deployment, code)
    consortium = deployment.contract(w3, "Consortium")
    collector = _Collector(trail, PrefixOwners(consortium))
    members = list(
        dict.fromkeys([c.holder for c in trail.custody] + [a.writer for a in trail.anchors])
    )
    answers: list[GatewayAnswer] = []
    returned: list[tuple[str, dict[str, Any]]] = []
    for member in members:
        url = str(consortium.functions.gatewayUrl(Web3.to_checksum_address(member)).call()) or None
        answer = GatewayAnswer(member, url)
        answers.append(answer)
        if url is None:
            answer.status, answer.detail = "no gateway", "the member publishes no gateway URL"
            continue
        with make_client(url, account) as client:
            try:
                client.login()
                returned += [(member, e) for e in _ask(collector, answer, client)]
            except GatewayUnreachableError as exc:
                answer.status, answer.detail = "unreachable", str(exc)
            except GatewayRefusedError as exc:
                answer.status, answer.detail = "refused", str(exc)
    traced = _judge(trail, answers, returned)
    names = {addr: name for name, addr in deployment.members.items()}
    units = {_hex(u): s for u, s in collector.units.items()}
    return Trace(trail, answers, sorted(traced, key=lambda e: e.sort_key), units, names)


def _judge(
    trail: ChainTrail, answers: list[GatewayAnswer], returned: list[tuple[str, dict[str, Any]]]
) -> list[TracedEvent]:
    by_hash = {a.event_hash: a for a in trail.anchors}
    matched: set[bytes] = set()
    traced: list[TracedEvent] = []
    others: list[tuple[str, dict[str, Any], bytes | None]] = []
    for member, event in returned:
        eh = _event_hash(event)
        anchor = by_hash.get(eh) if eh is not None else None
        if anchor is not None and eh is not None:
            matched.add(eh)
            traced.append(TracedEvent("anchored", member, event, eh, anchor))
        else:
            others.append((member, event, eh))
    for member, event, eh in others:
        kinds = _ledger_kinds(event)
        candidates = [
            a
            for a in trail.anchors
            if a.event_hash not in matched and a.writer == member and a.kinds & kinds
        ]
        if candidates:
            anchor = candidates[0]
            matched.add(anchor.event_hash)
            why = (
                f"its hash is not the one {member} anchored for this {'/'.join(sorted(kinds))}"
                " step: the event was changed after it was anchored"
            )
            traced.append(TracedEvent("altered", member, event, eh, anchor, why))
        elif eh is None:
            traced.append(TracedEvent("unanchored", member, event, None, None, "no event hash"))
        else:
            why = (
                "no ledger meaning: never anchored"
                if not kinds
                else "the chain anchors no such event"
            )
            traced.append(TracedEvent("unanchored", member, event, eh, None, why))
    gateways = {a.member: a for a in answers}
    for anchor in trail.anchors:
        if anchor.event_hash in matched:
            continue
        answer = gateways[anchor.writer]
        if answer.status != "answered":
            why = f"{answer.status}: {answer.detail}"
        elif answer.refused:
            why = "refused: " + "; ".join(sorted(set(answer.refused.values())))
        else:
            why = "withheld: the gateway answered without this event (its access rules may hide it)"
        traced.append(TracedEvent("missing", anchor.writer, None, None, anchor, why))
    return traced
