"""Plan realistic multi-member traffic with injected anomalies and their ground truth.

The plan is pure data: timed registry calls (:class:`Action`) for the demo consortium, the
off-chain scans (:class:`~ledger_client.audit.anomalies.VerificationRecord`), the master data
(:class:`~ledger_client.audit.catalogue.Catalogue`) and one :class:`Truth` per injected anomaly.
:mod:`ledger_client.audit.sim_chain` sends it to a chain.

The world: the manufacturer and the repackager commission cases of packs every business day
(07:20-11:00 UTC), palletise them and ship pallets to the two wholesalers, who receive them the
next business day (sometimes the same day or the day after), break pallets down, keep cases
1-5 business days and ship them whole or as loose packs in many orders a day to the two
pharmacies. Pharmacies receive, open cases and dispense in small batches over the next days
(08:00-19:00); now and then they return packs to the wholesaler that supplied them, destroy a
damaged pack or undo a dispense and dispense again later. All members work Monday to Friday,
07:00-19:00 UTC. Every dependent step is at least one 10-minute slot after the step before it,
so the actions can be mined slot by slot.

Anomalies (``anomaly_rate`` × packs of them, split evenly over the kinds, fewer where a kind's
definition bounds how many can exist; see ``docs/audit.md``):
a dispense undone then the pack shipped on, scans after a dispense, scans at two pharmacies,
orders never received, pharmacies shipping to a wholesaler that did not supply them, lots of a
GTIN outside the commissioner's prefix and scans with a wrong lot, expired lots shipped, orders
delivered 7-14 business days late, shipments on lanes an owner's goods never take, a maker
commissioning six times its usual day, and single transactions at night.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from ledger_client.audit.anomalies import VerificationRecord
from ledger_client.audit.catalogue import Catalogue
from ledger_client.chain import dev_account
from ledger_client.ids import gs1_check_digit
from ledger_client.types import DecommissionReason

DAY = 86_400
SLOT = 600
ZERO = b"\x00" * 32
KINDS = (
    "DECOMMISSIONED_REUSED",
    "DECOMMISSIONED_VERIFIED",
    "VERIFIED_TWO_PLACES",
    "SHIPMENT_NOT_RECEIVED",
    "ROLE_ORDER",
    "PRODUCT_MISMATCH",
    "EXPIRED_MOVING",
    "TRANSIT_OUTLIER",
    "UNUSUAL_ROUTE",
    "VOLUME_SPIKE",
    "NIGHT_ACTIVITY",
)
DISPENSED = int(DecommissionReason.DISPENSED)
DESTROYED = int(DecommissionReason.DESTROYED)


def _gtin(base13: str) -> str:
    return base13 + str(gs1_check_digit(base13))


def _sscc(n: int) -> str:
    base = f"0061414{n:010d}"
    return base + str(gs1_check_digit(base))


def _yymmdd(ts: int) -> int:
    t = time.gmtime(ts)
    return (t.tm_year % 100) * 10000 + t.tm_mon * 100 + t.tm_mday


@dataclass(frozen=True, slots=True)
class Action:
    """One registry call: when, by whom, what; ``tag`` names it in the ground truth."""

    ts: int
    sender: str
    fn: str
    args: tuple[Any, ...]
    items: int = 1
    tag: str | None = None


@dataclass
class Truth:
    """One injected anomaly: its kind, the subjects a finding must name, and what was done.

    Subjects are pack, lot or unit ids (``0x…``), ``member@day`` strings, or ``tag:<name>``
    placeholders for transaction hashes known only once mined.
    """

    kind: str
    subjects: list[str]
    evidence: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {"kind": self.kind, "subjects": self.subjects, "evidence": self.evidence}


@dataclass
class Plan:
    """Everything a simulation writes: actions, scans, master data and ground truth."""

    start: int
    end: int
    members: dict[str, str]
    actions: list[Action] = field(default_factory=list)
    scans: list[VerificationRecord] = field(default_factory=list)
    catalogue: Catalogue = field(default_factory=Catalogue)
    truth: list[Truth] = field(default_factory=list)
    requested: dict[str, int] = field(default_factory=dict)


@dataclass
class _Order:
    id: int
    frm: str
    to: str
    ship: int
    recv: int | None
    cases: list[tuple[bytes, list[bytes]]]
    loose: list[bytes]
    tag: str


@dataclass
class _Stock:
    """A pack at a pharmacy: ready from ``ready``; its fate is decided later."""

    pid: bytes
    pharmacy: str
    supplier: str
    ready: int
    fate: str = "dispense"
    at: int = 0


class Simulator:
    """Builds a :class:`Plan` for ``packs`` regular packs from ``start`` (a Monday 00:00 UTC)."""

    def __init__(self, seed: int, packs: int, anomaly_rate: float, start: int) -> None:
        if start % (7 * DAY) != 4 * DAY:  # the epoch was a Thursday
            raise ValueError("start must be a Monday 00:00 UTC")
        self.rng = random.Random(seed)
        self.packs, self.rate, self.t0 = packs, anomaly_rate, start
        self.big = packs >= 20_000
        self.weeks = 8 if self.big else 4
        self.case_size, self.pallet_size = (25, 20) if self.big else (10, 6)
        self.bdays = 5 * self.weeks
        names = (
            "manufacturer",
            "repackager",
            "wholesaler_a",
            "wholesaler_b",
            "pharmacy_a",
            "pharmacy_b",
        )
        self.addr = {n: dev_account(n).address for n in names}
        self.m, self.rp = self.addr["manufacturer"], self.addr["repackager"]
        self.ws = [self.addr["wholesaler_a"], self.addr["wholesaler_b"]]
        self.ps = [self.addr["pharmacy_a"], self.addr["pharmacy_b"]]
        self.plan = Plan(start, start + 7 * self.weeks * DAY - 2 * DAY, dict(self.addr))
        self.cat = self.plan.catalogue
        self.serial = 0
        self.sscc = 0
        self.tags = 0
        self.gtin_of: dict[bytes, str] = {}
        self.serial_of: dict[bytes, str] = {}
        self.lot_of: dict[bytes, tuple[str, str, int]] = {}
        self.orders: list[_Order] = []
        self.stock: list[_Stock] = []
        self.used: set[bytes] = set()
        self.per_kind = max(1, round(anomaly_rate * packs / len(KINDS)))

    # ------------------------------------------------------------ time

    def cal(self, bd: int) -> int:
        """Midnight of business day ``bd``."""
        return self.t0 + ((bd // 5) * 7 + bd % 5) * DAY

    def bd_of(self, ts: int) -> int:
        """The business day of ``ts`` (a weekend counts as the next Monday)."""
        w, r = divmod((ts - self.t0) // DAY, 7)
        return int(w * 5 + min(r, 5))

    def at(self, bd: int, h0: float, h1: float) -> int:
        """A random time on business day ``bd`` between hours ``h0`` and ``h1``."""
        return self.cal(bd) + self.rng.randint(int(h0 * 3600), int(h1 * 3600) - 1)

    def after(self, ts: int, h0: float, h1: float, days: int = 0) -> int:
        """A business-hours time ``days`` business days after ``ts`` (same day: after it)."""
        bd = self.bd_of(ts) + days
        lo = max(self.cal(bd) + int(h0 * 3600), ts + SLOT + 1)
        hi = self.cal(bd) + int(h1 * 3600)
        if lo >= hi:
            return self.after(ts, h0, h1, days + 1) if days == 0 else self.at(bd + 1, h0, h1)
        return self.rng.randint(lo, hi)

    def transit(self, ship: int) -> int:
        """When a shipment is received: next business day mostly, sometimes same day or two."""
        u = self.rng.random()
        hour = (ship - self.t0) % DAY / 3600
        if hour < 11 and u < 0.15:
            return self.after(ship, 15, 18)
        return self.after(ship, 8, 12, 1 if u < 0.85 else 2)

    # ------------------------------------------------------------ helpers

    def act(self, ts: int, sender: str, fn: str, *args: Any, items: int = 1) -> str:
        self.tags += 1
        tag = f"t{self.tags}"
        self.plan.actions.append(Action(ts, sender, fn, args, items, tag))
        return tag

    def new_packs(self, gtin: str, n: int) -> list[bytes]:
        serials = [f"S{self.serial + k:010d}" for k in range(n)]
        self.serial += n
        ids = self.cat.add_packs(gtin, serials)
        for i, s in zip(ids, serials, strict=True):
            self.gtin_of[i], self.serial_of[i] = gtin, s
        return ids

    def new_unit(self) -> bytes:
        self.sscc += 1
        return self.cat.add_unit(_sscc(self.sscc))

    def new_lot(self, owner: str, gtin: str, name: str, expiry: int, ts: int) -> bytes:
        lid = self.cat.add_lot(gtin, name)
        self.lot_of[lid] = (gtin, name, expiry)
        self.act(ts, owner, "registerLot", lid, expiry, ZERO)
        return lid

    def ship(self, ts: int, frm: str, to: str, packs: list[bytes], units: list[bytes]) -> str:
        return self.act(ts, frm, "ship", packs, units, to, ZERO, items=len(packs) + len(units))

    def receive(self, ts: int, by: str, packs: list[bytes], units: list[bytes]) -> str:
        return self.act(ts, by, "receiveItems", packs, units, ZERO, items=len(packs) + len(units))

    def hx(self, b: bytes) -> str:
        return "0x" + b.hex()

    def truth(self, kind: str, subjects: list[str], **evidence: Any) -> None:
        self.plan.truth.append(Truth(kind, subjects, evidence))

    # ------------------------------------------------------------ regular traffic

    def production(self) -> None:
        """Makers commission cases each business day, palletise them and ship pallets."""
        rng = self.rng
        far = _yymmdd(self.t0 + 2 * 365 * DAY)
        products = {
            self.m: [_gtin(f"00614141{k:05d}") for k in range(1, 6)],
            self.rp: [_gtin(f"00614142{k:05d}") for k in range(1, 3)],
        }
        share = {self.m: 0.9, self.rp: 0.1}
        days = self.bdays - 1
        lot_size = max(self.case_size * 8, self.packs // 40)
        for maker, gtins in products.items():
            cases = max(days, round(self.packs * share[maker] / self.case_size))
            lots: dict[str, tuple[bytes, int]] = {}
            for bd in range(days):
                n = cases // days + (1 if bd < cases % days else 0)
                made: list[bytes] = []
                for _ in range(n):
                    g = rng.choice(gtins)
                    lid, left = lots.get(g, (ZERO, 0))
                    if left <= 0:
                        name = f"L{len(self.lot_of):05d}"
                        lid = self.new_lot(maker, g, name, far, self.at(bd, 7, 7.2))
                        left = lot_size
                    lots[g] = (lid, left - self.case_size)
                    ids = self.new_packs(g, self.case_size)
                    case = self.new_unit()
                    t = self.at(bd, 7.4, 11)
                    self.act(t, maker, "commission", lid, case, ids, ZERO, items=len(ids))
                    made.append(case)
                    self.contents[case] = ids
                for k in range(0, len(made), self.pallet_size):
                    group = made[k : k + self.pallet_size]
                    pallet = self.new_unit()
                    self.act(
                        self.at(bd, 11.5, 13),
                        maker,
                        "pack",
                        pallet,
                        [],
                        group,
                        ZERO,
                        items=len(group),
                    )
                    w = rng.choice(self.ws)
                    ts = self.at(bd, 14, 16.5)
                    self.ship(ts, maker, w, [], [pallet])
                    recv = self.transit(ts)
                    self.receive(recv, w, [], [pallet])
                    opened = self.after(recv, 7, 19)
                    self.act(opened, w, "unpack", [pallet], ZERO)
                    for case in group:
                        self.at_wholesaler[w].append((case, opened))

    def distribution(self) -> None:
        """Wholesalers ship cases whole or as loose packs to pharmacies in many daily orders."""
        rng = self.rng
        target = 60 if self.big else 4
        for w, cases in self.at_wholesaler.items():
            by_day: dict[tuple[int, str], tuple[list[tuple[bytes, list[bytes]]], list[bytes]]]
            by_day = defaultdict(lambda: ([], []))
            for case, ready in cases:
                bd = self.bd_of(ready) + rng.randint(1, 5)
                if rng.random() < 0.6:
                    by_day[(bd, rng.choice(self.ps))][0].append((case, self.contents[case]))
                else:
                    self.act(self.at(bd, 7, 8.8), w, "unpack", [case], ZERO)
                    for pid in self.contents[case]:
                        by_day[(bd, rng.choice(self.ps))][1].append(pid)
            for (bd, p), (whole, loose) in sorted(by_day.items(), key=lambda kv: kv[0][0]):
                n = sum(len(c) for _, c in whole) + len(loose)
                k = max(1, min(round(n / target), len(whole) + len(loose)))
                buckets: list[tuple[list[tuple[bytes, list[bytes]]], list[bytes]]] = [
                    ([], []) for _ in range(k)
                ]
                for c in whole:
                    buckets[rng.randrange(k)][0].append(c)
                for pid in loose:
                    buckets[rng.randrange(k)][1].append(pid)
                for cs, ls in buckets:
                    if cs or ls:
                        ts = self.at(bd, 9, 17)
                        self.orders.append(
                            _Order(len(self.orders), w, p, ts, self.transit(ts), cs, ls, "")
                        )

    def pharmacies(self) -> None:
        """Ship and receive every order; open cases; the packs become pharmacy stock."""
        for o in self.orders:
            o.tag = self.ship(o.ship, o.frm, o.to, o.loose, [c for c, _ in o.cases])
            if o.recv is None:
                continue
            self.receive(o.recv, o.to, o.loose, [c for c, _ in o.cases])
            for pid in o.loose:
                self.stock.append(_Stock(pid, o.to, o.frm, o.recv))
            for case, ids in o.cases:
                opened = self.after(o.recv, 7, 19)
                self.act(opened, o.to, "unpack", [case], ZERO)
                self.stock.extend(_Stock(pid, o.to, o.frm, opened) for pid in ids)

    def fates(self) -> None:
        """Each stock pack is dispensed 0-8 business days after it is ready; a few are
        destroyed, or dispensed, undone and dispensed again. About twice a week a pharmacy
        returns 1-3 packs to each wholesaler that supplies it."""
        rng = self.rng
        lists: dict[tuple[str, str], list[_Stock]] = defaultdict(list)
        for s in self.stock:
            s.at = self.after(s.ready, 8, 19, rng.randint(0, 8))
            u = rng.random()
            if u < 0.003:
                s.fate = "destroy"
            elif u < 0.005:
                s.fate = "undo"
            lists[(s.pharmacy, s.supplier)].append(s)
        for (p, w), items in sorted(lists.items()):
            for bd in range(self.bdays):
                if rng.random() >= 0.4:
                    continue
                ts = self.at(bd, 10, 16)
                picked: list[_Stock] = []
                for s in rng.sample(items, min(60, len(items))):
                    if s.fate == "dispense" and s.ready + SLOT < ts < s.at - SLOT:
                        picked.append(s)
                        if len(picked) >= rng.randint(1, 3):
                            break
                if not picked:
                    continue
                for s in picked:
                    s.fate = "returned"
                ids = [s.pid for s in picked]
                self.ship(ts, p, w, ids, [])
                self.receive(self.transit(ts), w, ids, [])

    def dispensing(self) -> None:
        """Group each pharmacy's dispenses into small batches; scan each pack just before."""
        rng = self.rng
        batch = 4 if self.big else 1
        per: dict[str, list[_Stock]] = defaultdict(list)
        for s in self.stock:
            if s.fate == "dispense":
                per[s.pharmacy].append(s)
            elif s.fate == "destroy":
                self.act(s.at, s.pharmacy, "decommission", [s.pid], DESTROYED, ZERO)
            elif s.fate == "undo":
                self.dispense_one(s.pharmacy, s.pid, s.at)
                undo = self.after(s.at, 8, 19)
                self.act(undo, s.pharmacy, "undoDecommission", [s.pid], ZERO)
                self.dispense_one(s.pharmacy, s.pid, self.after(undo, 8, 19, 1))
        for p, items in per.items():
            items.sort(key=lambda s: s.at)
            k = 0
            while k < len(items):
                n = rng.randint(1, 2 * batch - 1)
                group = items[k : k + n]
                k += n
                ts = group[-1].at
                ids = [s.pid for s in group]
                self.act(ts, p, "decommission", ids, DISPENSED, ZERO, items=len(ids))
                for pid in ids:
                    self.scan(pid, p, ts)

    def dispense_one(self, p: str, pid: bytes, ts: int) -> None:
        self.act(ts, p, "decommission", [pid], DISPENSED, ZERO)
        self.scan(pid, p, ts)

    def scan(self, pid: bytes, where: str, ts: int, **extra: Any) -> None:
        """A scan before the dispense mined in ``ts``'s slot (blocks carry the slot's start)."""
        t = ts - ts % SLOT - self.rng.randint(30, 500)
        self.plan.scans.append(
            VerificationRecord(self.gtin_of[pid], self.serial_of[pid], where, t, **extra)
        )

    # ------------------------------------------------------------ anomalies

    def pick_stock(self, n: int, ok: Any) -> list[_Stock]:
        end = self.plan.end - SLOT
        pool = [
            s
            for s in self.stock
            if s.fate == "dispense" and s.pid not in self.used and s.at < end and ok(s)
        ]
        chosen = self.rng.sample(pool, min(n, len(pool)))
        for s in chosen:
            self.used.add(s.pid)
        return chosen

    def order_anomalies(self) -> None:
        """Orders never received, and orders delivered 7-14 business days late."""
        rng, last = self.rng, self.bdays - 1
        lost_pool = [o for o in self.orders if o.ship < self.plan.end - 15 * DAY]
        self._lost = rng.sample(lost_pool, min(self.per_kind, len(lost_pool)))
        for o in self._lost:
            o.recv = None
        late_pool = [o for o in self.orders if o.recv and self.bd_of(o.ship) + 8 < last]
        self._late = rng.sample(late_pool, min(self.per_kind, len(late_pool)))
        for o in self._late:
            days = min(rng.randint(7, 14), last - self.bd_of(o.ship) - 1)
            o.recv = self.after(o.ship, 8, 12, days)

    def order_truth(self) -> None:
        for o in self._lost:
            self.truth("SHIPMENT_NOT_RECEIVED", [f"tag:{o.tag}"], frm=o.frm, to=o.to, ship=o.ship)
        for o in self._late:
            assert o.recv is not None
            self.truth(
                "TRANSIT_OUTLIER",
                [f"tag:{o.tag}"],
                frm=o.frm,
                to=o.to,
                ship=o.ship,
                received=o.recv,
                business_days=self.bd_of(o.recv) - self.bd_of(o.ship),
            )

    def pack_anomalies(self) -> None:
        """Reuse after undo, scans after dispense / at two places / with a wrong lot, onward
        shipments by pharmacies, night dispenses."""
        rng, n, end = self.rng, self.per_kind, self.plan.end
        for s in self.pick_stock(n, lambda s: s.at < end - 8 * DAY):
            s.fate = "special"
            self.dispense_one(s.pharmacy, s.pid, s.at)
            undo = self.after(s.at, 8, 19)
            self.act(undo, s.pharmacy, "undoDecommission", [s.pid], ZERO)
            ts = self.after(undo, 10, 16, rng.randint(1, 2))
            self.ship(ts, s.pharmacy, s.supplier, [s.pid], [])
            self.receive(self.transit(ts), s.supplier, [s.pid], [])
            self.truth("DECOMMISSIONED_REUSED", [self.hx(s.pid)], pharmacy=s.pharmacy, shipped=ts)
        for s in self.pick_stock(n, lambda s: True):
            t = s.at + rng.randint(3 * DAY, 20 * DAY)
            where = rng.choice(self.ps)
            self.plan.scans.append(
                VerificationRecord(self.gtin_of[s.pid], self.serial_of[s.pid], where, t)
            )
            self.truth("DECOMMISSIONED_VERIFIED", [self.hx(s.pid)], scanned_at=where, time=t)
        for s in self.pick_stock(n, lambda s: True):
            other = next(p for p in self.ps if p != s.pharmacy)
            t = s.at - s.at % SLOT - rng.randint(3600, 30 * 3600)
            self.plan.scans.append(
                VerificationRecord(self.gtin_of[s.pid], self.serial_of[s.pid], other, t)
            )
            self.truth("VERIFIED_TWO_PLACES", [self.hx(s.pid)], places=[other, s.pharmacy])
        for s in self.pick_stock(n - n // 2, lambda s: True):
            lot = self.lot_of_pack[s.pid]
            wrong = lot + "X"
            self.plan.scans.append(
                VerificationRecord(
                    self.gtin_of[s.pid], self.serial_of[s.pid], s.pharmacy, s.at - 7200, lot=wrong
                )
            )
            self.truth("PRODUCT_MISMATCH", [self.hx(s.pid)], scanned_lot=wrong, lot=lot)
        for s in self.pick_stock(n, lambda s: self.bd_of(s.at) > self.bd_of(s.ready) + 1):
            s.fate = "special"
            other = next(w for w in self.ws if w != s.supplier)
            ts = self.after(s.ready, 10, 16, 1)
            tag = self.ship(ts, s.pharmacy, other, [s.pid], [])
            self.receive(self.transit(ts), other, [s.pid], [])
            self.truth(
                "ROLE_ORDER", [f"tag:{tag}"], pharmacy=s.pharmacy, supplier=s.supplier, to=other
            )
        self.night_dispenses()

    def night_dispenses(self) -> None:
        """Single transactions at 00:00-05:00: pharmacies dispensing, makers commissioning."""
        rng = self.rng
        load: dict[str, float] = defaultdict(float)
        for a in self.plan.actions:
            if a.ts <= self.plan.end:
                load[a.sender] += 1
        batch = 4 if self.big else 1
        for s in self.stock:  # the dispenses still to be grouped into transactions
            if s.fate == "dispense" and s.at <= self.plan.end:
                load[s.pharmacy] += 1 / batch
        members = [p for p in (*self.ps, self.m, self.rp) if load[p] >= 250]
        cap = {p: max(2, int(0.0015 * load[p])) for p in members}
        cells = [(p, h) for p in members for h in range(5)]
        room = Counter({c: cap[c[0]] for c in cells})
        for _ in range(self.per_kind):
            free = [c for c in cells if room[c] > 0]
            if not free:
                break
            p, h = rng.choice(free)
            room[(p, h)] -= 1
            if p in self.ps:
                picked = self.pick_stock(
                    1, lambda s, p=p: s.pharmacy == p and self.bd_of(s.at) > self.bd_of(s.ready) + 1
                )
                if not picked:
                    continue
                s = picked[0]
                s.fate = "special"
                ts = self.cal(self.bd_of(s.ready) + 1) + h * 3600 + rng.randint(0, 3000)
                tag = self.act(ts, p, "decommission", [s.pid], DISPENSED, ZERO)
                self.scan(s.pid, p, ts)
            else:
                bd = rng.randrange(1, self.bdays - 1)
                ts = self.cal(bd) + h * 3600 + rng.randint(0, 3000)
                gtin, lid = self.maker_lot[p]
                ids = self.new_packs(gtin, 1)
                tag = self.act(ts, p, "commission", lid, ZERO, ids, ZERO)
            self.truth("NIGHT_ACTIVITY", [f"tag:{tag}"], member=p, hour=h)

    def dedicated_case(self, maker: str, gtin: str, lid: bytes, bd: int) -> tuple[bytes, int]:
        ids = self.new_packs(gtin, self.case_size)
        case = self.new_unit()
        t = self.at(bd, 7.4, 11)
        self.act(t, maker, "commission", lid, case, ids, ZERO, items=len(ids))
        self.contents[case] = ids
        return case, t

    def lot_anomalies(self) -> None:
        """Lots with a GTIN outside the maker's prefix; expired lots shipped on to pharmacies."""
        rng, n = self.rng, self.per_kind
        far = _yymmdd(self.t0 + 2 * 365 * DAY)
        for k in range(n // 2):
            g = _gtin(f"0{'4000000' if k % 2 else '0614142'}{k:05d}")
            bd = rng.randrange(0, self.bdays - 3)
            lid = self.new_lot(self.m, g, f"F{k:04d}", far, self.at(bd, 7, 7.2))
            case, t = self.dedicated_case(self.m, g, lid, bd)
            w = rng.choice(self.ws)
            ts = self.after(t, 14, 16.5)
            self.ship(ts, self.m, w, [], [case])
            self.receive(self.transit(ts), w, [], [case])
            self.truth("PRODUCT_MISMATCH", [self.hx(lid)], gtin=g, commissioner=self.m)
        gtins = [_gtin(f"00614141{k:05d}") for k in range(1, 6)]
        for k in range(n):
            bd_exp = rng.randrange(6, self.bdays - 6)
            expiry = _yymmdd(self.cal(bd_exp))
            g = rng.choice(gtins)
            lid = self.new_lot(self.m, g, f"E{k:04d}", expiry, self.at(bd_exp - 5, 7, 7.2))
            case, t = self.dedicated_case(self.m, g, lid, bd_exp - 5)
            w = rng.choice(self.ws)
            ts = self.after(t, 14, 16.5)
            self.ship(ts, self.m, w, [], [case])
            self.receive(self.transit(ts), w, [], [case])
            p = rng.choice(self.ps)
            ts2 = self.at(bd_exp + rng.randint(1, 3), 9, 17)
            tag = self.ship(ts2, w, p, [], [case])
            tag2 = self.receive(self.transit(ts2), p, [], [case])
            self.truth(
                "EXPIRED_MOVING", [f"tag:{tag}", f"tag:{tag2}"], lot=self.hx(lid), expiry=expiry
            )

    def unusual_routes(self) -> None:
        """Shipments on lanes the owner's goods never take (each lane at most twice per owner,
        once in small runs, where 2 of a few hundred shipments is not rare)."""
        rng = self.rng
        wa, wb = self.ws
        pa, pb = self.ps
        lanes = {
            self.m: [
                (self.m, pa),
                (self.m, pb),
                (self.m, self.rp),
                (wa, wb),
                (wb, wa),
                (wa, self.m),
                (wb, self.m),
                (wa, self.rp),
                (wb, self.rp),
            ],
            self.rp: [
                (self.rp, pa),
                (self.rp, pb),
                (self.rp, self.m),
                (wa, self.rp),
                (wb, self.rp),
                (wa, self.m),
                (wb, self.m),
                (wb, wa),
                (wa, wb),
            ],
        }
        uses = 2 if self.big else 1
        slots = [(o, ln) for o in (self.m, self.rp) for ln in lanes[o] for _ in range(uses)]
        if not self.big:  # the repackager's goods are too few to learn from; lanes once overall
            slots = [(self.m, ln) for ln in lanes[self.m]]
        rng.shuffle(slots)
        for owner, (a, b) in slots[: self.per_kind]:
            gtin, lid = self.maker_lot[owner]
            bd = rng.randrange(0, self.bdays - 6)
            case, t = self.dedicated_case(owner, gtin, lid, bd)
            ts = self.after(t, 14, 16.5)
            if a != owner:  # first to the wholesaler on a regular lane
                self.ship(ts, owner, a, [], [case])
                recv = self.transit(ts)
                self.receive(recv, a, [], [case])
                ts = self.after(recv, 10, 16, 1)
            tag = self.ship(ts, a, b, [], [case])
            self.receive(self.transit(ts), b, [], [case])
            self.truth("UNUSUAL_ROUTE", [f"tag:{tag}"], owner=owner, lane=[a, b])

    def spikes(self) -> None:
        """A maker commissions six times its usual weekday count in single-pack transactions."""
        rng = self.rng
        load: dict[str, Counter[int]] = defaultdict(Counter)
        for a in self.plan.actions:
            load[a.sender][(a.ts - self.t0) // DAY] += 1
        cells = [(mk, wk) for mk in (self.m, self.rp) for wk in range(1, self.weeks)]
        rng.shuffle(cells)
        for maker, wk in cells[: self.per_kind]:
            weekdays = [load[maker].get(d, 0) for d in range(7 * self.weeks) if d % 7 < 5]
            usual = statistics.median(weekdays)
            size = max(math.ceil(5 * usual), 15)
            bd = wk * 5 + rng.randrange(5)
            gtin, lid = self.maker_lot[maker]
            for _ in range(size):
                ids = self.new_packs(gtin, 1)
                self.act(self.at(bd, 9, 17), maker, "commission", lid, ZERO, ids, ZERO)
            day = self.cal(bd) // DAY
            self.truth(
                "VOLUME_SPIKE", [f"{maker}@{day}"], member=maker, extra=size, usual_weekday=usual
            )

    # ------------------------------------------------------------ the whole plan

    def build(self) -> Plan:
        """Plan regular traffic and inject every kind of anomaly."""
        self.contents: dict[bytes, list[bytes]] = {}
        self.at_wholesaler: dict[str, list[tuple[bytes, int]]] = {w: [] for w in self.ws}
        self.production()
        self.lot_of_pack = {
            pid: self.lot_of[lid][1] for lid, pids in self._lot_packs().items() for pid in pids
        }
        far = _yymmdd(self.t0 + 2 * 365 * DAY)
        self.maker_lot = {}
        for maker, g, name in (
            (self.m, _gtin("0061414100099"), "XM"),
            (self.rp, _gtin("0061414200099"), "XR"),
        ):
            self.maker_lot[maker] = (g, self.new_lot(maker, g, name, far, self.at(0, 7, 7.2)))
        self.distribution()
        self.order_anomalies()
        self.pharmacies()
        self.fates()
        self.pack_anomalies()
        self.dispensing()
        self.order_truth()
        self.lot_anomalies()
        self.unusual_routes()
        self.spikes()
        self.finish()
        return self.plan

    def _lot_packs(self) -> dict[bytes, list[bytes]]:
        out: dict[bytes, list[bytes]] = defaultdict(list)
        for a in self.plan.actions:
            if a.fn == "commission":
                out[a.args[0]].extend(a.args[2])
        return out

    def finish(self) -> None:
        """Drop what falls after the end (its dependants fall after it too); sort by time."""
        p = self.plan
        p.actions = sorted((a for a in p.actions if a.ts <= p.end), key=lambda a: a.ts)
        p.scans.sort(key=lambda r: r.time)
        p.requested = {k: self.per_kind for k in KINDS}
        for name, account in p.members.items():
            self.cat.members.setdefault(account, {})["name"] = name


def next_monday(ts: int) -> int:
    """The first Monday 00:00 UTC after ``ts``."""
    days = ts // DAY + 1
    while (days - 4) % 7:
        days += 1
    return days * DAY


def plan(seed: int, packs: int, anomaly_rate: float, start: int) -> Plan:
    """Plan a simulation (see the module docstring)."""
    return Simulator(seed, packs, anomaly_rate, start).build()
