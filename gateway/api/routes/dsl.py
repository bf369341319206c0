"""The GS1 Digital Link resolver: ``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]?17=YYMMDD``.

Every link it writes starts with ``settings.public_url``; the Host header of a request never
reaches an answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from gateway.api.deps import StateDep, client_ip, take_rate
from gateway.api.routes.verify import ERRORS, record
from gateway.schemas import Problem
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import (
    DigitalLinkKey,
    PackCode,
    expiry_to_date,
    parse_digital_link_path,
    to_digital_link,
)

router = APIRouter(tags=["digital link"])
VERIFICATION = {
    "gs1:verificationService",
    "verificationService",
    "https://gs1.org/voc/verificationService",
}
PRODUCT_INFO = (None, "all", "gs1:pip", "pip")


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(Problem(title=title, status=status, detail=detail).model_dump(), status)


def read_link(
    request: Request, lot: str | None, expiry: str | None
) -> tuple[DigitalLinkKey, PackCode | None]:
    """Return the key of the requested link and, when it names a pack, the pack's code.

    The key is read from the raw path, so that each value is percent-decoded on its own; a
    lot given the pre-1.0 way, ``?10=``, joins it.
    """
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    try:
        path = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidCodeError(
            "the Digital Link path has characters that are not percent-encoded"
        ) from None
    key = parse_digital_link_path(path)
    if lot is not None:
        if key.lot not in (None, lot):
            raise InvalidCodeError(f"lot (10) is {key.lot!r} in the path but {lot!r} in the query")
        key = replace(key, lot=lot)
    if key.serial is None:
        if expiry is not None:
            expiry_to_date(expiry)
        return key, None
    return key, PackCode(key.gtin, key.serial, key.lot, expiry_yymmdd=expiry)


@router.get(
    "/01/{key_path:path}",
    responses={
        200: {"description": "verification result or product information"},
        307: {"description": "redirect to the product's gateway"},
        400: {"model": Problem, "description": "not a valid GTIN Digital Link"},
        404: {"model": Problem, "description": "GTIN not in the directory, or no such link"},
        **ERRORS,
    },
)
def resolve(
    request: Request,
    state: StateDep,
    key_path: Annotated[
        str,
        Path(description="{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}], each value encoded"),
    ],
    lot: Annotated[str | None, Query(alias="10", description="lot, pre-1.0 form")] = None,
    expiry: Annotated[str | None, Query(alias="17", description="expiry, YYMMDD")] = None,
    link_type: Annotated[str | None, Query(alias="linkType", max_length=200)] = None,
) -> Response:
    """Resolve a GS1 Digital Link. ``linkType=gs1:verificationService`` answers the verification
    (authenticated; needs a serial); otherwise the product's information, or a redirect to its
    owner's gateway. A GTIN-8, -12 or -13 is padded to 14 digits."""
    try:
        key, code = read_link(request, lot, expiry)
    except InvalidCodeError as exc:
        return _problem(400, "Invalid Digital Link", str(exc))
    own = state.settings.public_url.rstrip("/")
    if link_type in VERIFICATION:
        if code is None:
            return _problem(
                400,
                "Invalid Digital Link",
                "verification needs a serial number: /01/{gtin}[/10/{lot}]/21/{serial}",
            )
        credential = request.headers.get("authorization")
        principal = take_rate(state, state.auth.authenticate(credential, client_ip(request)))
        result, pack, pid = state.verifier.verify(to_digital_link(code, own))
        record(state, principal, result, pack, pid)
        return Response(result.model_dump_json(), media_type="application/json")
    if link_type not in PRODUCT_INFO:
        return _problem(404, "Not Found", f"no link of type {link_type} for GTIN {key.gtin}")
    state.readmodel.refresh(state.readmodel.indexed_block())
    product = state.readmodel.product(key.gtin)
    if product is None:
        return _problem(404, "Not Found", f"GTIN {key.gtin} is not in the product directory")
    elsewhere = product.gateway_url.rstrip("/")
    if link_type is None and elsewhere and elsewhere != own:
        query = request.scope["query_string"].decode("latin-1")
        return RedirectResponse(elsewhere + key.path + ("?" + query if query else ""), 307)
    verification = [*([("17", expiry)] if expiry else []), ("linkType", "gs1:verificationService")]
    return JSONResponse(
        {
            "gtin": key.gtin,
            "cpv": key.cpv,
            "lot": key.lot,
            "serial": key.serial,
            "product": {
                "name": product.name,
                "strength": product.strength,
                "dosage_form": product.dosage_form,
                "ndc": product.ndc,
                "owner": product.owner,
            },
            "links": {
                "gs1:verificationService": (
                    f"{own}{key.path}?{urlencode(verification)}" if key.serial else None
                ),
                "gs1:pip": product.gateway_url or None,
            },
        }
    )
