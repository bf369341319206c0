"""The audit scenario: a devnet on the in-process chain, a history with every kind of step."""

from __future__ import annotations

from dataclasses import dataclass, field

from web3 import Web3

from ledger_client.audit.catalogue import Catalogue
from ledger_client.chain import connect
from ledger_client.devnet import DEMO_MEMBERS, DevNetwork, deploy_devnet
from ledger_client.ids import gs1_check_digit, lot_hash, lot_id, pack_id, pack_word
from ledger_client.types import ZERO_HASH, DecommissionReason, ExceptionKind, LotStatus, PackFlag
from tests.utils.governance import as_council


def gtin(base13: str) -> str:
    """GTIN-14 from its first 13 digits."""
    return base13 + str(gs1_check_digit(base13))


def sscc(base17: str) -> str:
    """SSCC-18 from its first 17 digits."""
    return base17 + str(gs1_check_digit(base17))


GTIN_A = gtin("0061414100001")  # manufacturer's prefix 0614141
GTIN_B = gtin("0061414100002")
GTIN_FOREIGN = gtin("0400000000001")  # nobody's prefix: PRODUCT_MISMATCH
#: The manufacturer's member index: every record of the scenario is its own.
MAKER = list(DEMO_MEMBERS).index("manufacturer") + 1


@dataclass
class Scenario:
    """The history's network and the facts the tests check."""

    w3: Web3
    net: DevNetwork
    case_serials: dict[str, list[str]] = field(default_factory=dict)
    pallet: str = ""
    loose_serials: list[str] = field(default_factory=list)
    dispensed: list[str] = field(default_factory=list)
    undone: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    in_transit: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    tx: dict[str, bytes] = field(default_factory=dict)
    returned: str = ""
    #: Shipment exceptions: packs of lot K1 whose shipment was cancelled, refused (and
    #: received back), lost for good (inside ``lost_case``) and found again.
    cancelled: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    lost_case: str = ""
    found: list[str] = field(default_factory=list)
    #: Exception ids: answered and accepted by its opener, closed by a regulator, left open.
    exceptions: dict[str, int] = field(default_factory=dict)

    def addr(self, name: str) -> str:
        return self.net.address(name)


def build_scenario() -> Scenario:
    """Commission ~300 packs into cases and a pallet, and move them through every step."""
    w3 = connect("eth-tester")
    net = deploy_devnet(w3)
    s = Scenario(w3, net)
    m, wa, wb = net["manufacturer"], net["wholesaler_a"], net["wholesaler_b"]
    pa, pb, reg = net["pharmacy_a"], net["pharmacy_b"], net["regulator"]
    assert m.member_index == MAKER
    m.register_product(GTIN_A, "Amoxicillin 500 mg caps", "500 mg", "capsule", "0614-1410-01")
    m.register_product(GTIN_B, "Ibuprofen 200 mg tabs", "200 mg", "tablet", "0614-1410-02")
    m.register_lot(GTIN_A, "A1", "301231")
    m.register_lot(GTIN_B, "B1", "301231")
    m.register_lot(GTIN_A, "A2", "301231")
    # a lot under nobody's prefix: the client refuses it, the chain files it under the maker
    m.transact(m.registry.functions.registerLot(lot_hash(GTIN_FOREIGN, "F1"), 301231, ZERO_HASH))
    cases = [sscc(f"0061414100000000{i}") for i in range(1, 7)]
    for i, case in enumerate(cases):
        serials = [f"C{i}S{j:03d}" for j in range(40)]
        s.case_serials[case] = serials
        m.commission(GTIN_A, "A1", serials, into_sscc=case)
    s.loose_serials = [f"L{j:03d}" for j in range(50)]
    m.commission(GTIN_B, "B1", s.loose_serials)
    a2 = [f"R{j:02d}" for j in range(10)]
    m.commission(GTIN_A, "A2", a2)
    s.foreign = ["X1", "X2"]
    m.commission_words(
        lot_hash(GTIN_FOREIGN, "F1"), [pack_word(GTIN_FOREIGN, x, "F1") for x in s.foreign]
    )
    s.pallet = sscc("00614141000000100")
    m.pack(s.pallet, units=cases[:4])
    m.ship(wa.address, units=[s.pallet], packs=[(GTIN_B, x) for x in s.loose_serials])
    wa.receive(units=[s.pallet], packs=[(GTIN_B, x) for x in s.loose_serials])
    wa.unpack([s.pallet])  # cases 0-3 now sit in a dissolved pallet, held by wholesaler_a
    wa.ship(wb.address, units=[cases[0]])  # dissolved-unit rule: case 0 leaves the pallet
    wb.receive(units=[cases[0]])
    wa.unpack_items(cases[1], packs=[(GTIN_A, x) for x in s.case_serials[cases[1]][:10]])
    to_pa = [(GTIN_A, x) for x in s.case_serials[cases[1]][:10]]
    s.tx["ship_pa"] = wa.ship(pa.address, packs=to_pa)[0].tx_hash
    s.tx["recv_pa"] = pa.receive(packs=to_pa)[0].tx_hash
    s.dispensed = s.case_serials[cases[1]][:6]
    s.tx["dispense"] = pa.decommission(
        [(GTIN_A, x) for x in s.dispensed], DecommissionReason.DISPENSED
    )[0].tx_hash
    s.undone = s.dispensed[:2]
    pa.undo_decommission([(GTIN_A, x) for x in s.undone])
    # an undone pack sent on to a wholesaler that never supplied it (role order, reuse) ...
    s.tx["onward"] = pa.ship(wb.address, packs=[(GTIN_A, s.undone[0])])[0].tx_hash
    wb.receive(packs=[(GTIN_A, s.undone[0])])
    # ... and a proper return to the supplier
    s.returned = s.case_serials[cases[1]][6]
    s.tx["return"] = pa.ship(wa.address, packs=[(GTIN_A, s.returned)])[0].tx_hash
    wa.receive(packs=[(GTIN_A, s.returned)])
    # an expired lot still moving
    m.register_lot(GTIN_B, "E1", "200131")
    m.commission(GTIN_B, "E1", ["E0", "E1"])
    s.tx["expired_ship"] = m.ship(wb.address, packs=[(GTIN_B, "E0"), (GTIN_B, "E1")])[0].tx_hash
    wb.receive(packs=[(GTIN_B, "E0"), (GTIN_B, "E1")])
    s.destroyed = s.case_serials[cases[2]][:3]  # packs inside a case inside the dissolved pallet
    wa.unpack([cases[2]])
    wa.decommission([(GTIN_A, x) for x in s.destroyed], DecommissionReason.DESTROYED)
    wa.ship(pb.address, packs=[(GTIN_B, x) for x in s.loose_serials[:20]])
    pb.receive(packs=[(GTIN_B, x) for x in s.loose_serials[:15]])
    s.in_transit = s.loose_serials[15:20]
    pb.decommission([(GTIN_B, x) for x in s.loose_serials[:5]], DecommissionReason.DISPENSED)
    s.flagged = s.case_serials[cases[4]][:2]
    reg.flag([(GTIN_A, x) for x in s.flagged], PackFlag.SUSPECT, reason_code=7)
    m.set_lot_status(GTIN_A, "A2", LotStatus.QUARANTINED)
    reg.set_lot_status(GTIN_A, "A2", LotStatus.RECALLED)  # one regulator: a recall request
    m.set_lot_status(GTIN_A, "A2", LotStatus.RECALLED)  # the owner recalls at once
    # access grants: the auditor reads lot A1's events; B1's grant is revoked again
    auditor = net.address("auditor")
    m.grant_access(lid(GTIN_A, "A1"), auditor)
    m.grant_access(lid(GTIN_B, "B1"), auditor)
    m.revoke_access(lid(GTIN_B, "B1"), auditor)
    _shipment_exceptions(s)
    return s


def _shipment_exceptions(s: Scenario) -> None:
    """Cancel, refuse, lose and find shipments to wholesaler B, and record exceptions."""
    m, wa, wb, reg = (
        s.net[n] for n in ("manufacturer", "wholesaler_a", "wholesaler_b", "regulator")
    )
    s.cancelled, s.refused, s.found = ["K0", "K1"], ["K2"], ["K4"]
    s.lost_case = sscc("00614141000000200")
    s.lost = ["K5", "K6"]
    m.register_lot(GTIN_B, "K1", "301231")
    m.commission(GTIN_B, "K1", ["K0", "K1", "K2", "K3", "K4"])
    m.commission(GTIN_B, "K1", s.lost, into_sscc=s.lost_case)
    packs = {k: (GTIN_B, k) for k in ("K0", "K1", "K2", "K3", "K4")}
    m.ship(wb.address, packs=list(packs.values()), units=[s.lost_case])
    m.cancel_shipment(wb.address, packs=[packs[k] for k in s.cancelled])
    wb.refuse(m.address, packs=[packs["K2"]])
    wb.receive(packs=[packs["K3"]])
    m.receive(packs=[packs["K2"]])
    m.report_lost(wb.address, packs=[packs["K4"]], units=[s.lost_case])
    m.report_found(wb.address, packs=[packs["K4"]])
    wb.receive(packs=[packs["K4"]])
    missing = ExceptionKind.DATA_WITHOUT_PRODUCT
    s.exceptions["accepted"], _ = wb.open_exception(m.address, missing, units=[s.lost_case])
    m.answer_exception(s.exceptions["accepted"], evidence_hash=b"\x01" * 32)
    wb.resolve_exception(s.exceptions["accepted"])
    unexpected = [(GTIN_B, "K3")]
    s.exceptions["closed"], _ = wb.open_exception(wa.address, ExceptionKind.DATA_ISSUE, unexpected)
    # the regulator asks for the closure; the council closes it
    reg.resolve_exception(s.exceptions["closed"], evidence_hash=b"\x02" * 32)
    as_council(s.net, reg.exceptions, "resolveException", s.exceptions["closed"], b"\x02" * 32)
    s.exceptions["open"], _ = wb.open_exception(
        m.address, ExceptionKind.PACKAGING_LABELLING, unexpected
    )


def pid(g: str, serial: str) -> bytes:
    return pack_id(g, serial, owner=MAKER)


def lid(g: str, lot: str) -> bytes:
    return lot_id(g, lot, owner=MAKER)


def scenario_catalogue(
    s: Scenario, regions: dict[str, str] | None = None, time_zones: dict[str, str] | None = None
) -> Catalogue:
    """The clear identities behind the scenario's ids, with product and member master data
    (member name -> region, member name -> IANA time zone)."""
    c = Catalogue()
    for g, lot in (
        (GTIN_A, "A1"),
        (GTIN_B, "B1"),
        (GTIN_A, "A2"),
        (GTIN_FOREIGN, "F1"),
        (GTIN_B, "E1"),
    ):
        c.add_lot(g, lot, owner=MAKER)
    for case, serials in s.case_serials.items():
        c.add_unit(case, owner=MAKER)
        c.add_packs(GTIN_A, serials, owner=MAKER)
    c.add_packs(GTIN_B, s.loose_serials, owner=MAKER)
    c.add_packs(GTIN_A, [f"R{j:02d}" for j in range(10)], owner=MAKER)
    c.add_packs(GTIN_FOREIGN, s.foreign, owner=MAKER)
    c.add_packs(GTIN_B, ["E0", "E1"], owner=MAKER)
    c.add_members(s.net.deployment, regions, time_zones)
    c.add_directory(s.w3, s.net.deployment, [GTIN_A, GTIN_B])
    return c
