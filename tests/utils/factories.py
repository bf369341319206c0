"""Valid GS1 codes, lots and commissioned packs for tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from eth_utils import keccak

from ledger_client.devnet import DevNetwork
from ledger_client.ids import gs1_check_digit
from ledger_client.ledger import Ledger, PackRef
from ledger_client.owners import CodeOwners, PrefixOwners
from ledger_client.types import Receipt

#: GS1 company prefixes of the demo members (ledger_client.devnet).
MANUFACTURER_PREFIX = "0614141"
REPACKAGER_PREFIX = "0614142"
WHOLESALER_A_PREFIX = "4012345"
WHOLESALER_B_PREFIX = "4012346"
#: A prefix no member owns.
UNOWNED_PREFIX = "0799999"
#: A far expiry (GS1 YYMMDD) for lots that must stay saleable.
EXPIRY = 301231


def make_gtin(prefix: str, item_ref: int, indicator: int = 0) -> str:
    """Return a GTIN-14 with a valid check digit: indicator, company prefix, item reference."""
    body = f"{indicator}{prefix}{item_ref:0{12 - len(prefix)}d}"
    return body + str(gs1_check_digit(body))


def make_sscc(prefix: str, serial_ref: int, extension: int = 0) -> str:
    """Return an SSCC-18 with a valid check digit: extension, company prefix, serial reference."""
    body = f"{extension}{prefix}{serial_ref:0{16 - len(prefix)}d}"
    return body + str(gs1_check_digit(body))


GTIN = make_gtin(MANUFACTURER_PREFIX, 1)
REPACKAGER_GTIN = make_gtin(REPACKAGER_PREFIX, 1)
FOREIGN_GTIN = make_gtin(UNOWNED_PREFIX, 1)


def sscc(n: int) -> str:
    """The ``n``-th test SSCC (under the manufacturer's prefix)."""
    return make_sscc(MANUFACTURER_PREFIX, n)


CASE, PALLET = sscc(1), sscc(2)
"""A case and a pallet of the manufacturer's."""


def owners(net: DevNetwork) -> PrefixOwners:
    """The ids of ``net``'s genuine records: under the member owning the code's prefix."""
    return net["auditor"].owners


class OwnerOfEveryPrefix(CodeOwners):
    """A prefix table, for tests without a chain, in which member ``owner`` owns every prefix."""

    def __init__(self, owner: int) -> None:
        super().__init__()
        self.owner_index = owner

    def index(self, code: str) -> int:
        return self.owner_index


def event_hash(label: str) -> bytes:
    """A recognisable 32-byte EPCIS event hash for ``label``."""
    return keccak(text=f"epcis:{label}")


def yymmdd_of(timestamp: int) -> int:
    """The GS1 YYMMDD (UTC) of ``timestamp``."""
    d = datetime.fromtimestamp(timestamp, UTC).date()
    return (d.year % 100) * 10000 + d.month * 100 + d.day


def serials(n: int, prefix: str = "S") -> list[str]:
    """``n`` serial numbers ``S1``, ``S2``, ..."""
    return [f"{prefix}{i}" for i in range(1, n + 1)]


def commissioned(
    ledger: Ledger,
    names: Sequence[str],
    *,
    gtin: str = GTIN,
    lot: str = "LOT1",
    expiry: int = EXPIRY,
    into: str | None = None,
    register: bool = True,
) -> list[PackRef]:
    """Register ``lot`` (unless ``register`` is False) and commission ``names`` as serials."""
    if register:
        ledger.register_lot(gtin, lot, expiry)
    ledger.commission(gtin, lot, list(names), into_sscc=into)
    return [(gtin, s) for s in names]


def registry_call(ledger: Ledger, function: str, *args: object) -> Receipt:
    """Send ``SerialRegistry.function(*args)`` as ``ledger``'s member, straight to the contract
    (past the client's own checks, as a member's own software could)."""
    return ledger.transact(ledger.registry.functions[function](*args))
