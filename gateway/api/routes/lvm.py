"""GS1 Lightweight Verification Messaging-style verification for trading partners (DSCSA)."""

from __future__ import annotations

import datetime as dt
import time

from fastapi import APIRouter

from gateway.api.deps import LimitedPrincipalDep, StateDep
from gateway.api.routes.verify import ERRORS, record
from gateway.schemas import LvmData, LvmLookup, LvmRequest, LvmResponse, VerifyResult
from gateway.services.lookup import atp_refusal, lookup, requester
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import PackCode, to_element_string

router = APIRouter(prefix="/v1/lvm", tags=["lvm"])

#: VerificationStatus -> (verified, verificationFailureReason, additionalInfo)
LVM = {
    "VERIFIED": (True, None, None),
    "IN_TRANSIT": (True, None, None),
    "EXPIRED": (True, None, "Expired"),
    "RECALLED": (True, None, "Recalled"),
    "QUARANTINED": (True, None, "Quarantined"),
    "SUSPECT": (True, None, "Suspect"),
    "ILLEGITIMATE": (True, None, "Illegitimate"),
    "DECOMMISSIONED": (True, None, "Decommissioned"),
    "LOST": (True, None, "Lost"),
    "UNKNOWN": (False, "No_match_GTIN_Serial", None),
    "PRODUCT_MISMATCH": (False, "No_match_GTIN_Serial", "Illegitimate"),
    "LOT_MISMATCH": (False, "No_match_Lot", None),
    "EXPIRY_MISMATCH": (False, "No_match_Expiry", None),
    "UNREADABLE": (False, "Invalid_request", None),
}


def lvm_of(
    result: VerifyResult,
    corr_uuid: str | None,
    responder_gln: str | None,
    not_atp: str | None = None,
    found: LvmLookup | None = None,
) -> LvmResponse:
    """Translate a verification into an LVM response; ``not_atp`` says why the requestor is
    not an authorized trading partner (None: it is one), ``found`` who answers for the GTIN."""
    verified, failure, info = LVM[result.status]
    return LvmResponse(
        corrUUID=corr_uuid,
        verificationTimestamp=dt.datetime.now(tz=dt.UTC).isoformat().replace("+00:00", "Z"),
        responderGLN=responder_gln,
        data=LvmData(verified=verified, verificationFailureReason=failure, additionalInfo=info),
        status=result.status,
        requestorATP=not_atp is None,
        requestorATPReason=not_atp,
        lookup=found,
    )


@router.post("/verify", response_model=LvmResponse, response_model_by_alias=True, responses=ERRORS)
def lvm_verify(state: StateDep, principal: LimitedPrincipalDep, body: LvmRequest) -> LvmResponse:
    """Verify a product identifier (GTIN, serial, lot, expiry) as a DSCSA VRS responder would.

    ``verified`` says whether the product identifier matches one the manufacturer
    commissioned; ``additionalInfo`` then says why it should still not be sold.
    ``requestorATP`` says whether the requestor (``requestorGLN``, else the caller) is an
    authorized trading partner on chain; ``lookup`` who answers for the GTIN: its directory
    entry, else the member its company prefix is assigned to.
    """
    not_atp = atp_refusal(requester(state.readmodel, principal.address, body.requestor_gln))
    try:
        code = PackCode(
            body.gtin.zfill(14),
            body.serial_number,
            body.lot_number,
            expiry_yymmdd=body.expiration_date,
        )
        text = to_element_string(code)
    except (InvalidCodeError, ValueError) as exc:
        text = f"(01){body.gtin}(21){body.serial_number}"
        result = state.verifier._unreadable(text, str(exc), time.time())
        return lvm_of(result, body.corr_uuid, None, not_atp)
    result, pack, pid = state.verifier.verify(text)
    record(state, principal, result, pack, pid)
    operator = state.settings.operator
    member = state.readmodel.member(operator.address) if operator else None
    found = lookup(state.readmodel, state.chain, code.gtin)
    return lvm_of(result, body.corr_uuid, member.gln if member else None, not_atp, found)
