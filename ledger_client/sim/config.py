"""The parameters of a simulated world, and named presets (``tiny`` for tests, ``dense`` and
``sparse`` for the evaluation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class WorldConfig:
    """How big and how busy a world is.

    ``packs``: regular packs commissioned over ``days`` calendar days; ``makers`` producers
    (the last one overseas, shipping by sea to the 3PL; one of them a repackager when there
    are three or more); ``wholesalers`` (each pharmacy has a primary one, the others are
    secondary); ``pharmacies`` (one open around the clock, one going live a third of the way
    in); ``incidents`` per kind and level; ``case_size`` packs a case, ``pallet_size`` cases a
    pallet.
    """

    days: int = 28
    packs: int = 10_000
    makers: int = 5
    wholesalers: int = 4
    pharmacies: int = 14
    incidents: int = 5
    case_size: int = 12
    pallet_size: int = 8

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return asdict(self)

    def with_(self, **changes: Any) -> WorldConfig:
        """A copy with ``changes``."""
        return replace(self, **changes)


PRESETS: dict[str, WorldConfig] = {
    "tiny": WorldConfig(
        days=21,
        packs=900,
        makers=3,
        wholesalers=3,
        pharmacies=5,
        incidents=1,
        case_size=6,
        pallet_size=4,
    ),
    "dense": WorldConfig(days=28, packs=9_000, makers=5, wholesalers=4, pharmacies=14),
    "sparse": WorldConfig(
        days=66, packs=7_000, makers=4, wholesalers=3, pharmacies=10, case_size=10
    ),
}
