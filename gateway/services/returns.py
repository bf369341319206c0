"""Saleable returns at the operator's dock: verify each returned pack on chain, receive those
that pass in the same call, quarantine the rest (the ``returns_quarantine`` table)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.schemas import QuarantinedPack, ReturnItem, ReturnResult
from gateway.services.readmodel import ReadModel
from gateway.state import GatewayState
from ledger_client.errors import InvalidInputError
from ledger_client.explain import code_map
from ledger_client.returns import (
    ALREADY_RECEIVED,
    ReturnCheck,
    check_returns,
    take_back,
)
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import Receipt

#: Statuses that say nothing about the pack (an unreadable scan): nothing to hold apart.
_NOTHING_TO_HOLD = frozenset({"UNREADABLE"})


def customer_address(readmodel: ReadModel, customer: str | None) -> str | None:
    """The member address ``customer`` names (an address or a 13-digit GLN); raise
    InvalidInputError when it names no member."""
    if customer is None:
        return None
    for member in readmodel.members():
        if customer.lower() in (member.address.lower(), member.gln):
            return member.address
    raise InvalidInputError(f"customer {customer} is not a member of this network")


def process_return(
    state: GatewayState, codes: Sequence[str], customer: str | None, receive: bool
) -> ReturnResult:
    """Verify the returned packs ``codes`` as the operator and, when ``receive``, receive the
    ones that pass and quarantine the others. The checks and the receipt run under the
    operator lock, so a second submission of the same return finds them received."""
    operator = state.chain.operator
    assert operator is not None
    sender = customer_address(state.readmodel, customer)

    def name(address: str) -> str:
        return state.names.get(address, address)

    with state.oplock.hold():
        block = int(state.chain.w3.eth.block_number)
        checks = check_returns(operator, codes, sender, name, int(state.chain.now()))
        receipts: list[Receipt] = []
        event_hash: bytes | None = None
        if receive:
            try:
                receipts, event_hash = take_back(operator, checks, state.settings.epcis_store_path)
            except LedgerRevertError as exc:
                packs = [c.pack for c in checks if c.pack is not None]
                exc.codes = code_map(packs=packs, owners=operator.owners)
                raise
            hold_apart(state.engine, checks, time.time())
    items = [_item(c, receive, name) for c in checks]
    return ReturnResult(
        items=items,
        received=sum(i.outcome == "received" for i in items),
        quarantined=sum(i.outcome == "quarantined" for i in items),
        tx_hashes=["0x" + r.tx_hash.hex() for r in receipts],
        block_number=max((r.block_number for r in receipts), default=None),
        event_hash="0x" + event_hash.hex() if event_hash else None,
        checked_at_block=block,
    )


def _item(check: ReturnCheck, received: bool, name: Callable[[str], str]) -> ReturnItem:
    outcome: Literal["received", "already_received", "quarantined", "none"]
    if not received:
        outcome = "none"
    elif check.receivable:
        outcome = "received"
    elif check.status == ALREADY_RECEIVED:
        outcome = "already_received"
    elif check.status in _NOTHING_TO_HOLD:
        outcome = "none"
    else:
        outcome = "quarantined"
    gtin, serial = check.pack if check.pack else (None, None)
    return ReturnItem(
        code=check.code,
        gtin=gtin,
        serial=serial,
        lot=check.lot,
        expiry=check.expiry,
        status=check.status,
        saleable=check.receivable or check.status == ALREADY_RECEIVED,
        outcome=outcome,
        reason=check.reason,
        holder=check.holder,
        holder_name=name(check.holder) if check.holder else None,
    )


def hold_apart(engine: Engine, checks: Sequence[ReturnCheck], now: float) -> None:
    """Record each refused pack of ``checks`` in quarantine (once per pack: a resubmission
    updates its reasons and count) and release the ones received back."""
    with Session(engine) as session, session.begin():
        released = [c.pack_id for c in checks if c.receivable and c.pack_id]
        if released:
            session.execute(
                delete(m.QuarantinedReturn).where(m.QuarantinedReturn.pack_id.in_(released))
            )
        for check in checks:
            if check.receivable or check.status == ALREADY_RECEIVED:
                continue
            if check.pack is None or check.pack_id is None or check.status in _NOTHING_TO_HOLD:
                continue
            row = session.get(m.QuarantinedReturn, check.pack_id)
            if row is None:
                session.add(
                    m.QuarantinedReturn(
                        pack_id=check.pack_id,
                        code=check.code,
                        gtin=check.pack[0],
                        serial=check.pack[1],
                        status=check.status,
                        reasons=[check.reason],
                        holder=check.holder,
                        first_at=now,
                        last_at=now,
                        submissions=1,
                    )
                )
            else:
                row.code, row.status, row.reasons = check.code, check.status, [check.reason]
                row.holder, row.last_at = check.holder, now
                row.submissions += 1


def quarantined(engine: Engine, limit: int) -> list[QuarantinedPack]:
    """The quarantined returns, most recently refused first."""
    with Session(engine) as session:
        rows = session.scalars(
            select(m.QuarantinedReturn).order_by(m.QuarantinedReturn.last_at.desc()).limit(limit)
        )
        return [QuarantinedPack.model_validate(r, from_attributes=True) for r in rows]
