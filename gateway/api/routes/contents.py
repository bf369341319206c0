"""What the chain says is inside a case or pallet: ``GET /v1/contents``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy.orm import Session

from gateway.api.deps import LimitedPrincipalDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import Contents, ContentsNode
from gateway.services.contents import (
    Item,
    NotOnChainError,
    custody,
    find,
    known_codes,
    parents,
    require_view,
    scanned_item,
)

router = APIRouter(prefix="/v1/contents", tags=["contents"])


def node(item: Item, codes: dict[bytes, str], deep: bool = True) -> ContentsNode:
    """The API form of ``item`` (with its contents if ``deep``)."""
    return ContentsNode(
        id="0x" + item.id.hex(),
        kind=item.kind,  # type: ignore[arg-type]
        level=item.level,
        code=codes.get(item.id),
        status=item.status_name,
        packs=item.pack_count() if deep else None,
        children=[node(c, codes) for c in item.children] if deep else [],
    )


@router.get("", response_model=Contents, responses=problems(400, 401, 403, 404, 429))
def contents(
    state: StateDep,
    principal: LimitedPrincipalDep,
    code: Annotated[
        str, Query(min_length=1, max_length=512, description="an SSCC or a pack, any GS1 form")
    ],
) -> Contents:
    """A case's or pallet's contents on chain, level by level (packs and inner units, with
    their status), and its custody; for a pack, the units it sits in. For its holder, the
    member it is in transit to, and regulators."""
    block = state.readmodel.indexed_block()
    state.readmodel.refresh(block)
    item_id, is_pack, clear = scanned_item(code, state.readmodel.owners)
    with Session(state.engine) as conn:
        try:
            item = find(conn, item_id, is_pack, clear)
        except NotOnChainError as exc:
            raise HTTPException(404, str(exc)) from None
        where = custody(conn, item)
        require_view(principal, where, clear, state.name_of)
        inside = parents(conn, item)
        ids = {i.id for i in item.walk()} | {i.id for i in inside}
        codes = known_codes(conn, state.settings.epcis_store_path, state.readmodel.owners, ids)
    codes[item_id] = clear
    return Contents(
        code=code,
        item=node(item, codes),
        inside=[node(i, codes, deep=False) for i in inside],
        custodian=where.custodian,
        custodian_name=state.name_of(where.custodian),
        in_transit=where.in_transit,
        lost=where.lost,
        pending_to=where.pending_to,
        pending_to_name=state.name_of(where.pending_to),
        as_of_block=block,
    )
