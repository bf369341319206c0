"""The simulated world while a plan is built: the members and their sites, the ids issued so
far, stock at wholesalers and pharmacies, and the primitives that add actions, scans,
incidents and flows to the plan.

Calls that create a record (``registerLot``, ``commission``, ``pack``'s container) send code
hashes; the chain files the record under the sender's member index, and every other call
names it by that id (see :mod:`ledger_client.ids`)."""

from __future__ import annotations

import calendar as _calendar
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger_client.audit.scans import VerificationRecord
from ledger_client.dev.codes import sscc
from ledger_client.ids import (
    lot_hash,
    pack_hash,
    pack_word,
    record_id,
    unit_hash,
    with_check_digit,
)
from ledger_client.sim.calendar import Site, yymmdd
from ledger_client.sim.config import WorldConfig
from ledger_client.sim.members import Member, layout
from ledger_client.sim.plan import DAY, SLOT, Action, Flow, Incident, Plan
from ledger_client.types import DecommissionReason

#: The zero bytes32: no unit, no reference.
ZERO = b"\x00" * 32
DISPENSED = int(DecommissionReason.DISPENSED)
DESTROYED = int(DecommissionReason.DESTROYED)


def hx(b: bytes) -> str:
    """``0x`` + hex of ``b``."""
    return "0x" + b.hex()


@dataclass
class Lot:
    """A registered lot: its GTIN, name, owner, expiry (YYMMDD) and the moment it expires."""

    id: bytes
    gtin: str
    name: str
    owner: str
    expiry: int
    expires_at: int


@dataclass
class Order:
    """A shipment planned from ``frm`` to ``to``: whole cases and loose packs, shipped and
    received (``recv`` None: never received); ``tag`` names its shipment once planned."""

    frm: str
    to: str
    ship: int
    recv: int | None
    cases: list[bytes]
    loose: list[bytes]
    flow: str = ""
    tag: str = ""


@dataclass
class Stock:
    """A pack at a pharmacy: ready from ``ready``; its fate is decided later."""

    pid: bytes
    pharmacy: str
    supplier: str
    ready: int
    fate: str = "dispense"
    at: int = 0


@dataclass
class World:
    """The state of a plan of ``cfg`` from ``start`` (a Monday 00:00 UTC)."""

    cfg: WorldConfig
    seed: int
    start: int
    rng: random.Random = field(init=False)
    plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        if self.start % (7 * DAY) != 4 * DAY:  # the epoch was a Thursday
            raise ValueError("start must be a Monday 00:00 UTC")
        self.rng = random.Random(self.seed)
        self.members: list[Member] = layout(self.cfg, self.start)
        self.by_name = {m.name: m for m in self.members}
        self.addr = {m.name: m.address for m in self.members}
        self.name_of = {m.address: m.name for m in self.members}
        self.index = {m.address: i + 1 for i, m in enumerate(self.members)}
        self.site: dict[str, Site] = {m.address: m.site for m in self.members}
        self.prefix = {m.address: m.prefix for m in self.members if m.prefix}
        kinds = {m.address: m.kind for m in self.members}
        self.makers = [a for a, k in kinds.items() if k == "maker"]
        self.overseas = self.makers[-1] if len(self.makers) > 1 else None
        self.tpl = self.addr["tpl"]
        self.ws = [a for a, k in kinds.items() if k == "wholesaler"]
        self.rd = self.addr["reverse"]
        self.ps = [a for a, k in kinds.items() if k == "pharmacy"]
        self.all_day = self.ps[0]
        self.go_live = self.ps[-1]
        self.go_live_day = self.cfg.days // 3
        self.end = self.start + self.cfg.days * DAY
        self.plan = Plan(self.start, self.end)
        self.cat = self.plan.catalogue
        #: Each maker's GTINs; the wholesalers allowed to carry them.
        self.products = {
            m: [with_check_digit(f"0{self.prefix[m]}{k:05d}") for k in range(1, 4)]
            for m in self.makers
        }
        exclusive = self.makers[min(2, len(self.makers) - 1)]
        self.carriers = {
            m: (self.ws[-2:] if m == exclusive and len(self.ws) > 2 else list(self.ws))
            for m in self.makers
        }
        self.exclusive = exclusive
        self.primary = {p: self.ws[k % max(1, len(self.ws) - 1)] for k, p in enumerate(self.ps)}
        self.far = self._month_end(2 * 365)
        self.serial = self.sscc = self.tags = 0
        self.gtin_of: dict[bytes, str] = {}
        self.serial_of: dict[bytes, str] = {}
        self.lots: dict[bytes, Lot] = {}
        self.lot_of_pack: dict[bytes, Lot] = {}
        self.made_at: dict[bytes, int] = {}
        self.hash_of: dict[bytes, bytes] = {}
        self.contents: dict[bytes, list[bytes]] = {}
        self.lot_of_case: dict[bytes, Lot] = {}
        #: Cases each wholesaler holds, with the time they are ready.
        self.at_wholesaler: list[tuple[str, bytes, int]] = []
        self.orders: list[Order] = []
        self.stock: list[Stock] = []
        self.used: set[bytes] = set()
        self.last_serial: dict[str, int] = {}
        self.short_lots: set[bytes] = set()
        self.shortage_gtin = ""
        self.reverse_cases: list[tuple[str, bytes, int]] = []
        self.reserved: list[tuple[str, bytes, int]] = []
        #: The expected dispenses of (pharmacy, day) of a spike, from a plan without spikes.
        self.spike_usual: dict[tuple[str, int], float] = {}

    # ------------------------------------------------------------------ time

    def _month_end(self, days: int) -> int:
        """The last day of the month ``days`` after the start, as YYMMDD."""
        d = date(1970, 1, 1) + timedelta(days=self.start // DAY + days)
        last = _calendar.monthrange(d.year, d.month)[1]
        return (d.year % 100) * 10000 + d.month * 100 + last

    def day(self, d: int) -> int:
        """Midnight UTC of day ``d``."""
        return self.start + d * DAY

    def at(self, who: str, d: int, part: int = 0, after: int = 0) -> int | None:
        """A time in ``who``'s opening interval ``part`` on day ``d`` (None: closed)."""
        return self.site[who].at(self.rng, d, part, after)

    def after(self, who: str, ts: int, days: int = 0, part: int = 0) -> int:
        """A time in ``who``'s hours ``days`` or more days after ``ts``, a slot after it."""
        return self.site[who].after(self.rng, ts, days, part)

    def open_days(self, who: str) -> list[int]:
        """The days ``who`` opens."""
        return [d for d in range(self.cfg.days) if self.site[who].is_open(d)]

    def transit_days(self, frm: str, to: str) -> tuple[int, bool]:
        """Days on the road for a shipment on lane (frm, to): the lane's usual days, one more
        when the truck is missed (about one in seven); and whether it was missed."""
        if frm == self.overseas and to == self.tpl:
            return 15 + self.rng.randint(0, 4), False
        base = 2 if to == self.rd else 1
        u = self.rng.random()
        if u < 0.04 and to in self.ps and frm in self.ps:
            return 0, False
        missed = u > 0.86
        return base + (1 if missed else 0), missed

    def arrival(self, frm: str, to: str, ship: int) -> int:
        """When ``to`` receives a shipment ``frm`` sent at ``ship``."""
        days, _missed = self.transit_days(frm, to)
        return self.after(to, ship, days)

    # ------------------------------------------------------------------ actions

    def act(self, ts: int, sender: str, fn: str, *args: Any, items: int = 1) -> str:
        """Add a registry call to the plan; return its tag."""
        self.tags += 1
        tag = f"t{self.tags}"
        self.plan.actions.append(Action(ts, sender, fn, args, items, tag))
        return tag

    def _issue(self, owner: str, code_hash: bytes) -> bytes:
        rid = record_id(self.index[owner], code_hash)
        self.hash_of[rid] = code_hash
        return rid

    def new_serials(self, gtin: str, n: int) -> list[str]:
        """``n`` new serials of ``gtin``."""
        first = self.last_serial.get(gtin, 0)
        self.last_serial[gtin] = first + n
        return [f"S{k:09d}" for k in range(first + 1, first + n + 1)]

    def new_packs(self, maker: str, gtin: str, n: int) -> list[bytes]:
        """Issue ``n`` new serials of ``gtin`` to ``maker``; return the pack ids."""
        serials = self.new_serials(gtin, n)
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

    def new_lot(self, owner: str, gtin: str, name: str, expiry: int, ts: int) -> Lot:
        """Register lot ``name`` of ``gtin`` at ``ts``; return it."""
        lid = self._issue(owner, lot_hash(gtin, name))
        self.cat.lots[lid] = (gtin, name)
        y, m, d = 2000 + expiry // 10000, expiry // 100 % 100, expiry % 100
        expires = int(_calendar.timegm((y, m, d, 23, 59, 59, 0, 0, 0)))
        lot = Lot(lid, gtin, name, owner, expiry, expires)
        self.lots[lid] = lot
        self.act(ts, owner, "registerLot", self.hash_of[lid], expiry, ZERO)
        return lot

    def commission(self, ts: int, maker: str, lot: Lot, unit: bytes, ids: list[bytes]) -> str:
        """Add ``maker``'s commissioning of packs ``ids`` in ``lot`` (into ``unit`` or ZERO)."""
        for pid in ids:
            self.lot_of_pack[pid] = lot
            self.made_at[pid] = ts
        into = self.hash_of[unit] if unit != ZERO else ZERO
        words = [pack_word(self.gtin_of[i], self.serial_of[i], lot.name) for i in ids]
        return self.act(
            ts, maker, "commission", self.hash_of[lot.id], into, words, ZERO, items=len(ids)
        )

    def commission_case(self, maker: str, lot: Lot, ts: int) -> bytes:
        """Commission a new case of ``lot`` at ``ts``; return it."""
        ids = self.new_packs(maker, lot.gtin, self.cfg.case_size)
        case = self.new_unit(maker)
        self.commission(ts, maker, lot, case, ids)
        self.contents[case] = ids
        self.lot_of_case[case] = lot
        return case

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

    def move(
        self, ts: int, frm: str, to: str, packs: list[bytes], units: list[bytes]
    ) -> tuple[str, str, int]:
        """Ship and receive on the lane's time; return (ship tag, receive tag, receipt time)."""
        recv = self.arrival(frm, to, ts)
        return self.ship(ts, frm, to, packs, units), self.receive(recv, to, packs, units), recv

    def destroy(self, ts: int, by: str, packs: list[bytes]) -> str:
        """``by`` decommissions ``packs`` as destroyed."""
        return self.act(ts, by, "decommission", packs, DESTROYED, ZERO, items=len(packs))

    def dispense(self, ts: int, p: str, packs: list[bytes]) -> str:
        """Pharmacy ``p`` dispenses ``packs`` at ``ts``, scanning each just before."""
        for pid in packs:
            self.scan(pid, p, ts)
        return self.act(ts, p, "decommission", packs, DISPENSED, ZERO, items=len(packs))

    # ------------------------------------------------------------------ scans, truth

    def scan(self, pid: bytes, where: str, ts: int) -> None:
        """A scan before the call mined in ``ts``'s slot (blocks carry the slot's start); a
        third of the scans read the lot and expiry too, those of every second pharmacy
        writing a month-end expiry as day 00, as many scanners do."""
        t = ts - ts % SLOT - self.rng.randint(30, 240)
        lot = self.lot_of_pack[pid]
        if self.rng.random() < 0.33:
            expiry = lot.expiry
            day00 = where in self.ps and self.ps.index(where) % 2
            if day00 and expiry == self._month_end_of(expiry):
                expiry = expiry - expiry % 100
                self.flow("expiry_day00", [hx(pid)], expiry=f"{expiry:06d}")
            self.add_scan(pid, where, t, lot=lot.name, expiry=expiry)
        else:
            self.add_scan(pid, where, t)

    @staticmethod
    def _month_end_of(yymmdd_: int) -> int:
        y, m = 2000 + yymmdd_ // 10000, yymmdd_ // 100 % 100
        return yymmdd_ - yymmdd_ % 100 + _calendar.monthrange(y, m)[1]

    def add_scan(
        self, pid: bytes, where: str, t: int, lot: str | None = None, expiry: int | None = None
    ) -> None:
        """Add a scan of pack ``pid`` at ``where`` and time ``t``."""
        self.scan_code(self.gtin_of[pid], self.serial_of[pid], where, t, lot, expiry)

    def scan_code(
        self,
        gtin: str,
        serial: str,
        where: str,
        t: int,
        lot: str | None = None,
        expiry: int | None = None,
    ) -> None:
        """Add a scan of the code ``gtin`` + ``serial``."""
        self.plan.scans.append(VerificationRecord(gtin, serial, where, t, lot=lot, expiry=expiry))

    def incident(
        self,
        kind: str,
        level: str,
        subjects: list[str],
        accept: tuple[str, ...] = (),
        *,
        unscored: str = "",
        **evidence: Any,
    ) -> None:
        """Record an injected incident (``unscored``: why it is not scored, if it is not)."""
        self.plan.truth.append(Incident(kind, level, subjects, evidence, accept, unscored))

    def flow(self, name: str, subjects: list[str], **evidence: Any) -> None:
        """Record a legitimate flow."""
        self.plan.flows.append(Flow(name, subjects, evidence))

    def member_day(self, who: str, ts: int) -> str:
        """``member@day``: ``who`` and the local date of ``ts`` (days from 1970-01-01)."""
        return f"{who}@{self.site[who].local_day(ts)}"

    def expiry_of(self, ts: int) -> int:
        """YYMMDD of ``ts``."""
        return yymmdd(ts)
