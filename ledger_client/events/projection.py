"""How every reader takes the event stream: as a projection, folding events one at a time,
in chain order, into its own state (the auditor's model, the gateway's SQL index and alerts,
the EPCIS anchor index, a history, a shipment's contents)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ledger_client.events.schema import ChainEvent


@runtime_checkable
class Projection(Protocol):
    """A reader of the event stream; it dispatches on the event's class, never its name."""

    def apply(self, event: ChainEvent) -> None:
        """Fold ``event`` (the next in chain order) into this projection."""


def project(events: Iterable[ChainEvent], *projections: Projection) -> None:
    """Feed ``events``, in order, to every one of ``projections``."""
    for event in events:
        for projection in projections:
            projection.apply(event)
