"""Packs in every custody a dispenser can meet, added to the shared world without touching its
packs: held by pharmacy_b (loose and in a case), dispensed by pharmacy_b, in transit to
pharmacy_a, shipped by pharmacy_a and not yet received, and held by pharmacy_a."""

from __future__ import annotations

from dataclasses import dataclass

from gateway_helpers import EXPIRY, GTIN, Gateway, dm

from ledger_client.ids import gs1_check_digit
from ledger_client.types import DecommissionReason


@dataclass(frozen=True)
class CustodyPacks:
    """Serials of the packs, by where they are, all in lot ``lot``."""

    lot: str
    at_pharmacy_b: str
    in_case_at_pharmacy_b: str
    dispensed_at_pharmacy_b: str
    to_pharmacy_a: str
    from_pharmacy_a: str
    at_pharmacy_a: tuple[str, ...]

    def code(self, serial: str) -> str:
        """The DataMatrix text of pack ``serial`` of the lot."""
        return dm(serial, self.lot)


def add_custody_packs(gateway: Gateway, prefix: str, sscc_serial: str) -> CustodyPacks:
    """Commission, in a lot of their own, packs named ``prefix``-something and move them;
    ``sscc_serial`` (9 digits) names the case. Each test module passes its own, as the chain
    is shared by the session (and other modules count the world's lots and packs)."""
    net = gateway.world.net
    m, wa, pa, pb = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"], net["pharmacy_b"]
    lot = f"{prefix}LOT"
    packs = CustodyPacks(
        lot,
        *(f"{prefix}{n}" for n in ("B", "BC", "BD", "IN", "OUT")),
        (f"{prefix}A1", f"{prefix}A2"),
    )
    body = "10614141" + sscc_serial
    sscc = body + str(gs1_check_digit(body))
    theirs = [(GTIN, packs.at_pharmacy_b), (GTIN, packs.dispensed_at_pharmacy_b)]
    m.register_lot(GTIN, lot, EXPIRY)
    m.commission(GTIN, lot, [s for _, s in theirs])
    m.commission(GTIN, lot, [packs.to_pharmacy_a, packs.from_pharmacy_a, *packs.at_pharmacy_a])
    m.commission(GTIN, lot, [packs.in_case_at_pharmacy_b], into_sscc=sscc)
    m.ship(pb.address, packs=theirs, units=[sscc])
    pb.receive(packs=theirs, units=[sscc])
    pb.decommission([(GTIN, packs.dispensed_at_pharmacy_b)], DecommissionReason.DISPENSED)
    ours = [(GTIN, s) for s in (packs.from_pharmacy_a, *packs.at_pharmacy_a)]
    m.ship(pa.address, packs=[*ours, (GTIN, packs.to_pharmacy_a)])
    pa.receive(packs=ours)
    pa.ship(wa.address, packs=[(GTIN, packs.from_pharmacy_a)])
    gateway.wait_indexed()
    return packs
