"""Saleable returns: may a pack a customer sent back go into the receiver's saleable stock?

DSCSA has a wholesaler verify the product identifier of a returned pack before it resells
it. :func:`check_return` asks the chain, as the receiver: the pack is known and commissioned,
not decommissioned, its lot and expiry are those printed, it is not recalled, quarantined,
suspect, illegitimate, expired or lost, it is in transit to the receiver (the customer
shipped it back on chain) from the customer named, that customer is an authorized trading
partner (an active member with an unexpired licence), and it travels loose, not inside a
case. Each refusal has a status code and a reason in words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from web3 import Web3

from ledger_client.contracts import MemberStatus
from ledger_client.epcis import operations as op
from ledger_client.epcis.record import record
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import PackCode, parse_code
from ledger_client.ledger import Ledger, PackRef
from ledger_client.types import Receipt, VerificationStatus

__all__ = [
    "ALREADY_RECEIVED",
    "RECEIVABLE",
    "ReturnCheck",
    "check_return",
    "check_returns",
    "partner_refusal",
    "take_back",
]

S = VerificationStatus
#: The status of a pack that may be received back now.
RECEIVABLE = "RECEIVABLE"
#: The status of a pack the receiver already took back (a second submission of a return).
ALREADY_RECEIVED = "ALREADY_RECEIVED"

_NOT_SALEABLE: dict[VerificationStatus, str] = {
    S.UNKNOWN: "unknown product identifier: the GTIN's owner never commissioned this serial",
    S.PRODUCT_MISMATCH: "unknown GTIN: no member of the network owns its company prefix",
    S.LOT_MISMATCH: "lot mismatch: the printed lot is not the lot this serial was commissioned in",
    S.EXPIRY_MISMATCH: "expiry mismatch: the printed expiry differs from the lot's registered one",
    S.ILLEGITIMATE: "flagged illegitimate: quarantine it and notify the regulator",
    S.SUSPECT: "flagged suspect: quarantine it and investigate",
    S.RECALLED: "its lot is recalled",
    S.QUARANTINED: "its lot is quarantined by its owner",
    S.DECOMMISSIONED: "already decommissioned (dispensed, destroyed, ...): not saleable",
    S.EXPIRED: "expired",
    S.LOST: "reported lost in transit by its sender",
}


@dataclass(frozen=True)
class ReturnCheck:
    """The chain's answer for one returned pack: ``status`` is RECEIVABLE, ALREADY_RECEIVED,
    UNREADABLE, a refusing verification status (RECALLED, ...) or a custody refusal
    (NOT_SHIPPED, NOT_SHIPPED_TO_YOU, NOT_FROM_CUSTOMER, NOT_A_TRADING_PARTNER, INSIDE_UNIT)."""

    code: str
    status: str
    reason: str
    pack: PackRef | None = None
    lot: str | None = None
    expiry: str | None = None
    pack_id: bytes | None = None
    holder: str | None = None

    @property
    def receivable(self) -> bool:
        """True when the pack may be received back into saleable stock now."""
        return self.status == RECEIVABLE


def partner_refusal(ledger: Ledger, account: str, now: int) -> str | None:
    """Why member ``account`` is not an authorized trading partner at chain time ``now``
    (not a member, not active, licence expired), or None when it is one."""
    member = ledger.consortium.functions.member(Web3.to_checksum_address(account)).call()
    status, expiry = MemberStatus(member[3]), int(member[4])
    if status == MemberStatus.NONE:
        return "is not a member of this network"
    if status != MemberStatus.ACTIVE:
        return f"is {status.name.lower()}"
    if expiry and expiry < now:
        return "has an expired licence"
    return None


def _scan(text: str) -> PackCode:
    code = parse_code(text).code
    if not isinstance(code, PackCode):
        raise InvalidCodeError(f"{type(code).__name__} scanned: a return is checked pack by pack")
    if not code.lot or not code.expiry_yymmdd:
        raise InvalidCodeError(
            "the product identifier needs its lot (10) and expiry (17) as printed"
        )
    return code


def check_return(
    ledger: Ledger,
    text: str,
    customer: str | None,
    name: Callable[[str], str],
    now: int,
) -> ReturnCheck:
    """Check scan ``text`` of a pack returned to ``ledger``'s member by ``customer`` (None:
    whoever shipped it back) at chain time ``now``; ``name`` names a member in reasons."""
    try:
        code = _scan(text)
    except InvalidCodeError as exc:
        return ReturnCheck(text, "UNREADABLE", f"the scan could not be read: {exc}")
    v = ledger.verify(code.gtin, code.serial, code.lot, code.expiry_yymmdd)
    p = v.pack
    known = v.status not in (S.UNKNOWN, S.PRODUCT_MISMATCH)
    base = ReturnCheck(
        text,
        RECEIVABLE,
        "verified and in transit to you: receivable",
        pack=(code.gtin, code.serial),
        lot=code.lot,
        expiry=code.expiry_yymmdd,
        pack_id=v.pack_id,
        holder=p.custodian if known else None,
    )
    me = ledger.address

    def refused(status: str, reason: str) -> ReturnCheck:
        return replace(base, status=status, reason=reason)

    if v.status in _NOT_SALEABLE:
        return refused(v.status.name, _NOT_SALEABLE[v.status])
    if v.status == S.VERIFIED:
        if p.custodian == me:
            return refused(ALREADY_RECEIVED, "in your stock already: nothing to receive")
        return refused(
            "NOT_SHIPPED",
            f"held by {name(p.custodian)} and not shipped to you: it must ship it back first",
        )
    assert v.status == S.IN_TRANSIT
    if p.pending_to != me:
        return refused(
            "NOT_SHIPPED_TO_YOU",
            f"in transit from {name(p.custodian)} to {name(p.pending_to)}, not to you",
        )
    if customer is not None and p.custodian != Web3.to_checksum_address(customer):
        return refused(
            "NOT_FROM_CUSTOMER",
            f"shipped to you by {name(p.custodian)}, not by {name(customer)}",
        )
    not_atp = partner_refusal(ledger, p.custodian, now)
    if not_atp:
        return refused(
            "NOT_A_TRADING_PARTNER",
            f"its sender {name(p.custodian)} {not_atp}: not an authorized trading partner",
        )
    if p.parent:
        return refused(
            "INSIDE_UNIT", "it travels inside a case or pallet: receive that unit instead"
        )
    return base


def check_returns(
    ledger: Ledger,
    texts: Sequence[str],
    customer: str | None,
    name: Callable[[str], str],
    now: int,
) -> list[ReturnCheck]:
    """Check each scan of a return (see :func:`check_return`); raise InvalidCodeError when
    two scans name the same pack, before anything is asked."""
    checks = [check_return(ledger, text, customer, name, now) for text in texts]
    seen: set[PackRef] = set()
    for check in checks:
        if check.pack in seen:
            raise InvalidCodeError(f"the same pack is listed twice: {check.code}")
        if check.pack is not None:
            seen.add(check.pack)
    return checks


def take_back(
    ledger: Ledger, checks: Sequence[ReturnCheck], store: Path
) -> tuple[list[Receipt], bytes | None]:
    """Receive the receivable packs of ``checks`` back, in as few transactions as the batch
    size allows, anchoring the hash of their receiving event kept in the EPCIS ``store``;
    return the receipts and the event hash (none when nothing is receivable)."""
    packs = tuple(c.pack for c in checks if c.receivable and c.pack is not None)
    if not packs:
        return [], None
    event_hash = record(store, op.Receive(packs, ()))
    return ledger.receive(packs, (), event_hash), event_hash
