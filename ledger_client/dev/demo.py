"""The demo scenario: a realistic week of one manufacturer's supply chain on the ledger.

Two lots are commissioned into cases and pallets, shipped to two wholesalers, re-packed,
shipped on to two pharmacies, verified and dispensed; then one lot is recalled, a damaged
pack destroyed and a dispense undone. Each run continues the same chain with new lots.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger_client.dev.codes import sscc
from ledger_client.devnet import DevNetwork
from ledger_client.errors import InvalidInputError
from ledger_client.explain import code_map, explain
from ledger_client.gs1 import PackCode, to_datamatrix, to_digital_link
from ledger_client.ledger import PackRef
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import DecommissionReason, LotStatus, Receipt

#: GTIN → public master data the manufacturer publishes in the product directory.
PRODUCTS = {
    "09506000134352": ("Amoxicillin 500 mg capsules", "500 mg", "capsule", "50090-1234-1"),
    "00614141000036": ("Metformin 850 mg tablets", "850 mg", "film-coated tablet", "50090-5678-3"),
}
EXPIRIES = ("280600", "271231")
CASE_SIZE = 50
CASES_PER_PALLET = 12
#: The GS1 company prefixes of the SSCCs of the manufacturer's cases and pallets, and of the
#: pallet wholesaler A builds (a member creates units under its own prefix only).
MANUFACTURER_PREFIX = "0614141"
WHOLESALER_A_PREFIX = "4012345"
#: The scenario breaks one pallet at each wholesaler: it needs two full pallets of cases.
MIN_CASES = 2 * CASES_PER_PALLET


def scenario_size_error(packs_per_lot: tuple[int, int]) -> str | None:
    """Why the scenario cannot run with ``packs_per_lot``, or None when it can."""
    cases = sum(n // CASE_SIZE for n in packs_per_lot)
    if cases >= MIN_CASES:
        return None
    return (
        f"{packs_per_lot[0]} + {packs_per_lot[1]} packs fill {cases} cases of {CASE_SIZE}; "
        f"the scenario needs {MIN_CASES} (two pallets of {CASES_PER_PALLET}), "
        f"e.g. --packs {MIN_CASES * CASE_SIZE // 2} {MIN_CASES * CASE_SIZE // 2}"
    )


def random_serial(rng: random.Random) -> str:
    """A randomised serial number, as EU FMD requires (12 of A-Z, 0-9)."""
    return "".join(rng.choices(string.ascii_uppercase + string.digits, k=12))


@dataclass(frozen=True)
class DemoCode:
    """A code to scan after the scenario: the status a verification gives it, and why."""

    status: str
    why: str
    code: str


@dataclass
class ScenarioLog:
    """What the scenario did: steps with their transactions and gas, the scans made along the
    way (with the status each got then), notable outcomes, and codes to scan afterwards."""

    steps: list[tuple[str, int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verifications: list[tuple[str, str, str]] = field(default_factory=list)
    codes: list[DemoCode] = field(default_factory=list)

    def record(self, step: str, receipts: list[Receipt] | Receipt) -> None:
        """Record the receipts of one step."""
        rs = receipts if isinstance(receipts, list) else [receipts]
        self.steps.append((step, len(rs), sum(r.gas_used for r in rs)))


def register_products(net: DevNetwork, gateway_url: str) -> None:
    """Publish the demo products in the directory (once per deployment)."""
    m = net["manufacturer"]
    for gtin, (name, strength, form, ndc) in PRODUCTS.items():
        if m.product(gtin)["owner"] != m.address:
            m.register_product(gtin, name, strength, form, ndc, gateway_url)


def run_scenario(
    net: DevNetwork,
    run: int,
    packs_per_lot: tuple[int, int] = (1600, 800),
    say: Callable[[str], Any] = lambda _: None,
) -> ScenarioLog:
    """Play the scenario once with lots and serials unique to ``run``; return what happened."""
    problem = scenario_size_error(packs_per_lot)
    if problem:
        raise InvalidInputError(problem)
    rng = random.Random(run)
    log = ScenarioLog()
    m, wa, wb = net["manufacturer"], net["wholesaler_a"], net["wholesaler_b"]
    pa, pb = net["pharmacy_a"], net["pharmacy_b"]
    gtins = list(PRODUCTS)
    lots = [f"L{run:03d}A", f"L{run:03d}B"]

    say("manufacturer registers two lots and commissions packs into cases")
    for gtin, lot, expiry in zip(gtins, lots, EXPIRIES, strict=True):
        log.record(f"register lot {lot}", m.register_lot(gtin, lot, expiry))
    cases: list[str] = []
    case_packs: dict[str, list[PackRef]] = {}
    for gtin, lot, count in zip(gtins, lots, packs_per_lot, strict=True):
        receipts: list[Receipt] = []
        for _ in range(count // CASE_SIZE):
            case = sscc(1, MANUFACTURER_PREFIX, run * 100_000 + len(cases))
            serials = [random_serial(rng) for _ in range(CASE_SIZE)]
            receipts += m.commission(gtin, lot, serials, into_sscc=case)
            cases.append(case)
            case_packs[case] = [(gtin, s) for s in serials]
        log.record(f"commission {count} packs of {lot} into cases", receipts)
    pallets = [
        sscc(2, MANUFACTURER_PREFIX, run * 1000 + i) for i in range(len(cases) // CASES_PER_PALLET)
    ]
    pallet_cases = {
        p: cases[i * CASES_PER_PALLET : (i + 1) * CASES_PER_PALLET] for i, p in enumerate(pallets)
    }
    log.record("pack cases onto pallets", [m.pack(p, units=c) for p, c in pallet_cases.items()])

    say("pallets go to the wholesalers")
    half = len(pallets) // 2
    to_wa, to_wb = pallets[:half], pallets[half:]
    log.record(
        "ship pallets to wholesalers",
        m.ship(wa.address, units=to_wa) + m.ship(wb.address, units=to_wb),
    )
    log.record("wholesalers receive", wa.receive(units=to_wa) + wb.receive(units=to_wb))

    say("wholesalers break pallets, re-pack and ship cases to the pharmacies")
    first, last = to_wa[0], to_wb[-1]
    log.record("wholesalers unpack a pallet each", [wa.unpack([first]), wb.unpack([last])])
    repacked = sscc(3, WHOLESALER_A_PREFIX, run * 1000)
    to_pa = pallet_cases[first][:6]
    log.record("wholesaler A re-packs 6 cases onto a pallet", wa.pack(repacked, units=to_pa))
    log.record("wholesaler A ships the pallet to pharmacy A", wa.ship(pa.address, units=[repacked]))
    from_wa, from_wb = pallet_cases[first][6:8], pallet_cases[last][-2:]
    log.record(
        "wholesalers ship 2 cases each to pharmacy B",
        wa.ship(pb.address, units=from_wa) + wb.ship(pb.address, units=from_wb),
    )
    to_pb = from_wa + from_wb
    log.record("pharmacies receive", pa.receive(units=[repacked]) + pb.receive(units=to_pb))
    log.record("pharmacy A unpacks", [pa.unpack([repacked]), pa.unpack(to_pa)])
    log.record("pharmacy B unpacks", pb.unpack(to_pb))

    say("pharmacies verify and dispense")
    dispensed_a = [p for c in to_pa[:2] for p in case_packs[c]][:80]
    dispensed_b = [p for c in from_wa[:1] for p in case_packs[c]][:40]
    for gtin, serial in dispensed_a[:3]:
        status = pa.verify(gtin, serial).status.name
        log.verifications.append((gtin, serial, f"before dispensing: {status}"))
    log.record(
        "pharmacy A dispenses 80 packs", pa.decommission(dispensed_a, DecommissionReason.DISPENSED)
    )
    log.record(
        "pharmacy B dispenses 40 packs", pb.decommission(dispensed_b, DecommissionReason.DISPENSED)
    )

    say(f"manufacturer recalls lot {lots[1]}")
    log.record(f"recall lot {lots[1]}", m.set_lot_status(gtins[1], lots[1], LotStatus.RECALLED))
    held_b = [p for c in from_wb for p in case_packs[c]]
    gtin, serial = held_b[0]
    log.verifications.append((gtin, serial, f"recalled: {pb.verify(gtin, serial).status.name}"))
    try:
        pb.decommission([held_b[0]], DecommissionReason.DISPENSED)
    except LedgerRevertError as exc:
        codes = code_map(packs=[held_b[0]], lots=[(gtins[1], lots[1])], owners=pb.owners)
        reason = explain(exc, codes, {pb.address: "pharmacy_b"})
        log.notes.append(f"pharmacy B could not dispense a recalled pack: {reason}")

    say("pharmacy A destroys a damaged pack; pharmacy B undoes a dispense")
    damaged = [p for c in to_pa[2:3] for p in case_packs[c]][:1]
    log.record(
        "pharmacy A destroys a damaged pack", pa.decommission(damaged, DecommissionReason.DESTROYED)
    )
    log.record("pharmacy B undoes a dispense", pb.undo_decommission(dispensed_b[:1]))

    counterfeit = (gtins[0], random_serial(rng))
    for label, (gtin, serial) in {
        "dispensed": dispensed_a[0],
        "destroyed": damaged[0],
        "undone": dispensed_b[0],
        "counterfeit": counterfeit,
    }.items():
        log.verifications.append((gtin, serial, f"{label}: {pa.verify(gtin, serial).status.name}"))
    # packs no step of the scenario touches after pharmacy A unpacked them: they stay saleable
    saleable = [p for c in to_pa[3:] for p in case_packs[c]][:6]
    held = "saleable, held by pharmacy A"
    log.codes = [
        *(DemoCode("VERIFIED", held, _datamatrix(*p, lots, gtins)) for p in saleable[:3]),
        *(
            DemoCode("VERIFIED", held, to_digital_link(_pack_code(*p, lots, gtins)))
            for p in saleable[3:]
        ),
        DemoCode(
            "DECOMMISSIONED", "dispensed by pharmacy A", _datamatrix(*dispensed_a[1], lots, gtins)
        ),
        DemoCode("RECALLED", f"lot {lots[1]} recalled", _datamatrix(*held_b[1], lots, gtins)),
    ]
    return log


def _pack_code(gtin: str, serial: str, lots: list[str], gtins: list[str]) -> PackCode:
    i = gtins.index(gtin)
    return PackCode(gtin=gtin, serial=serial, lot=lots[i], expiry_yymmdd=EXPIRIES[i])


def _datamatrix(gtin: str, serial: str, lots: list[str], gtins: list[str]) -> str:
    return to_datamatrix(_pack_code(gtin, serial, lots, gtins)).replace("\x1d", "<GS>")
