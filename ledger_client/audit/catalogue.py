"""Master data the chain does not hold in clear: which GTIN, lot and serial an id stands for,
products' names and NDCs, members' names, regions and the time zones of their locations.

The chain stores hashes only; an auditor gets clear identities from the members' EPCIS
documents, the product directory and the consortium's member list. ``Catalogue`` gathers them
and can be saved to, and loaded from, a JSON file. An id names its record's owner too (the
member index that created it, see :mod:`ledger_client.ids`), so adding a code says whose
record it is. A member's entry (``members[address]``) holds its ``name``, ``region``,
``time_zone`` (an IANA name such as ``America/New_York``), ``business_hours`` and
``holidays`` (:mod:`ledger_client.audit.hours`), each where known: from
the deployment, a catalogue file, or the location master data of the member's GLN in an
owner's EPCIS store (attributes named ``timeZone`` and ``businessHours`` in any namespace;
CBV defines neither).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from web3 import Web3

from ledger_client.audit.describe import Describer
from ledger_client.audit.hours import OpeningHours
from ledger_client.contracts import Deployment
from ledger_client.errors import InvalidInputError
from ledger_client.ids import lot_id, pack_id, unit_id
from ledger_client.inputs import read_text

if TYPE_CHECKING:
    from ledger_client.audit.model import RegistryModel
    from ledger_client.epcis.store import EventStore


def _attribute(attributes: dict[str, Any], name: str) -> str | None:
    """The value of a master data attribute called ``name`` (after its namespace)."""
    for key, value in attributes.items():
        if key.replace("#", "/").replace(":", "/").rsplit("/", 1)[-1] == name and value:
            return str(value)
    return None


def time_zone_attribute(attributes: dict[str, Any]) -> str | None:
    """The value of a master data attribute named ``timeZone`` (after its namespace)."""
    return _attribute(attributes, "timeZone")


@dataclass
class Catalogue:
    """Clear identities behind ledger ids, and product and member master data."""

    lots: dict[bytes, tuple[str, str]] = field(default_factory=dict)
    packs: dict[bytes, tuple[str, str]] = field(default_factory=dict)
    units: dict[bytes, str] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_lot(self, gtin: str, lot: str, *, owner: int) -> bytes:
        """Record lot ``lot`` of ``gtin`` of member index ``owner``; return its id."""
        lid = lot_id(gtin, lot, owner=owner)
        self.lots[lid] = (gtin, lot)
        return lid

    def add_packs(self, gtin: str, serials: list[str], *, owner: int) -> list[bytes]:
        """Record packs of ``gtin`` of member index ``owner``; return their ids."""
        ids = [pack_id(gtin, s, owner=owner) for s in serials]
        self.packs.update(zip(ids, ((gtin, s) for s in serials), strict=True))
        return ids

    def add_unit(self, sscc: str, *, owner: int) -> bytes:
        """Record a case or pallet of member index ``owner``; return its id."""
        uid = unit_id(sscc, owner=owner)
        self.units[uid] = sscc
        return uid

    def add_store(self, store: EventStore, model: RegistryModel) -> None:
        """Record the packs, lots and units that the events of an owner's EPCIS store name,
        under the prefix owners of the replayed ``model``; a lot also through the packs the
        events name with it, so that a lot its owner keyed is named too."""
        ids = store.identifiers(model.owner_index)
        self.packs.update(ids.packs)
        self.lots.update(ids.lots)
        self.units.update(ids.units)
        for pid, number in ids.pack_lots.items():
            pack = model.packs.get(pid)
            if pack is not None:
                self.lots.setdefault(pack.lot.id, (ids.packs[pid][0], number))

    def add_locations(self, store: EventStore, model: RegistryModel) -> None:
        """Take each member's time zone and business hours, where its entry has none, from
        the location master data of its GLN (its records in ``model``) in ``store``."""
        for account, m in model.members.items():
            location = store.location(f"{m.gln:013d}")
            attributes = location["attributes"] if location else {}
            for key, name in (("time_zone", "timeZone"), ("business_hours", "businessHours")):
                value = _attribute(attributes, name)
                if value:
                    self.members.setdefault(account, {}).setdefault(key, value)

    def gtin_of_lot(self, lid: bytes) -> str | None:
        """The GTIN of lot ``lid``, if known."""
        found = self.lots.get(lid)
        return found[0] if found else None

    def member_name(self, account: str) -> str:
        """A member's name, or its address when unknown."""
        return str(self.members.get(account, {}).get("name", account))

    def region(self, account: str) -> str:
        """A member's region ("" when not configured)."""
        return str(self.members.get(account, {}).get("region", ""))

    def time_zone(self, account: str) -> ZoneInfo | None:
        """The time zone of a member's location, None where the master data has none;
        raise :class:`InvalidInputError` for a name that is no IANA time zone."""
        name = self.members.get(account, {}).get("time_zone")
        if not name:
            return None
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(
                f"catalogue: member {self.member_name(account)}: time zone {name!r} is not an"
                " IANA time zone (such as America/New_York or Europe/Paris)"
            ) from None

    def opening_hours(self, account: str) -> OpeningHours | None:
        """The member's opening hours and holidays (:mod:`ledger_client.audit.hours`), None
        where the master data gives no hours; raise :class:`InvalidInputError` for hours or
        holidays it cannot read."""
        entry = self.members.get(account, {})
        hours = entry.get("business_hours")
        if not hours:
            return None
        try:
            return OpeningHours.parse(hours, entry.get("holidays", ()))
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"catalogue: member {self.member_name(account)}: {exc}"
            ) from None

    def add_members(
        self,
        deployment: Deployment,
        regions: dict[str, str] | None = None,
        time_zones: dict[str, str] | None = None,
    ) -> None:
        """Name the deployment's members, with optional name → region and name → IANA time
        zone mappings."""
        for name, account in deployment.members.items():
            entry = self.members.setdefault(Web3.to_checksum_address(account), {})
            entry["name"] = name
            if regions and name in regions:
                entry["region"] = regions[name]
            if time_zones and name in time_zones:
                entry["time_zone"] = time_zones[name]

    def describer(self, model: RegistryModel) -> Describer:
        """The words findings and reports use for ``model``'s members and times, from this
        master data (checked: every time zone must be an IANA name, every business hours
        HH:MM-HH:MM)."""
        for account in self.members:
            self.time_zone(account)
            self.opening_hours(account)
        return Describer(model, self)

    def add_directory(self, w3: Web3, deployment: Deployment, gtins: list[str]) -> None:
        """Fetch the product directory's master data for ``gtins``."""
        directory = deployment.contract(w3, "ProductDirectory")
        keys = ("name", "strength", "dosage_form", "ndc", "gateway_url")
        for g in gtins:
            owner, info = directory.functions.product(g).call()
            if int(owner, 16):
                self.products[g] = {"owner": owner, **dict(zip(keys, info, strict=True))}

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "lots": {"0x" + k.hex(): list(v) for k, v in self.lots.items()},
            "packs": {"0x" + k.hex(): list(v) for k, v in self.packs.items()},
            "units": {"0x" + k.hex(): v for k, v in self.units.items()},
            "products": self.products,
            "members": self.members,
        }

    def save(self, path: Path) -> None:
        """Write to ``path`` as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read a catalogue written by :meth:`save`; raise :class:`InvalidInputError` for a
        file that is missing, not JSON or not a catalogue."""
        try:
            raw = json.loads(read_text(path, "catalogue"))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"catalogue {path}:{exc.lineno}: not JSON: {exc.msg}") from None

        def key(k: str) -> bytes:
            return bytes.fromhex(k[2:])

        try:
            return cls(
                lots={key(k): (v[0], v[1]) for k, v in raw.get("lots", {}).items()},
                packs={key(k): (v[0], v[1]) for k, v in raw.get("packs", {}).items()},
                units={key(k): v for k, v in raw.get("units", {}).items()},
                products=raw.get("products", {}),
                members=raw.get("members", {}),
            )
        except (AttributeError, TypeError, ValueError, IndexError) as exc:
            raise InvalidInputError(f"catalogue {path} is not a catalogue: {exc}") from None
