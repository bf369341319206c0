"""EPCIS 2.0 query interface (REST binding, root ``/v1``): events, events of an EPC, event
types, named queries. Each answer holds only the events the caller may read."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import LimitedPrincipalDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import EventTypeCollection, NamedQueryIn
from gateway.services.auth import Principal
from gateway.services.epcis_query import QueryPage, query_document
from gateway.services.named_queries import as_definition, definition_params, run_params
from gateway.state import GatewayState
from ledger_client.epcis.hashing import GS1_CONTEXT
from ledger_client.epcis.query import EVENT_TYPES, LIST_PARAMETERS, SUPPORTED, parse_query

router = APIRouter(prefix="/v1", tags=["epcis query"])
ERRORS = problems(400, 401, 403, 413, 429)
QUERY_NAME = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
_INTEGERS = ("perPage", "eventCountLimit", "maxEventCount")
_TIMES = ("eventTime", "recordTime", "errorDeclarationTime")


def _parameter(name: str) -> dict[str, Any]:
    """The OpenAPI description of query parameter ``name``."""
    schema: dict[str, Any] = {"type": "string"}
    style: dict[str, Any] = {}
    if name in LIST_PARAMETERS:
        schema = {"type": "array", "minItems": 1, "items": {"type": "string"}}
        style = {"style": "pipeDelimited", "explode": False}
    elif name in _INTEGERS:
        schema = {"type": "integer", "minimum": 1}
    elif name == "EXISTS_errorDeclaration":
        schema = {"type": "boolean"}
    elif name.endswith(_TIMES):
        schema = {"type": "string", "format": "date-time"}
    elif name == "orderBy":
        schema = {"type": "string", "enum": ["eventTime", "recordTime"]}
    elif name == "orderDirection":
        schema = {"type": "string", "enum": ["ASC", "DESC"]}
    return {"name": name, "in": "query", "required": False, "schema": schema, **style}


QUERY_PARAMETERS = {"parameters": [_parameter(n) for n in sorted(SUPPORTED)]}
PAGING_PARAMETERS = {"parameters": [_parameter(n) for n in ("perPage", "nextPageToken")]}
QUERY_DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "an EPCISQueryDocument; a Link header (rel=next) names the next page",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


def _answer(
    state: GatewayState, page: QueryPage, path: str, params: dict[str, list[str]], name: str
) -> JSONResponse:
    headers = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
    if page.next_token is not None:
        following = {k: "|".join(v) for k, v in params.items() if k != "nextPageToken"}
        following["nextPageToken"] = page.next_token
        url = f"{state.settings.public_url.rstrip('/')}{path}?{urlencode(following)}"
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse(query_document(page.events, name), headers=headers)


async def _run(
    state: GatewayState,
    principal: Principal,
    params: dict[str, list[str]],
    items: list[str] | None = None,
) -> QueryPage:
    query = parse_query(params)
    return await run_in_threadpool(state.queries.run, query, principal, items)


@router.get("/events", responses={**QUERY_DOCUMENT, **ERRORS}, openapi_extra=QUERY_PARAMETERS)
async def events(state: StateDep, principal: LimitedPrincipalDep, request: Request) -> Response:
    """EPCIS events of this gateway's store that meet the query parameters and that the caller
    may read: its own custody (packs and units it holds or held, while it held them), or
    everything for the operator and regulators."""
    params = _params(request)
    page = await _run(state, principal, params)
    return _answer(state, page, "/v1/events", params, "SimpleEventQuery")


@router.get(
    "/epcs/{epc:path}/events",
    responses={**QUERY_DOCUMENT, **ERRORS},
    openapi_extra=QUERY_PARAMETERS,
)
async def epc_events(
    state: StateDep,
    principal: LimitedPrincipalDep,
    request: Request,
    epc: Annotated[str, Path(min_length=1, max_length=512)],
) -> Response:
    """The events naming ``epc`` (EPC URN or GS1 Digital Link, percent-encoded) anywhere
    (MATCH_anyEPC), with the other query parameters; 403 unless the caller holds or held it."""
    params = _params(request)
    if "MATCH_anyEPC" in params:
        params["MATCH_anyEPC"] = [f"{'|'.join(params['MATCH_anyEPC'])}|{epc}"]
    else:
        params["MATCH_anyEPC"] = [epc]
    page = await _run(state, principal, params, [epc])
    path = f"/v1/epcs/{quote(epc, safe='')}/events"
    return _answer(state, page, path, _params(request), "SimpleEventQuery")


@router.get("/eventTypes", response_model=EventTypeCollection, responses=problems(401, 403, 429))
def event_types(principal: LimitedPrincipalDep) -> EventTypeCollection:
    """The event types this repository answers: the five standard EPCIS 2.0 types."""
    return EventTypeCollection.model_validate({"@context": GS1_CONTEXT, "member": EVENT_TYPES})


@router.get("/queries", responses=problems(401, 403, 429))
def list_queries(state: StateDep, principal: LimitedPrincipalDep) -> list[dict[str, Any]]:
    """The caller's named queries (every one for the operator)."""
    return [
        {"name": q.name, "query": as_definition(q.query)}
        for q in state.named_queries.all(principal)
    ]


@router.post(
    "/queries",
    status_code=201,
    responses={201: {"description": "created"}, **problems(409), **ERRORS},
)
def create_query(state: StateDep, principal: LimitedPrincipalDep, body: NamedQueryIn) -> Response:
    """Save a named query; its results are at the ``Location`` URL."""
    definition_params(body.query)
    state.named_queries.create(body.name, body.query, principal)
    return Response(status_code=201, headers={"Location": f"/v1/queries/{body.name}/events"})


@router.get("/queries/{queryName}", responses=problems(401, 403, 404, 429))
def get_query(
    state: StateDep,
    principal: LimitedPrincipalDep,
    queryName: QUERY_NAME,  # noqa: N803
) -> dict[str, Any]:
    """A named query's definition."""
    found = state.named_queries.get(queryName, principal)
    if found is None:
        raise HTTPException(404, f"no query named {queryName!r}")
    return {"name": found.name, "query": as_definition(found.query)}


@router.delete("/queries/{queryName}", status_code=204, responses=problems(401, 403, 404, 429))
def delete_query(
    state: StateDep,
    principal: LimitedPrincipalDep,
    queryName: QUERY_NAME,  # noqa: N803
) -> Response:
    """Delete a named query."""
    if not state.named_queries.delete(queryName, principal):
        raise HTTPException(404, f"no query named {queryName!r}")
    return Response(status_code=204)


@router.get(
    "/queries/{queryName}/events",
    responses={**QUERY_DOCUMENT, **problems(404), **ERRORS},
    openapi_extra=PAGING_PARAMETERS,
)
async def query_events(
    state: StateDep,
    principal: LimitedPrincipalDep,
    request: Request,
    queryName: QUERY_NAME,  # noqa: N803
) -> Response:
    """A named query's results, a page at a time."""
    found = await run_in_threadpool(state.named_queries.get, queryName, principal)
    if found is None:
        raise HTTPException(404, f"no query named {queryName!r}")
    given = _params(request)
    page = await _run(state, principal, run_params(found.query, given))
    return _answer(state, page, f"/v1/queries/{queryName}/events", given, queryName)
