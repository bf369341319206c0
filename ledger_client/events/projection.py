"""How every reader takes the event stream: as a projection, folding events one at a time,
in chain order, into its own state (the auditor's model, the gateway's SQL index and alerts,
the EPCIS anchor index, a history, a shipment's contents)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar, runtime_checkable

from ledger_client.events.schema import ChainEvent


@runtime_checkable
class Projection(Protocol):
    """A reader of the event stream; it dispatches on the event's class, never its name."""

    def apply(self, event: ChainEvent) -> None:
        """Fold ``event`` (the next in chain order) into this projection."""


H = TypeVar("H", bound=Callable[..., Any])


def handles(*event_types: type[ChainEvent]) -> Callable[[H], H]:
    """Mark a projection's method as its handler of ``event_types``; see :func:`handlers`."""

    def mark(method: H) -> H:
        method._handles_events = event_types  # type: ignore[attr-defined]
        return method

    return mark


def handlers(projection: object) -> dict[type[ChainEvent], Callable[..., Any]]:
    """The methods of ``projection`` marked with :func:`handles`, bound, by event class: the
    dict a projection dispatches on."""
    return {
        event_type: getattr(projection, name)
        for klass in reversed(type(projection).__mro__)
        for name, method in vars(klass).items()
        for event_type in getattr(method, "_handles_events", ())
    }


def project(events: Iterable[ChainEvent], *projections: Projection) -> None:
    """Feed ``events``, in order, to every one of ``projections``."""
    for event in events:
        for projection in projections:
            projection.apply(event)
