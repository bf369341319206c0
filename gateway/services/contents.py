"""What the chain says is inside a case or pallet, level by level, from the index; who may see
it; and the clear codes this gateway knows for ledger ids.

The chain names packs and units by ids only. A clear code is shown where this gateway has
met it: scanned at its dock, verified here, or named in the operator's EPCIS store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.services.auth import AuthError, Principal
from gateway.services.readmodel import UnitRow, custody_unit
from ledger_client.contracts import Role
from ledger_client.epcis.store import ClearIds, EventStore
from ledger_client.errors import InvalidCodeError, RxLedgerError
from ledger_client.gs1 import PackCode, UnitCode, parse_code
from ledger_client.ids import pack_id, unit_id
from ledger_client.owners import CodeOwners
from ledger_client.rules import MAX_LEVEL
from ledger_client.types import PackStatus, UnitStatus

#: A member's display name (``GatewayState.name_of``).
NameOf = Callable[[str | None], str | None]


class NotOnChainError(RxLedgerError, LookupError):
    """Raised when the index holds no record of the scanned pack or unit."""


@dataclass
class Item:
    """A pack or unit of the index and what sits in it (units only)."""

    id: bytes
    is_pack: bool
    level: int
    status: int
    parent: bytes | None
    children: list[Item] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """``pack``, ``case`` (a unit of level 1) or ``pallet``."""
        return "pack" if self.is_pack else "case" if self.level <= 1 else "pallet"

    @property
    def status_name(self) -> str:
        """The status's name (PackStatus or UnitStatus)."""
        return (PackStatus if self.is_pack else UnitStatus)(self.status).name

    def walk(self) -> Iterable[Item]:
        """This item and everything inside it, top down."""
        yield self
        for child in self.children:
            yield from child.walk()

    def pack_count(self) -> int:
        """Packs inside it at every level (1 for a pack)."""
        return sum(1 for i in self.walk() if i.is_pack)


@dataclass(frozen=True)
class Custody:
    """Who holds an item (its top unit's custodian) and where it is going."""

    custodian: str | None
    pending_to: str | None
    in_transit: bool
    lost: bool


def scanned_item(text: str, owners: CodeOwners) -> tuple[bytes, bool, str]:
    """Read a scan naming one pack or logistic unit: its ledger id (the genuine record's,
    under its prefix owner), whether it is a pack, and its clear code. Raise
    :class:`InvalidCodeError` for anything else."""
    code = parse_code(text).code
    if isinstance(code, PackCode):
        pid = pack_id(code.gtin, code.serial, owner=owners.index(code.gtin))
        return pid, True, f"(01){code.gtin}(21){code.serial}"
    if isinstance(code, UnitCode):
        return unit_id(code.sscc, owner=owners.index(code.sscc)), False, f"(00){code.sscc}"
    raise InvalidCodeError(
        f"{type(code).__name__} scanned: scan a pack (GTIN + serial) or a case or pallet (SSCC)"
    )


def load_pack(conn: Session, item: bytes) -> Item | None:
    """The indexed pack ``item``."""
    row = conn.execute(select(m.Pack.status, m.Pack.parent).where(m.Pack.pack_id == item)).first()
    return None if row is None else Item(item, True, 0, row[0], _id(row[1]))


def load_unit(conn: Session, item: bytes, depth: int = 0) -> Item | None:
    """The indexed unit ``item`` with everything inside it (at most ``MAX_LEVEL`` deep)."""
    row = conn.execute(
        select(m.Unit.status, m.Unit.level, m.Unit.parent).where(m.Unit.unit_id == item)
    ).first()
    if row is None:
        return None
    unit = Item(item, False, row[1], row[0], _id(row[2]))
    if depth < MAX_LEVEL:
        for pid, status in conn.execute(
            select(m.Pack.pack_id, m.Pack.status).where(m.Pack.parent == item)
        ):
            unit.children.append(Item(bytes(pid), True, 0, status, item))
        inner = conn.execute(select(m.Unit.unit_id).where(m.Unit.parent == item)).scalars()
        for uid in list(inner):
            child = load_unit(conn, bytes(uid), depth + 1)
            if child is not None:
                unit.children.append(child)
    return unit


def _id(value: bytes | None) -> bytes | None:
    return bytes(value) if value is not None else None


def parents(conn: Session, item: Item) -> list[Item]:
    """The units ``item`` sits in, innermost first (without their contents)."""
    found: list[Item] = []
    parent = item.parent
    while parent is not None and len(found) < MAX_LEVEL:
        row = conn.execute(
            select(m.Unit.status, m.Unit.level, m.Unit.parent).where(m.Unit.unit_id == parent)
        ).first()
        if row is None:
            break
        found.append(Item(parent, False, row[1], row[0], _id(row[2])))
        parent = _id(row[2])
    return found


def custody(conn: Session, item: Item) -> Custody:
    """Who holds ``item`` now: its own custody if it is loose, else its top unit's."""

    def load(unit: bytes) -> UnitRow | None:
        row = conn.execute(
            select(m.Unit.status, m.Unit.parent, m.Unit.custodian, m.Unit.pending_to).where(
                m.Unit.unit_id == unit
            )
        ).first()
        return None if row is None else UnitRow(row[0], _id(row[1]), row[2], row[3])

    if item.is_pack and item.parent is None:
        row = conn.execute(
            select(m.Pack.custodian, m.Pack.pending_to).where(m.Pack.pack_id == item.id)
        ).one()
        status, custodian, pending_to = item.status, row[0], row[1]
    else:
        top = custody_unit(item.parent if item.is_pack else item.id, load)  # type: ignore[arg-type]
        if top is None:
            return Custody(None, None, False, False)
        status, custodian, pending_to = top.status, top.custodian, top.pending_to
    in_transit, lost = status == PackStatus.IN_TRANSIT, status == PackStatus.LOST
    return Custody(custodian, pending_to if in_transit or lost else None, in_transit, lost)


def require_view(principal: Principal, where: Custody, clear: str, name_of: NameOf) -> None:
    """Let regulators, the holder and the member it is in transit to see an item's contents;
    raise 403 naming why for anyone else."""
    if principal.roles & Role.REGULATOR:
        return
    if principal.address in (where.custodian, where.pending_to):
        return
    holder = name_of(where.custodian) or where.custodian or "nobody"
    going = name_of(where.pending_to) or where.pending_to
    raise AuthError(
        403,
        f"{clear} is held by {holder}"
        + (f", in transit to {going}" if where.in_transit else "")
        + f", not by or to {principal.address}: only its holder, the member it is shipped to"
        " and regulators see its contents",
    )


def known_codes(
    conn: Session, store: Path | None, owners: CodeOwners, ids: set[bytes]
) -> dict[bytes, str]:
    """The clear codes this gateway knows for ``ids``: from its dock scans, its verifications
    and, for the rest, the operator's EPCIS store (if there is one)."""
    found: dict[bytes, str] = {}
    if not ids:
        return found
    wanted = list(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for item, clear in conn.execute(
            select(m.DockScan.item_id, m.DockScan.clear).where(m.DockScan.item_id.in_(chunk))
        ):
            found[bytes(item)] = clear
        for item, gtin, serial in conn.execute(
            select(
                m.VerificationRecord.pack_id, m.VerificationRecord.gtin, m.VerificationRecord.serial
            )
            .where(m.VerificationRecord.pack_id.in_(chunk))
            .distinct()
        ):
            found.setdefault(bytes(item), f"(01){gtin}(21){serial}")
    rest = ids - found.keys()
    if rest and store is not None and store.exists():
        named = _store_codes(store, owners)
        for item in rest:
            if item in named.packs:
                gtin, serial = named.packs[item]
                found[item] = f"(01){gtin}(21){serial}"
            elif item in named.units:
                found[item] = f"(00){named.units[item]}"
    return found


#: The clear ids of the operator's EPCIS store, read once per version of the file: a dock
#: session asks for them at every scan.
_STORE_CODES: dict[tuple[str, int, int], ClearIds] = {}


def _store_codes(store: Path, owners: CodeOwners) -> ClearIds:
    """The identifiers ``store`` names, by ledger id (cached while the file is unchanged)."""
    stat = store.stat()
    key = (str(store), stat.st_mtime_ns, stat.st_size)
    if key not in _STORE_CODES:
        with EventStore(store) as events:
            named = events.identifiers(owners.index, owners.lot_keys)
        _STORE_CODES.clear()
        _STORE_CODES[key] = named
    return _STORE_CODES[key]


def find(conn: Session, item: bytes, is_pack: bool, clear: str) -> Item:
    """The indexed pack (alone) or unit (with its contents); raise :class:`NotOnChainError`."""
    found = load_pack(conn, item) if is_pack else load_unit(conn, item)
    if found is None:
        what = "pack" if is_pack else "case or pallet"
        raise NotOnChainError(
            f"the chain holds no {what} {clear} under its company prefix's owner"
            " (as of the gateway's last indexed block)"
        )
    return found
