"""The words of findings and reports: members by name, times in the member's own time zone,
and evidence entries for transactions and scans.

A member is named by the consortium's member records as the master data gives them (the
deployment's member names, a catalogue's ``name``), else by its member record on chain
(``member 3 (GLN 4012345000016)``). A time is shown in the time zone of the member's location
where the master data has one (``time_zone``, an IANA name), and in UTC, saying so, where it
has none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ledger_client.events import ItemsShipped, actor
from ledger_client.gs1.dates import end_of_day

if TYPE_CHECKING:
    from ledger_client.audit.catalogue import Catalogue
    from ledger_client.audit.model import RegistryModel
    from ledger_client.audit.scans import VerificationRecord


def expiry_text(yymmdd: int) -> str:
    """A lot's expiry as the date the chain reads it (20YY; day 00 the month's last day),
    or its six digits when that is no date."""
    end = end_of_day(yymmdd)
    return datetime.fromtimestamp(end, UTC).date().isoformat() if end else f"{yymmdd:06d}"


def plural(n: int, noun: str) -> str:
    """``1 pack``, ``2 packs``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class Describer:
    """Names, local times and evidence entries for ``model``'s members, from ``catalogue``'s
    master data (build one with :meth:`Catalogue.describer`)."""

    def __init__(self, model: RegistryModel, catalogue: Catalogue) -> None:
        self.model = model
        self.catalogue = catalogue
        self._zones: dict[str | None, ZoneInfo | None] = {}

    # ------------------------------------------------------------ members

    def name(self, account: str | None) -> str:
        """The member's name; ``member N (GLN ...)`` from its record on chain when the master
        data has none; anything else (a location that is no member) as given."""
        if account is None:
            return "nobody"
        entry = self.catalogue.members.get(account, {})
        if entry.get("name"):
            return str(entry["name"])
        m = self.model.members.get(account)
        return account if m is None else f"member {m.index} (GLN {m.gln:013d})"

    def lot(self, lid: bytes) -> str:
        """A lot as people name it: ``lot A1 of GTIN ...`` where the master data has its
        clear code, else ``a lot``."""
        clear = self.catalogue.lots.get(lid)
        return "a lot" if clear is None else f"lot {clear[1]} of GTIN {clear[0]}"

    def member(self, account: str) -> dict[str, Any]:
        """The member as reports name a party: account, name and GLN."""
        m = self.model.members.get(account)
        gln = f"{m.gln:013d}" if m else None
        return {"account": account, "name": self.name(account), "gln": gln}

    # ------------------------------------------------------------ times

    def zone(self, account: str | None) -> ZoneInfo | None:
        """The time zone of the member's location, None when the master data has none."""
        if account not in self._zones:
            self._zones[account] = None if account is None else self.catalogue.time_zone(account)
        return self._zones[account]

    def local(self, ts: int, account: str | None) -> datetime:
        """``ts`` as a datetime in the member's time zone (UTC where it is unknown)."""
        zone: tzinfo = self.zone(account) or UTC
        return datetime.fromtimestamp(ts, zone)

    def zone_name(self, account: str | None) -> str:
        """The IANA name of the member's time zone, or ``UTC`` where it is unknown."""
        zone = self.zone(account)
        return "UTC" if zone is None else zone.key

    def when(self, ts: int, account: str | None) -> str:
        """``ts`` as the member's local date and time, with the zone's abbreviation
        (``2027-01-15 09:00 EST``; ``... UTC`` where the zone is unknown)."""
        return self.local(ts, account).strftime("%Y-%m-%d %H:%M %Z")

    def day(self, ts: int, account: str | None) -> date:
        """The member's local date at ``ts``."""
        return self.local(ts, account).date()

    def hour(self, ts: int, account: str | None) -> int:
        """The member's local hour of day at ``ts``."""
        return self.local(ts, account).hour

    def at(self, ts: int, account: str | None) -> dict[str, Any]:
        """``time`` (Unix seconds), ``local_time`` (ISO 8601 with the offset) and
        ``time_zone`` of a moment at the member's location."""
        return {
            "time": ts,
            "local_time": self.local(ts, account).isoformat(),
            "time_zone": self.zone_name(account),
        }

    # ------------------------------------------------------------ evidence

    def event(self, i: int) -> dict[str, Any]:
        """Event ``i`` of the model as evidence: the transaction, when (in the acting
        member's time), and the members by address and name."""
        e = self.model.events[i]
        by = actor(e)
        out: dict[str, Any] = {
            "type": "transaction",
            "event": e.name,
            "tx": "0x" + e.tx_hash.hex(),
            "block": e.block_number,
            **self.at(e.timestamp, by),
            "by": by,
            "by_name": self.name(by),
        }
        if isinstance(e, ItemsShipped):
            out["to"], out["to_name"] = e.to, self.name(e.to)
        return out

    def scan(self, r: VerificationRecord) -> dict[str, Any]:
        """A scan as evidence: what was scanned, where (by name) and when (local time)."""
        return {
            "type": "scan",
            "gtin": r.gtin,
            "serial": r.serial,
            "lot": r.lot,
            "expiry": None if r.expiry is None else f"{r.expiry:06d}",
            "location": r.location,
            "location_name": self.name(r.location),
            **self.at(r.time, r.location),
        }
