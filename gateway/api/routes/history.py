"""Custody histories of packs and lots, from the index."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from gateway.api.deps import LimitedPrincipalDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import LotHistory, PackHistory
from gateway.services.history import lot_history, lot_row, pack_history
from gateway.services.verify import parse_pack
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import PackCode
from ledger_client.ids import check_lot, pack_id
from ledger_client.types import LotStatus

router = APIRouter(prefix="/v1/history", tags=["history"])
ERRORS = problems(400, 401, 403, 429)


@router.get("/pack", response_model=PackHistory, responses=ERRORS)
def pack(
    state: StateDep,
    principal: LimitedPrincipalDep,
    code: Annotated[str, Query(min_length=1, max_length=512)],
) -> PackHistory:
    """A pack's full custody chain: every event on it, its lot, and the units it travelled in."""
    try:
        scan = parse_pack(code)
    except InvalidCodeError as exc:
        raise HTTPException(400, str(exc)) from None
    c = scan.code
    assert isinstance(c, PackCode)
    state.readmodel.refresh(state.readmodel.indexed_block())
    # the printed code's record is its prefix owner's (index 0, none, names no record)
    pid = pack_id(c.gtin, c.serial, owner=state.readmodel.owners.index(c.gtin))
    record = state.readmodel.pack(pid)
    steps = pack_history(state.engine, pid, record.lot_id if record else None, state.name_of)
    return PackHistory(
        gtin=c.gtin,
        serial=c.serial,
        pack_id="0x" + pid.hex(),
        current=state.verifier._pack_facts(pid, record),
        steps=steps,
    )


@router.get("/lot/{gtin}/{lot}", response_model=LotHistory, responses=ERRORS)
def lot(
    state: StateDep,
    principal: LimitedPrincipalDep,
    gtin: Annotated[str, Path(min_length=14, max_length=14)],
    lot: Annotated[str, Path(min_length=1, max_length=20)],
) -> LotHistory:
    """A lot's events (registration, commissioning, status changes) and who holds its packs."""
    state.readmodel.refresh(state.readmodel.indexed_block())
    try:
        lid = state.readmodel.owners.lookup_lot_id(gtin, check_lot(lot))
    except InvalidCodeError as exc:
        raise HTTPException(400, str(exc)) from None
    row = lot_row(state.engine, lid)
    steps, count, holders = lot_history(state.engine, lid, state.name_of)
    return LotHistory(
        gtin=gtin,
        lot=lot,
        lot_id="0x" + lid.hex(),
        status=LotStatus(row.status).name if row else None,
        expiry=f"{row.expiry:06d}" if row else None,
        owner=row.owner if row else None,
        pack_count=count,
        holders=holders,
        steps=steps,
    )
