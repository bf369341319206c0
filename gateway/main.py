"""Build the gateway's FastAPI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3 import Web3

from gateway.api.docs import serve_docs_offline
from gateway.api.limits import BodyLimits
from gateway.api.routes import (
    alerts,
    auth,
    capture,
    contents,
    dispense,
    dock,
    dsl,
    exceptions,
    health,
    history,
    lvm,
    query,
    relay,
    returns,
    sharing,
    verify,
)
from gateway.core.config import Settings
from gateway.core.logging import configure_logging, get_logger
from gateway.services.auth import AuthError
from gateway.services.dock import DockError
from gateway.services.epcis_query import QueryTooLargeError
from gateway.services.named_queries import NamedQueryExistsError
from gateway.services.relayer import RelayPolicyError, RelayRefusedError
from gateway.services.throttle import ThrottledError
from gateway.state import GatewayState
from ledger_client.epcis import InvalidEPCISError
from ledger_client.epcis.query import QueryParameterError
from ledger_client.errors import DuplicateInBatchError, InvalidCodeError
from ledger_client.explain import Refusal, explain
from ledger_client.relay import ForwardRequestError
from ledger_client.reverts import LedgerRevertError

WEB = Path(__file__).resolve().parent / "web"
log = get_logger("rxledger.gateway")


def _problem(status: int, title: str, detail: str, **extra: object) -> dict[str, object]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def _args(exc: Refusal) -> dict[str, object]:
    return {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in exc.args_by_name.items()}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        title = "Unauthorized" if exc.status == 401 else "Forbidden"
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(_problem(exc.status, title, exc.message), exc.status, headers=headers)

    @app.exception_handler(ThrottledError)
    async def throttled(_: Request, exc: ThrottledError) -> JSONResponse:
        return JSONResponse(
            _problem(429, "Too Many Requests", exc.message, retry_after=exc.retry_after),
            429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(DockError)
    async def dock_error(_: Request, exc: DockError) -> JSONResponse:
        return JSONResponse(_problem(exc.status, exc.title, str(exc), **exc.extra), exc.status)

    @app.exception_handler(InvalidEPCISError)
    async def invalid_epcis(_: Request, exc: InvalidEPCISError) -> JSONResponse:
        warnings = [w.to_dict() for w in exc.warnings]
        body = _problem(400, "Invalid EPCIS document", str(exc), errors=exc.errors)
        return JSONResponse({**body, "warnings": warnings} if warnings else body, 400)

    @app.exception_handler(QueryParameterError)
    async def query_parameter(_: Request, exc: QueryParameterError) -> JSONResponse:
        body = _problem(400, "EPCIS query exception", str(exc), parameter=exc.parameter)
        return JSONResponse({**body, "type": "epcisException:QueryParameterException"}, 400)

    @app.exception_handler(QueryTooLargeError)
    async def query_too_large(_: Request, exc: QueryTooLargeError) -> JSONResponse:
        body = _problem(413, "EPCIS query result too large", str(exc))
        return JSONResponse({**body, "type": "epcisException:QueryTooLargeException"}, 413)

    @app.exception_handler(NamedQueryExistsError)
    async def query_exists(_: Request, exc: NamedQueryExistsError) -> JSONResponse:
        body = _problem(409, "Conflict", str(exc))
        return JSONResponse({**body, "type": "epcisException:ResourceAlreadyExistsException"}, 409)

    @app.exception_handler(InvalidCodeError)
    async def invalid_code(_: Request, exc: InvalidCodeError) -> JSONResponse:
        return JSONResponse(_problem(400, "Invalid code", str(exc)), 400)

    @app.exception_handler(LedgerRevertError)
    @app.exception_handler(DuplicateInBatchError)
    async def reverted(request: Request, exc: Refusal) -> JSONResponse:
        detail = explain(exc, members=request.app.state.rx.names)
        return JSONResponse(
            _problem(409, "Refused by the ledger", detail, error=exc.error, args=_args(exc)), 409
        )

    @app.exception_handler(RelayRefusedError)
    async def relay_refused(_: Request, exc: RelayRefusedError) -> JSONResponse:
        return JSONResponse(
            _problem(
                400, "Refused by the forwarder", explain(exc), error=exc.error, args=_args(exc)
            ),
            400,
        )

    @app.exception_handler(RelayPolicyError)
    async def relay_policy(_: Request, exc: RelayPolicyError) -> JSONResponse:
        return JSONResponse(_problem(400, "Refused by this gateway", str(exc)), 400)

    @app.exception_handler(ForwardRequestError)
    async def bad_forward_request(_: Request, exc: ForwardRequestError) -> JSONResponse:
        return JSONResponse(_problem(400, "Invalid forward request", str(exc)), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase
        detail = str(exc.detail)
        if detail == title:  # the framework's own 404/405: say what was asked and where to look
            detail = f"{request.method} {request.url.path}: {title.lower()} (the API is at /docs)"
        return JSONResponse(
            _problem(exc.status_code, title, detail), exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in exc.errors()
        ]
        return JSONResponse(
            _problem(422, "Invalid request", "the request does not match the API", errors=errors),
            422,
        )


def create_app(settings: Settings | None = None, w3: Web3 | None = None) -> FastAPI:
    """Return the gateway app for ``settings`` (env ``RXLEDGER_*`` by default).

    ``w3`` lets tests share an in-process chain; otherwise ``settings.chain_url`` is used.
    """
    settings = settings or Settings()  # type: ignore[call-arg]
    configure_logging(settings.json_logs)
    registry = _metrics_registry()
    state = GatewayState.build(settings, w3, registry)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.start()
        # Start-up objects (web3, ABIs, biip tables, SQLAlchemy metadata) live for the whole
        # process: keep them out of the collector's full passes, which otherwise stall requests.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 1000)
        log.info(
            "gateway started",
            chain=settings.chain_url,
            environment=settings.environment,
            operator=state.auth.operator,
            confirmation_depth=settings.confirmation_depth,
        )
        try:
            yield
        finally:
            state.stop()

    app = FastAPI(
        title="RxLedger gateway",
        version="0.1.0",
        description=(
            "Verify medicine packs, capture EPCIS events, read custody histories and alerts."
        ),
        lifespan=lifespan,
        # Starlette's slash redirects write their Location from the Host header.
        redirect_slashes=False,
    )
    app.state.rx = state
    _install_error_handlers(app)
    modules = (
        verify, lvm, dsl, dispense, returns, dock, contents, exceptions, capture, query, sharing,
        relay, history, alerts, auth, health,
    )  # fmt: skip
    for module in modules:
        app.include_router(module.router)
    serve_docs_offline(app)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html")

    @app.get("/dock", include_in_schema=False)
    def dock_page() -> FileResponse:
        return FileResponse(WEB / "dock.html")

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    app.add_middleware(
        BodyLimits,
        max_bytes=settings.max_body_bytes,
        max_depth=settings.max_nesting_depth,
        path_bytes={capture.router.prefix: settings.max_capture_bytes},
    )
    Instrumentator(
        should_group_untemplated=True, excluded_handlers=["/metrics"], registry=registry
    ).instrument(app).expose(app, include_in_schema=False)
    return app


def _metrics_registry() -> CollectorRegistry:
    """A registry per app (not the process-global one), with the process and GC collectors."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory gateway.main:app_from_env``."""
    return create_app(Settings())  # type: ignore[call-arg]
