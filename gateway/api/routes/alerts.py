"""Alerts: list, subscribe by webhook, stream by server-sent events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from gateway.api.deps import LimitedPrincipalDep, PrincipalDep, StateDep
from gateway.api.openapi import problems
from gateway.schemas import AlertKind, AlertList, SubscriptionOut, SubscriptionRequest
from gateway.services.alerts import (
    latest_alert_id,
    latest_withdrawal_id,
    list_alerts,
    list_withdrawals,
)
from gateway.services.standing import SEE_ALL
from gateway.services.subscriptions import (
    add_subscription,
    remove_subscription,
    subscriptions_of,
)
from gateway.services.webhooks import WebhookTargetError, vetted_addresses

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
ERRORS = problems(401, 403, 429)
KINDS = "alert kinds to list (default: all): " + ", ".join(k.value for k in AlertKind)


@router.get("", response_model=AlertList, responses=ERRORS)
def alerts(
    state: StateDep,
    principal: LimitedPrincipalDep,
    days: Annotated[int | None, Query(ge=1, le=3650, description="expiry horizon in days")] = None,
    kind: Annotated[list[AlertKind] | None, Query(description=KINDS)] = None,
    holder: Annotated[
        str | None,
        Query(pattern=r"^0x[0-9a-fA-F]{40}$", description="regulators and auditors only"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AlertList:
    """Alerts for the caller: expiry of packs in its custody, recalls reaching it, suspect
    flags, and possible clones of packs it holds or owns. Regulators and auditors see every
    member's."""
    see_all = bool(principal.roles & SEE_ALL)
    if holder and not see_all:
        raise HTTPException(403, "only regulators and auditors may read another member's alerts")
    from web3 import Web3

    who = Web3.to_checksum_address(holder) if holder else principal.address
    found = list_alerts(
        state.engine, who, see_all, days or state.settings.expiry_alert_days, kind or (), 0, limit
    )
    return AlertList(alerts=found)


#: ``Last-Event-ID``: the last alert's id, and the last withdrawal's after a dash.
STREAM_POSITION = r"^\d{1,18}(-\d{1,18})?$"


@router.get(
    "/stream",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "server-sent events, one per new alert and one per withdrawal",
        },
        **ERRORS,
    },
)
async def stream(
    state: StateDep,
    principal: PrincipalDep,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", pattern=STREAM_POSITION)
    ] = None,
    timeout: Annotated[
        float, Query(gt=0, le=3600, description="seconds before the server ends the stream")
    ] = 300,
) -> StreamingResponse:
    """New alerts as server-sent events (``event: alert``), and the withdrawal of an alert
    already streamed when the block that raised it left the chain (``event: withdrawal``:
    the alert with ``withdrawn_at`` and ``withdrawn_reason`` set). Each event's id is the
    stream's position (``ALERT-WITHDRAWAL``); resume with it as ``Last-Event-ID`` (a lone
    alert id resumes the alerts and streams withdrawals from now on).

    The stream ends once the caller is no longer an active member or its token expires
    (checked every poll)."""
    alerts_seen, _, withdrawals_seen = (last_event_id or "").partition("-")
    last = latest_alert_id(state.engine) if not alerts_seen else int(alerts_seen)
    withdrawn = int(withdrawals_seen) if withdrawals_seen else latest_withdrawal_id(state.engine)

    async def events() -> AsyncIterator[str]:
        nonlocal last, withdrawn
        deadline = time.monotonic() + timeout
        yield ": rxledger alerts\n\n"
        while time.monotonic() < deadline:
            current = state.auth.recheck(principal)
            if current is None:
                return
            see_all = bool(current.roles & SEE_ALL)
            # withdrawals first: of an alert not streamed yet, the alert comes withdrawn
            for withdrawal, alert in list_withdrawals(
                state.engine, principal.address, see_all, withdrawn
            ):
                withdrawn = withdrawal
                if alert.id is not None and alert.id <= last:
                    yield _sse(f"{last}-{withdrawn}", "withdrawal", alert.model_dump_json())
            new = list_alerts(state.engine, principal.address, see_all, 1, (), last, 1000)
            for alert in sorted((a for a in new if a.id is not None), key=lambda a: a.id or 0):
                last = max(last, alert.id or 0)
                yield _sse(f"{last}-{withdrawn}", "alert", alert.model_dump_json())
            await asyncio.sleep(state.settings.index_poll_seconds)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def _sse(position: str, event: str, data: str) -> str:
    return f"id: {position}\nevent: {event}\ndata: {data}\n\n"


@router.post(
    "/subscriptions",
    response_model=SubscriptionOut,
    status_code=201,
    responses=problems(422) | ERRORS,
)
def subscribe(
    state: StateDep, principal: LimitedPrincipalDep, body: SubscriptionRequest
) -> SubscriptionOut:
    """Register a webhook: each new alert the caller may read is POSTed to it as JSON. The URL
    must name a public host: loopback, private, link-local, multicast, reserved and unspecified
    addresses (IPv4 and IPv6) are refused with 422."""
    try:
        vetted_addresses(body.url, state.settings.webhook_allow_loopback)
    except WebhookTargetError as exc:
        raise RequestValidationError(
            [{"loc": ("body", "url"), "msg": str(exc), "type": "webhook_target"}]
        ) from None
    kinds = [k.value for k in body.kinds]
    see_all = bool(principal.roles & SEE_ALL)
    return add_subscription(state.engine, body.url, kinds, principal.address, see_all)


@router.get("/subscriptions", response_model=list[SubscriptionOut], responses=ERRORS)
def subscriptions(state: StateDep, principal: PrincipalDep) -> list[SubscriptionOut]:
    """The caller's webhooks."""
    return subscriptions_of(state.engine, principal.address)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    responses=problems(404) | ERRORS,
)
def unsubscribe(state: StateDep, principal: PrincipalDep, subscription_id: int) -> None:
    """Remove one of the caller's webhooks."""
    if not remove_subscription(state.engine, subscription_id, principal.address):
        raise HTTPException(404, f"no subscription {subscription_id} of yours")
