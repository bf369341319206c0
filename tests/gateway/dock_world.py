"""A shipment for the dock tests, added to the shared world: a pallet of two cases of two packs
and a loose pack, shipped by the manufacturer to pharmacy_a (the gateway's operator), and a
pack held by pharmacy_b; each caller passes its own tag and SSCC numbers."""

from __future__ import annotations

from dataclasses import dataclass

from gateway_helpers import EXPIRY, GTIN, Gateway, dm

from tests.utils.factories import make_sscc


@dataclass(frozen=True)
class Shipment:
    """The codes of one shipment (SSCCs as 18 digits, packs by serial) and its transaction."""

    tag: str
    lot: str
    tx: str
    pallet: str
    cases: tuple[str, str]
    case_packs: tuple[tuple[str, str], tuple[str, str]]
    loose: str
    at_pharmacy_b: str

    def pack(self, serial: str) -> str:
        """The DataMatrix text of pack ``serial``."""
        return dm(serial, self.lot)

    @staticmethod
    def sscc(sscc: str) -> str:
        """An SSCC as a scanner sends a GS1-128 label: ``]C1`` and AI (00)."""
        return f"]C100{sscc}"


def ship_to_pharmacy_a(gateway: Gateway, tag: str, serial_ref: int) -> Shipment:
    """Commission and ship a fresh shipment ``tag`` (SSCC serial references from
    ``serial_ref``) and wait until the gateway has indexed it."""
    net = gateway.world.net
    m, pa, pb = net["manufacturer"], net["pharmacy_a"], net["pharmacy_b"]
    lot = f"{tag}L"
    pallet = make_sscc("0614141", serial_ref)
    cases = (make_sscc("0614141", serial_ref + 1), make_sscc("0614141", serial_ref + 2))
    case_packs = ((f"{tag}A1", f"{tag}A2"), (f"{tag}B1", f"{tag}B2"))
    m.register_lot(GTIN, lot, EXPIRY)
    for case, packs in zip(cases, case_packs, strict=True):
        m.commission(GTIN, lot, list(packs), into_sscc=case)
    m.pack(pallet, units=list(cases))
    m.commission(GTIN, lot, [f"{tag}L1", f"{tag}X1"])
    m.ship(pb.address, packs=[(GTIN, f"{tag}X1")])
    pb.receive(packs=[(GTIN, f"{tag}X1")])
    (receipt,) = m.ship(pa.address, packs=[(GTIN, f"{tag}L1")], units=[pallet])
    gateway.wait_indexed()
    return Shipment(
        tag, lot, "0x" + receipt.tx_hash.hex(), pallet, cases, case_packs, f"{tag}L1", f"{tag}X1"
    )
