"""The simulated world while a plan is built: the members, the ids issued so far, orders and
pharmacy stock, and the primitives that add actions, scans and ground truth to the plan.

Calls that create a record (``registerLot``, ``commission``, ``pack``'s container) send code
hashes; the chain files the record under the sender's member index, and every other call
names it by that id (see :mod:`ledger_client.ids`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ledger_client.audit.scans import VerificationRecord
from ledger_client.chain import dev_account
from ledger_client.dev.codes import sscc
from ledger_client.devnet import DEMO_MEMBERS, demo_index
from ledger_client.ids import lot_hash, pack_hash, record_id, unit_hash, with_check_digit
from ledger_client.sim.calendar import BusinessCalendar, yymmdd
from ledger_client.sim.plan import DAY, KINDS, SLOT, Action, Plan, Truth
from ledger_client.types import DecommissionReason

#: The zero bytes32: no unit, no reference.
ZERO = b"\x00" * 32
DISPENSED = int(DecommissionReason.DISPENSED)
DESTROYED = int(DecommissionReason.DESTROYED)
MEMBERS = ("manufacturer", "repackager", "wholesaler_a", "wholesaler_b", "pharmacy_a", "pharmacy_b")


@dataclass
class Order:
    """A wholesaler's order to a pharmacy: whole cases and loose packs, shipped and received
    (``recv`` None: never received); ``tag`` names its shipment."""

    id: int
    frm: str
    to: str
    ship: int
    recv: int | None
    cases: list[tuple[bytes, list[bytes]]]
    loose: list[bytes]
    tag: str


@dataclass
class Stock:
    """A pack at a pharmacy: ready from ``ready``; its fate is decided later."""

    pid: bytes
    pharmacy: str
    supplier: str
    ready: int
    fate: str = "dispense"
    at: int = 0


class World:
    """The state of a plan for ``packs`` regular packs from ``start`` (a Monday 00:00 UTC)."""

    def __init__(self, seed: int, packs: int, anomaly_rate: float, start: int) -> None:
        self.rng = random.Random(seed)
        self.cal = BusinessCalendar(start, self.rng)
        self.packs, self.t0 = packs, start
        self.big = packs >= 20_000
        self.weeks = 8 if self.big else 4
        self.case_size, self.pallet_size = (25, 20) if self.big else (10, 6)
        self.bdays = 5 * self.weeks
        self.far_expiry = yymmdd(start + 2 * 365 * DAY)
        self.addr = {n: dev_account(n).address for n in MEMBERS}
        #: Each member's index, and the company prefix of the SSCCs of its units.
        self.index: dict[str, int] = {a: demo_index(n) for n, a in self.addr.items()}
        self.prefix: dict[str, str] = {
            a: DEMO_MEMBERS[n][2][0] for n, a in self.addr.items() if DEMO_MEMBERS[n][2]
        }
        self.m, self.rp = self.addr["manufacturer"], self.addr["repackager"]
        self.ws = [self.addr["wholesaler_a"], self.addr["wholesaler_b"]]
        self.ps = [self.addr["pharmacy_a"], self.addr["pharmacy_b"]]
        #: Each maker's GTINs in regular production.
        self.products = {
            self.m: [with_check_digit(f"00614141{k:05d}") for k in range(1, 6)],
            self.rp: [with_check_digit(f"00614142{k:05d}") for k in range(1, 3)],
        }
        self.plan = Plan(start, start + 7 * self.weeks * DAY - 2 * DAY, dict(self.addr))
        self.cat = self.plan.catalogue
        self.serial = 0
        self.sscc = 0
        self.tags = 0
        self.gtin_of: dict[bytes, str] = {}
        self.serial_of: dict[bytes, str] = {}
        self.lot_of: dict[bytes, tuple[str, str, int]] = {}
        #: The code hash of every lot, pack and unit id issued (what creating calls send).
        self.hash_of: dict[bytes, bytes] = {}
        self.contents: dict[bytes, list[bytes]] = {}
        self.at_wholesaler: dict[str, list[tuple[bytes, int]]] = {w: [] for w in self.ws}
        self.orders: list[Order] = []
        self.stock: list[Stock] = []
        self.used: set[bytes] = set()
        #: The lot name of each commissioned pack; each maker's lot for injections.
        self.lot_of_pack: dict[bytes, str] = {}
        self.maker_lot: dict[str, tuple[str, bytes]] = {}
        self.per_kind = max(1, round(anomaly_rate * packs / len(KINDS)))

    def act(self, ts: int, sender: str, fn: str, *args: Any, items: int = 1) -> str:
        """Add a registry call to the plan; return its tag."""
        self.tags += 1
        tag = f"t{self.tags}"
        self.plan.actions.append(Action(ts, sender, fn, args, items, tag))
        return tag

    def _issue(self, owner: str, code_hash: bytes) -> bytes:
        """The id of ``owner``'s record of ``code_hash``, remembered with its hash."""
        rid = record_id(self.index[owner], code_hash)
        self.hash_of[rid] = code_hash
        return rid

    def new_packs(self, maker: str, gtin: str, n: int) -> list[bytes]:
        """Issue ``n`` new serials of ``gtin`` to ``maker``; return the pack ids."""
        serials = [f"S{self.serial + k:010d}" for k in range(n)]
        self.serial += n
        ids = [self._issue(maker, pack_hash(gtin, s)) for s in serials]
        for i, s in zip(ids, serials, strict=True):
            self.cat.packs[i] = (gtin, s)
            self.gtin_of[i], self.serial_of[i] = gtin, s
        return ids

    def new_unit(self, owner: str) -> bytes:
        """Issue a new SSCC under ``owner``'s prefix; return the unit id."""
        self.sscc += 1
        code = sscc(0, self.prefix[owner], self.sscc)
        uid = self._issue(owner, unit_hash(code))
        self.cat.units[uid] = code
        return uid

    def new_lot(self, owner: str, gtin: str, name: str, expiry: int, ts: int) -> bytes:
        """Register lot ``name`` of ``gtin`` at ``ts``; return the lot id."""
        lid = self._issue(owner, lot_hash(gtin, name))
        self.cat.lots[lid] = (gtin, name)
        self.lot_of[lid] = (gtin, name, expiry)
        self.act(ts, owner, "registerLot", self.hash_of[lid], expiry, ZERO)
        return lid

    def commission(self, ts: int, maker: str, lid: bytes, unit: bytes, ids: list[bytes]) -> str:
        """Add ``maker``'s commissioning of packs ``ids`` in lot ``lid`` (into ``unit``, or
        ZERO); return its tag."""
        for pid in ids:
            self.lot_of_pack[pid] = self.lot_of[lid][1]
        lot, into = self.hash_of[lid], self.hash_of[unit] if unit != ZERO else ZERO
        hashes = [self.hash_of[i] for i in ids]
        return self.act(ts, maker, "commission", lot, into, hashes, ZERO, items=len(ids))

    def commission_case(self, maker: str, gtin: str, lid: bytes, bd: int) -> tuple[bytes, int]:
        """Commission a new case of lot ``lid`` on business day ``bd``; return it and the time."""
        ids = self.new_packs(maker, gtin, self.case_size)
        case = self.new_unit(maker)
        t = self.cal.at(bd, 7.4, 11)
        self.commission(t, maker, lid, case, ids)
        self.contents[case] = ids
        return case, t

    def pack(self, ts: int, by: str, units: list[bytes]) -> bytes:
        """Add ``by``'s packing of ``units`` onto a new pallet; return the pallet."""
        pallet = self.new_unit(by)
        self.act(ts, by, "pack", self.hash_of[pallet], [], units, ZERO, items=len(units))
        return pallet

    def ship(self, ts: int, frm: str, to: str, packs: list[bytes], units: list[bytes]) -> str:
        """Add a shipment; return its tag."""
        return self.act(ts, frm, "ship", packs, units, to, ZERO, items=len(packs) + len(units))

    def receive(self, ts: int, by: str, packs: list[bytes], units: list[bytes]) -> str:
        """Add a receipt; return its tag."""
        return self.act(ts, by, "receiveItems", packs, units, ZERO, items=len(packs) + len(units))

    def truth(self, kind: str, subjects: list[str], **evidence: Any) -> None:
        """Record an injected anomaly."""
        self.plan.truth.append(Truth(kind, subjects, evidence))

    def scan(self, pid: bytes, where: str, ts: int) -> None:
        """A scan before the dispense mined in ``ts``'s slot (blocks carry the slot's start)."""
        self.add_scan(pid, where, ts - ts % SLOT - self.rng.randint(30, 500))

    def add_scan(self, pid: bytes, where: str, t: int, lot: str | None = None) -> None:
        """Add a scan of pack ``pid`` at ``where`` and time ``t`` (with a printed ``lot``)."""
        self.plan.scans.append(
            VerificationRecord(self.gtin_of[pid], self.serial_of[pid], where, t, lot=lot)
        )

    def dispense_one(self, p: str, pid: bytes, ts: int) -> None:
        """Pharmacy ``p`` dispenses one pack at ``ts``, scanning it just before."""
        self.act(ts, p, "decommission", [pid], DISPENSED, ZERO)
        self.scan(pid, p, ts)
