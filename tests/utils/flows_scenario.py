"""The flows scenario: a consortium with a reverse distributor and three pharmacies on the
in-process chain, each legitimate flow of the anomaly rules next to the incident it must not
hide, an hour of chain time between steps, and the scans a pharmacy or wholesaler took."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from web3 import Web3

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.scans import VerificationRecord
from ledger_client.chain import connect, dev_account, fund
from ledger_client.contracts import Deployment, MemberSpec, Role, deploy_network
from ledger_client.ledger import Ledger
from tests.utils.audit_scenario import gtin

GTIN = gtin("0061414100007")
HOUR = 3600
#: name -> (roles, GLN, company prefixes)
MEMBERS: dict[str, tuple[Role, int, tuple[str, ...]]] = {
    "maker": (Role.MANUFACTURER | Role.COUNCIL, 614141000012, ("0614141",)),
    "wholesaler_a": (Role.WHOLESALER | Role.COUNCIL, 4012345000016, ()),
    "wholesaler_b": (Role.WHOLESALER, 4012346000015, ()),
    "pharmacy_a": (Role.DISPENSER, 4012347000014, ()),
    "pharmacy_b": (Role.DISPENSER, 4012348000013, ()),
    "pharmacy_c": (Role.DISPENSER, 4012349000012, ()),
    "returns": (Role.REVERSE_DISTRIBUTOR, 4012350000018, ()),
    "regulator": (Role.REGULATOR | Role.COUNCIL, 4012351000017, ()),
}


@dataclass
class Flows:
    """The chain, the members' ledgers, the transactions and scans the tests name."""

    w3: Web3
    deployment: Deployment
    ledgers: dict[str, Ledger]
    tx: dict[str, bytes] = field(default_factory=dict)
    scans: list[VerificationRecord] = field(default_factory=list)

    def addr(self, name: str) -> str:
        return self.ledgers[name].address

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def tick(self, hours: float = 1.0) -> int:
        """Let ``hours`` of chain time pass; return the new time."""
        self.w3.testing.timeTravel(self.now() + int(hours * HOUR))
        self.w3.testing.mine()
        return self.now()

    def scan(self, serial: str, where: str, after: int = 60) -> None:
        """A scan of ``serial`` at member ``where``, ``after`` seconds after the last block."""
        self.scans.append(VerificationRecord(GTIN, serial, self.addr(where), self.now() + after))

    def ship(
        self, key: str, sender: str, to: str, serials: list[str], receive: bool = True
    ) -> None:
        """``sender`` ships ``serials`` to ``to`` (transaction ``key``), received an hour later."""
        packs = [(GTIN, s) for s in serials]
        self.tx[key] = self.ledgers[sender].ship(self.addr(to), packs=packs)[0].tx_hash
        self.tick()
        if receive:
            self.ledgers[to].receive(packs=packs)
            self.tick()

    def catalogue(self) -> Catalogue:
        c = Catalogue()
        for lot in ("A1", "EX", "RC"):
            c.add_lot(GTIN, lot, owner=1)
        c.add_members(self.deployment)
        for entry in c.members.values():
            entry["business_hours"] = "00:00-24:00"  # the chain's clock runs round the clock
        return c


def serials(prefix: str, n: int, start: int = 0) -> list[str]:
    return [f"{prefix}{j:03d}" for j in range(start, start + n)]


def build_flows() -> Flows:
    """Every legitimate flow and its incident, in chain order."""
    w3 = connect("eth-tester")
    deployer = dev_account("deployer")
    accounts = {name: dev_account(f"flows:{name}") for name in MEMBERS}
    fund(w3, [deployer.address, *(a.address for a in accounts.values())])
    expiry = int(time.time()) + 5 * 365 * 86400
    specs = [
        MemberSpec(name, accounts[name].address, g, roles, expiry, prefixes)
        for name, (roles, g, prefixes) in MEMBERS.items()
    ]
    deployment = deploy_network(w3, deployer, specs, 2)
    f = Flows(w3, deployment, {n: Ledger(w3, deployment, a) for n, a in accounts.items()})
    m = f.ledgers["maker"]
    m.register_product(GTIN, "Amoxicillin 250 mg caps", "250 mg", "capsule", "0614-1410-07")
    m.register_lot(GTIN, "A1", "301231")
    tomorrow = datetime.fromtimestamp(f.now() + 86400, UTC).strftime("%y%m%d")
    m.register_lot(GTIN, "EX", tomorrow)  # expires once the wholesaler holds it
    m.register_lot(GTIN, "RC", "301231")  # recalled below
    m.commission(GTIN, "A1", serials("N", 80))
    m.commission(GTIN, "EX", serials("X", 3))
    m.commission(GTIN, "RC", serials("R", 3))
    f.tick()
    f.ship("to_wa", "maker", "wholesaler_a", serials("N", 60) + serials("X", 3) + serials("R", 3))
    f.ship("to_wb", "maker", "wholesaler_b", serials("N", 20, 60))
    f.tick(48)
    # expired stock: to the reverse distributor for destruction (legit), to a pharmacy (not)
    f.ship("expired_to_returns", "wholesaler_a", "returns", ["X000", "X001"])
    f.ship("expired_to_pharmacy", "wholesaler_a", "pharmacy_a", ["X002"])
    # a recall: stock back to the reverse distributor and on to the maker (legit), to a pharmacy
    m.set_lot_status(GTIN, "RC", 3)
    f.tick()
    f.ship("recalled_to_returns", "wholesaler_a", "returns", ["R000", "R001"])
    f.ship("recalled_to_maker", "returns", "maker", ["R000"])
    f.ship("recalled_to_pharmacy", "wholesaler_a", "pharmacy_b", ["R002"])
    # forward trade; a secondary wholesaler fills in for pharmacy_a; stock balancing
    f.ship("wa_to_pa", "wholesaler_a", "pharmacy_a", serials("N", 20))
    f.ship("secondary", "wholesaler_b", "pharmacy_a", serials("N", 5, 60))
    f.ship("wb_to_pb", "wholesaler_b", "pharmacy_b", serials("N", 10, 65))
    f.ship("balancing", "wholesaler_a", "wholesaler_b", serials("N", 5, 50))
    # a transfer for a patient's need (legit); pharmacy_c ships on often (wholesale trade)
    f.ship("patient_transfer", "pharmacy_a", "pharmacy_b", ["N010"])
    f.ship("wa_to_pc", "wholesaler_a", "pharmacy_c", serials("N", 20, 20))
    f.ledgers["pharmacy_c"].decommission([(GTIN, "N020"), (GTIN, "N021")], 1)
    f.tick()
    f.ship("pc_transfer_1", "pharmacy_c", "pharmacy_b", serials("N", 3, 22))
    f.ship("pc_transfer_2", "pharmacy_c", "pharmacy_b", serials("N", 3, 25))
    f.ship("pc_transfer_3", "pharmacy_c", "pharmacy_a", serials("N", 4, 28))
    # a pharmacy sends a damaged pack to the reverse distributor, which sells it on
    f.ship("damaged_to_returns", "pharmacy_a", "returns", ["N011"])
    f.ship("returns_onward", "returns", "pharmacy_c", ["N011"])
    f.ship("damaged_kept", "pharmacy_b", "returns", ["N065"])  # held for destruction
    # a saleable return verified at the wholesaler and resold within hours
    f.scan("N005", "pharmacy_a")
    f.ship("saleable_return", "pharmacy_a", "wholesaler_a", ["N005"], receive=False)
    f.scan("N005", "wholesaler_a", after=1800)
    f.ledgers["wholesaler_a"].receive(packs=[(GTIN, "N005")])
    f.tick()
    f.ship("resold", "wholesaler_a", "pharmacy_b", ["N005"])
    f.scan("N005", "pharmacy_b")
    # dispensing: a re-scan at the counter, an undo within minutes, a clone of a dispensed pack
    pa = f.ledgers["pharmacy_a"]
    pa.decommission([(GTIN, "N001"), (GTIN, "N002")], 1)
    f.scan("N001", "pharmacy_a", after=45)
    f.scan("N002", "pharmacy_a", after=90)
    f.scan("N001", "pharmacy_a", after=150)  # the pharmacist scans it again to undo
    f.w3.testing.timeTravel(f.now() + 240)
    pa.undo_decommission([(GTIN, "N001")])
    f.scan("N002", "pharmacy_b", after=3 * 86400)  # dispensed three days ago: a clone
    # a pack at pharmacy_a scanned there and, three days later, at pharmacy_c
    f.scan("N003", "pharmacy_a")
    f.scan("N003", "pharmacy_c", after=3 * 86400 + 600)
    # a pack that never left wholesaler_a, scanned at pharmacy_c; a serial never commissioned
    f.scan("N055", "pharmacy_c", after=1200)
    f.scans.append(VerificationRecord(GTIN, "FAKE001", f.addr("pharmacy_b"), f.now() + 1300))
    f.tick()
    return f
