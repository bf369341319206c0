"""The GS1 Digital Link resolver: /01/{gtin}/21/{serial}?10=lot&17=expiry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from gateway.api.deps import StateDep, client_ip, take_rate
from gateway.api.routes.verify import ERRORS, record
from gateway.schemas import Problem

router = APIRouter(tags=["digital link"])
VERIFICATION = {
    "gs1:verificationService",
    "verificationService",
    "https://gs1.org/voc/verificationService",
}


@router.get(
    "/01/{gtin}/21/{serial}",
    responses={
        200: {"description": "verification result or product information"},
        307: {"description": "redirect to the product's gateway"},
        400: {"model": Problem},
        **ERRORS,
    },
)
def resolve(
    request: Request,
    state: StateDep,
    gtin: str,
    serial: str,
    lot: Annotated[str | None, Query(alias="10", max_length=20)] = None,
    expiry: Annotated[str | None, Query(alias="17", max_length=6)] = None,
    link_type: Annotated[str | None, Query(alias="linkType", max_length=200)] = None,
) -> Response:
    """Resolve a GS1 Digital Link. ``linkType=gs1:verificationService`` answers the verification
    (authenticated); otherwise the product's information, or a redirect to its owner's gateway."""
    path = f"https://id.gs1.org/01/{gtin}/21/{serial}"
    query = "&".join(f"{k}={v}" for k, v in (("10", lot), ("17", expiry)) if v)
    text = path + ("?" + query if query else "")
    if link_type in VERIFICATION:
        credential = request.headers.get("authorization")
        principal = take_rate(state, state.auth.authenticate(credential, client_ip(request)))
        result, pack, pid = state.verifier.verify(text)
        record(state, principal, result, pack, pid)
        return Response(result.model_dump_json(), media_type="application/json")
    if link_type not in (None, "all", "gs1:pip", "pip"):
        return JSONResponse(
            {"title": "Not Found", "status": 404, "detail": f"no link of type {link_type}"}, 404
        )
    state.readmodel.refresh(state.readmodel.indexed_block())
    product = state.readmodel.product(gtin)
    if product is None:
        return JSONResponse(
            {
                "title": "Not Found",
                "status": 404,
                "detail": f"GTIN {gtin} is not in the product directory",
            },
            404,
        )
    own = state.settings.public_url.rstrip("/")
    if (
        link_type is None
        and product.gateway_url
        and not product.gateway_url.rstrip("/").startswith(own)
    ):
        return RedirectResponse(
            product.gateway_url.rstrip("/")
            + request.url.path
            + ("?" + request.url.query if request.url.query else ""),
            307,
        )
    return JSONResponse(
        {
            "gtin": gtin,
            "serial": serial,
            "product": {
                "name": product.name,
                "strength": product.strength,
                "dosage_form": product.dosage_form,
                "ndc": product.ndc,
                "owner": product.owner,
            },
            "links": {
                "gs1:verificationService": str(
                    request.url.include_query_params(linkType="gs1:verificationService")
                ),
                "gs1:pip": product.gateway_url or None,
            },
        }
    )
