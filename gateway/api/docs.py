"""The API's documentation pages, served with no network: Swagger UI at ``/docs`` and ReDoc at
``/redoc``, their scripts, styles and icon from the ``fastapi-offline`` package instead of the
CDNs FastAPI's own pages load them from."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

ASSETS = "/docs-assets"
_FILES = str(resources.files("fastapi_offline") / "static")


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def serve_docs_offline(app: FastAPI) -> None:
    """Replace ``app``'s ``/docs`` and ``/redoc`` with pages whose assets the gateway serves."""
    docs, redoc, openapi = app.docs_url, app.redoc_url, app.openapi_url
    if openapi is None:
        return
    app.router.routes[:] = [
        r for r in app.router.routes if not (isinstance(r, Route) and r.path in (docs, redoc))
    ]
    app.mount(ASSETS, StaticFiles(directory=_FILES), name="docs-assets")
    if docs is not None:

        @app.get(docs, include_in_schema=False)
        def swagger_ui(request: Request) -> HTMLResponse:
            root = _root(request)
            return get_swagger_ui_html(
                openapi_url=root + openapi,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
                oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )

    if redoc is not None:

        @app.get(redoc, include_in_schema=False)
        def redoc_page(request: Request) -> HTMLResponse:
            root = _root(request)
            return get_redoc_html(
                openapi_url=root + openapi,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
