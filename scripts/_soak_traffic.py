"""The soak's traffic: paced clients of the gateway, the responses they count and the writes
the gateway acknowledged (what the chain must show afterwards).

Each writer (dispense/undo, capture) runs in one thread that owns its packs, so the
expected chain state follows from the order of its own acknowledged requests.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ledger_client.epcis.hashing import hash_uri_digest
from ledger_client.gs1 import PackCode, to_datamatrix, to_digital_link
from ledger_client.ledger import Ledger
from ledger_client.types import PackStatus

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
LD = {"content-type": "application/ld+json"}
BATCH = 50
#: Every this many capture cycles the shipping document is posted twice at once.
DUPLICATE_EVERY = 4


@dataclass
class Endpoint:
    """Responses of one endpoint: latencies, status classes, transport errors, surprises."""

    latencies_ms: list[float] = field(default_factory=list)
    classes: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0
    unexpected: int = 0


class Stats:
    """Thread-safe record of every request, and the problems met (first few kept)."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.problems: list[str] = []
        self.problem_count = 0
        self._lock = threading.Lock()

    def problem(self, text: str) -> None:
        """Note something that fails the soak."""
        with self._lock:
            self.problem_count += 1
            if len(self.problems) < 20:
                self.problems.append(text)

    def call(
        self, client: httpx.Client, name: str, method: str, url: str, expect: int, **kw: Any
    ) -> httpx.Response | None:
        """Send one request, record it under ``name``; None on a transport error."""
        started = time.perf_counter()
        try:
            response = client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            with self._lock:
                self.endpoints.setdefault(name, Endpoint()).transport_errors += 1
            self.problem(f"{name}: transport error {exc!r}")
            return None
        ms = (time.perf_counter() - started) * 1000
        with self._lock:
            ep = self.endpoints.setdefault(name, Endpoint())
            ep.latencies_ms.append(ms)
            ep.classes[f"{response.status_code // 100}xx"] += 1
            ep.unexpected += response.status_code != expect
        if response.status_code != expect:
            self.problem(
                f"{name}: {response.status_code}, expected {expect}: {response.text[:300]}"
            )
        return response


@dataclass
class Acks:
    """What the gateway acknowledged, per pack id and per EPCIS event hash."""

    dispensed: Counter[bytes] = field(default_factory=Counter)
    undone: Counter[bytes] = field(default_factory=Counter)
    final: dict[bytes, PackStatus] = field(default_factory=dict)
    shipped: Counter[bytes] = field(default_factory=Counter)
    received: Counter[bytes] = field(default_factory=Counter)
    applied_events: Counter[bytes] = field(default_factory=Counter)
    duplicates_skipped: int = 0
    #: packs whose last write has an unknown outcome (transport error): not checked
    unsure: set[bytes] = field(default_factory=set)


def now_iso() -> str:
    """The current UTC time as EPCIS writes it, to the millisecond."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sgtin(pack: PackCode) -> str:
    """The pack's GS1 Digital Link URI, as an EPCIS epcList entry."""
    return f"https://id.gs1.org/01/{pack.gtin}/21/{pack.serial}"


def epcis_document(event: dict[str, Any]) -> dict[str, Any]:
    """An EPCIS 2.0 document of one ObjectEvent observed now."""
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": now_iso(),
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": now_iso(),
                    "eventTimeZoneOffset": "+00:00",
                    "action": "OBSERVE",
                    **event,
                }
            ]
        },
    }


def shipping(packs: list[PackCode], to_gln: str) -> dict[str, Any]:
    """Shipping of ``packs`` to the member of GLN ``to_gln``."""
    return epcis_document(
        {
            "epcList": [sgtin(p) for p in packs],
            "bizStep": "shipping",
            "disposition": "in_transit",
            "destinationList": [
                {"type": "owning_party", "destination": f"https://id.gs1.org/417/{to_gln}"}
            ],
        }
    )


def receiving(packs: list[PackCode]) -> dict[str, Any]:
    """Receiving of ``packs``."""
    return epcis_document(
        {
            "epcList": [sgtin(p) for p in packs],
            "bizStep": "receiving",
            "disposition": "in_progress",
        }
    )


def scan(pack: PackCode, rng: random.Random) -> str:
    """What a scanner sends for ``pack``: a DataMatrix message or a Digital Link."""
    return "]d2" + to_datamatrix(pack) if rng.random() < 0.7 else to_digital_link(pack)


def paced(rate: float, deadline: float, step: Callable[[], None], stats: Stats) -> None:
    """Call ``step`` ``rate`` times a second until ``deadline`` (no bursts after a stall)."""
    interval, next_at = 1.0 / rate, time.monotonic()
    while (now := time.monotonic()) < deadline:
        if now < next_at:
            time.sleep(min(next_at - now, deadline - now))
            continue
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - a broken step fails the soak, not the thread
            stats.problem(f"{getattr(step, '__name__', step)}: {exc!r}")
        next_at = max(next_at + interval, time.monotonic() - interval)


@dataclass
class Traffic:
    """The soak's clients. ``verify_codes`` are scans to verify; ``dispense_packs`` and
    ``capture_packs`` are pharmacy A's, each pool written by one thread; ``refused`` is a
    destroyed pack that dispense and undo must refuse; ``partner`` (pharmacy B) receives
    what the captured shipments send it and ships the packs back."""

    stats: Stats
    verify_codes: list[str]
    dispense_packs: list[PackCode]
    capture_packs: list[PackCode]
    refused: PackCode
    partner: Ledger
    partner_gln: str
    operator: str
    acks: Acks = field(default_factory=Acks)
    rng: random.Random = field(default_factory=lambda: random.Random(1))

    def __post_init__(self) -> None:
        self._unreadable = ["]d20109506000134352", "hello", "(01)123(21)X"]
        self._active = list(self.dispense_packs)
        self._dispensed: list[PackCode] = []
        packs = self.capture_packs
        self._groups = deque(packs[i : i + 5] for i in range(0, len(packs), 5))
        self._cycle = 0
        self._bad = 0

    # ------------------------------------------------------------------ reads

    def verify(self, client: httpx.Client) -> None:
        """GET /v1/verify of one scan; now and then an unreadable one (200, UNREADABLE)."""
        if self.rng.random() < 0.03:
            code, unreadable = self.rng.choice(self._unreadable), True
        else:
            code, unreadable = self.rng.choice(self.verify_codes), False
        r = self.stats.call(
            client, "GET /v1/verify", "GET", "/v1/verify", 200, params={"code": code}
        )
        answer = r.json()["status"] if r is not None and r.status_code == 200 else "UNREADABLE"
        if unreadable and answer != "UNREADABLE":
            self.stats.problem(f"verify {code!r}: {answer}, not UNREADABLE")

    def verify_batch(self, client: httpx.Client) -> None:
        """POST /v1/verify of a delivery of ``BATCH`` scans."""
        codes = self.rng.sample(self.verify_codes, BATCH)
        r = self.stats.call(
            client, "POST /v1/verify", "POST", "/v1/verify", 200, json={"codes": codes}
        )
        if r is not None and r.status_code == 200 and len(r.json()["results"]) != BATCH:
            self.stats.problem("verify batch: wrong number of results")

    def alerts(self, client: httpx.Client) -> None:
        """GET /v1/alerts of the operator."""
        self.stats.call(client, "GET /v1/alerts", "GET", "/v1/alerts", 200)

    # ------------------------------------------------------------------ dispense and undo

    def dispense_or_undo(self, client: httpx.Client) -> None:
        """Dispense 1-3 active packs, or (40 %, or when none is left) undo 1-3 dispensed."""
        undo = bool(self._dispensed) and (self.rng.random() < 0.4 or not self._active)
        pool = self._dispensed if undo else self._active
        packs = self.rng.sample(pool, min(len(pool), self.rng.randint(1, 3)))
        path = "/v1/dispense/undo" if undo else "/v1/dispense"
        body = {"codes": [scan(p, self.rng) for p in packs]}
        r = self.stats.call(client, f"POST {path}", "POST", path, 200, json=body)
        ids = self.partner.pack_ids([(p.gtin, p.serial) for p in packs])
        if r is None:  # unknown outcome: leave these packs alone
            self.acks.unsure.update(ids)
            for p in packs:
                pool.remove(p)
            return
        if r.status_code != 200:
            return
        counter = self.acks.undone if undo else self.acks.dispensed
        status = PackStatus.ACTIVE if undo else PackStatus.DECOMMISSIONED
        for p, pid in zip(packs, ids, strict=True):
            counter[pid] += 1
            self.acks.final[pid] = status
            pool.remove(p)
            (self._active if undo else self._dispensed).append(p)

    # ------------------------------------------------------------------ capture

    def _capture(self, client: httpx.Client, doc: dict[str, Any], copies: int) -> list[Any]:
        """POST ``doc`` ``copies`` times back to back, poll every job; return the jobs that
        finished."""
        body = json.dumps(doc)
        locations = []
        for _ in range(copies):
            r = self.stats.call(
                client, "POST /v1/capture", "POST", "/v1/capture", 202, content=body, headers=LD
            )
            if r is not None and r.status_code == 202:
                locations.append(r.headers["Location"])
        jobs = []
        for location in locations:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                r = self.stats.call(client, "GET /v1/capture/{id}", "GET", location, 200)
                if r is not None and r.status_code == 200 and not r.json()["running"]:
                    jobs.append(r.json())
                    break
                time.sleep(0.1)
            else:
                self.stats.problem(f"capture job {location} still running after 120 s")
        return jobs

    def _settle(
        self, jobs: list[Any], copies: int, counter: Counter[bytes], ids: list[bytes]
    ) -> bool:
        """Count the applied event of ``jobs`` (one of ``copies`` posts of one document):
        exactly one job applies it, the others skip it. Return whether it was applied."""
        statuses = sorted(job["results"][0]["status"] for job in jobs)
        if len(jobs) == copies and statuses == ["applied"] + ["skipped"] * (copies - 1):
            self.acks.applied_events[hash_uri_digest(jobs[0]["results"][0]["event_hash"])] += 1
            self.acks.duplicates_skipped += copies - 1
            for pid in ids:
                counter[pid] += 1
            return True
        self.stats.problem(f"capture: {copies} posts of one document ended {statuses}")
        for job in jobs:
            if job["results"] and job["results"][0]["status"] == "applied":
                self.acks.applied_events[hash_uri_digest(job["results"][0]["event_hash"])] += 1
        self.acks.unsure.update(ids)
        return False

    def capture_cycle(self, client: httpx.Client) -> None:
        """Capture a shipment of 5 packs to the partner (every ``DUPLICATE_EVERY``th document
        posted twice at once), let the partner receive and return them, capture their receipt."""
        if not self._groups:
            return
        group = self._groups.popleft()  # back in the rotation only if the cycle completes
        self._cycle += 1
        ids = self.partner.pack_ids([(p.gtin, p.serial) for p in group])
        copies = 2 if self._cycle % DUPLICATE_EVERY == 0 else 1
        jobs = self._capture(client, shipping(group, self.partner_gln), copies)
        if not self._settle(jobs, copies, self.acks.shipped, ids):
            return
        refs = [(p.gtin, p.serial) for p in group]
        self.partner.receive(refs)
        self.partner.ship(self.operator, refs)
        jobs = self._capture(client, receiving(group), 1)
        if self._settle(jobs, 1, self.acks.received, ids):
            self._groups.append(group)

    # ------------------------------------------------------------------ refused requests

    def malformed(self, client: httpx.Client) -> None:
        """One request the gateway must refuse with its 4xx (cases in turn)."""
        refused = scan(self.refused, self.rng)
        unknown = PackCode(self.refused.gtin, f"NOPE{self._bad:06d}")
        bad_doc = shipping(self.capture_packs[:1], self.partner_gln)
        bad_doc["epcisBody"]["eventList"][0]["action"] = "CREATE"
        cases: list[tuple[str, str, int, dict[str, Any]]] = [
            ("GET", "/v1/verify", 422, {"params": {"code": ""}}),
            ("GET", "/v1/verify", 422, {"params": {"code": "9" * 600}}),
            ("POST", "/v1/verify", 422, {"json": {"codes": []}}),
            ("POST", "/v1/dispense", 400, {"json": {"codes": ["not a pack"]}}),
            ("POST", "/v1/dispense", 409, {"json": {"codes": [refused]}}),
            ("POST", "/v1/dispense", 409, {"json": {"codes": [scan(unknown, self.rng)]}}),
            ("POST", "/v1/dispense/undo", 409, {"json": {"codes": [refused]}}),
            ("POST", "/v1/capture", 400, {"content": json.dumps(bad_doc), "headers": LD}),
            ("POST", "/v1/capture", 400, {"content": b"{not json", "headers": LD}),
            (
                "POST",
                "/v1/capture",
                415,
                {"content": b"x", "headers": {"content-type": "text/plain"}},
            ),
            ("GET", "/v1/capture/cap-00000000000000000000", 404, {}),
            ("GET", "/v1/alerts", 422, {"params": {"limit": 0}}),
            (
                "GET",
                "/v1/verify",
                401,
                {"params": {"code": refused}, "headers": {"Authorization": "Bearer wrong"}},
            ),
        ]
        method, path, expect, kw = cases[self._bad % len(cases)]
        self._bad += 1
        name = f"{method} {path.replace('cap-00000000000000000000', '{id}')} (bad)"
        self.stats.call(client, name, method, path, expect, **kw)
