"""A pack as the registry's ``verify`` returned it, in the form ``rules.verdict`` reads."""

from __future__ import annotations

from dataclasses import dataclass

from ledger_client.types import Verification


@dataclass(frozen=True)
class Facts:
    """A pack as the registry's ``verify`` returned it, in :class:`PackFacts` form."""

    status: int
    flags: int
    lot_tag: bytes
    lot_owner: str
    lot_expiry: int
    lot_expires_at: int
    lot_status: int
    in_transit: bool
    lost: bool = False

    @classmethod
    def of(cls, v: Verification) -> Facts:
        p, lot = v.pack, v.lot
        return cls(
            p.status, p.flags, p.lot_tag, lot.owner, lot.expiry, lot.expires_at, lot.status,
            p.in_transit, p.lost,
        )  # fmt: skip
