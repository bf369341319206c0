"""Bound every request body before any route or parser sees it: size, then nesting depth.

The middleware reads the whole body first, refusing it with 413 as soon as its declared
``Content-Length`` or the bytes received exceed its path's limit, then refuses a body
whose JSON or XML nests too deep with 400, and only then hands it on. Every body is
scanned whatever its content type says (JSON unless it starts with ``<``): the relay
endpoint parses any body as JSON, and a lying content type must not reach a parser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger_client.nesting import NestingTooDeepError, check_nesting

#: Bodies larger than this are scanned in a worker thread, off the event loop.
SCAN_IN_THREAD_BYTES = 64 * 1024


class BodyLimits:
    """ASGI middleware: at most ``max_bytes`` per body (``path_bytes`` overrides it for a
    path prefix and what lies below it), nested at most ``max_depth`` levels."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_depth: int,
        path_bytes: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.path_bytes = dict(path_bytes or {})

    def limit_for(self, path: str) -> int:
        """The body size limit of ``path``."""
        for prefix, limit in self.path_bytes.items():
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            if size > SCAN_IN_THREAD_BYTES:
                await run_in_threadpool(check_nesting, body, self.max_depth)
            elif body:
                check_nesting(body, self.max_depth)
        except NestingTooDeepError as exc:
            await _problem(send, 400, "Nesting too deep", str(exc), exc.limit)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields ``body`` once, then defers to ``receive``."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(send: Send, limit: int) -> None:
    detail = f"the request body is larger than {limit} bytes, the limit for this endpoint"
    await _problem(send, 413, "Content too large", detail, limit)


async def _problem(send: Send, status: int, title: str, detail: str, limit: int) -> None:
    """Send an RFC 7807 problem like the gateway's other errors, naming the limit."""
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, "limit": limit}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
