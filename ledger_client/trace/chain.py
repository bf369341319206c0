"""What the chain says about a pack: who held it when, the units it travelled in, and the
EPCIS event hashes anchored for it (its own events and its units' while it was inside)."""

from __future__ import annotations

from dataclasses import dataclass, field

from web3 import Web3

from ledger_client import events as ev
from ledger_client.contracts import Deployment
from ledger_client.epcis.history import chain_history, subject_of
from ledger_client.events import actor
from ledger_client.gs1 import PackCode, parse_code
from ledger_client.owners import PrefixOwners
from ledger_client.types import ZERO_HASH

__all__ = ["Anchor", "ChainTrail", "Custody", "chain_trail"]

#: Lot events are about the whole lot: a pack's trace checks the events naming the pack.
_LOT_EVENTS = (ev.LotRegistered, ev.LotStatusChanged, ev.LotRecallRequested)


@dataclass(frozen=True)
class Custody:
    """``holder`` held the pack from ``start`` to ``end`` (Unix block times; None: still)."""

    holder: str
    start: int
    end: int | None


@dataclass
class Anchor:
    """One EPCIS event hash the chain anchors for the pack, with the contract events that
    anchor it (one event may take several transactions) and the member that wrote them."""

    event_hash: bytes
    writer: str
    events: list[ev.RegistryEvent] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        """The names of the contract events anchoring it (``ItemsShipped``, ...)."""
        return {e.name for e in self.events}

    @property
    def timestamp(self) -> int:
        """The block time of its first transaction."""
        return self.events[0].timestamp


@dataclass
class ChainTrail:
    """A pack's history as the chain holds it."""

    gtin: str
    serial: str
    pack_id: bytes
    custody: list[Custody]
    units: list[bytes]
    anchors: list[Anchor]
    unanchored_steps: int
    """Contract events about the pack that anchor no EPCIS event (written without one)."""


def chain_trail(w3: Web3, deployment: Deployment, code: str) -> ChainTrail:
    """The chain's history of the pack ``code`` names (any GS1 form with GTIN and serial)."""
    parsed = parse_code(code).code
    if not isinstance(parsed, PackCode):
        raise ValueError(f"{code!r} names no pack (a GTIN with a serial)")
    owners = PrefixOwners(deployment.contract(w3, "Consortium"))
    subject = subject_of("pack", code, owners)
    (pid,) = subject.packs
    custody: list[Custody] = []
    units: list[bytes] = []
    anchors: dict[bytes, Anchor] = {}
    bare = 0
    for event in chain_history(w3, deployment, subject):
        if isinstance(event, _LOT_EVENTS):
            continue
        if isinstance(event, ev.PacksCommissioned) and pid in event.pack_ids and not custody:
            custody.append(Custody(event.by, event.timestamp, None))
        elif isinstance(event, ev.ItemsShipped) and custody:
            last = custody.pop()
            custody += [Custody(last.holder, last.start, event.timestamp)]
            custody.append(Custody(event.to, event.timestamp, None))
        if isinstance(event, ev.PacksCommissioned | ev.ItemsPacked):
            unit = event.unit_id
            if unit not in (ZERO_HASH, pid) and unit not in units:
                units.append(unit)
        if event.event_hash == ZERO_HASH:
            bare += 1
            continue
        writer = actor(event) or ""
        anchor = anchors.setdefault(event.event_hash, Anchor(event.event_hash, writer))
        anchor.events.append(event)
    return ChainTrail(parsed.gtin, parsed.serial, pid, custody, units, list(anchors.values()), bare)
