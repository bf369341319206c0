"""A member's client of another partner's gateway: Sign-In with Ethereum with the member's own
key, then EPCIS queries, DSCSA transaction information and the verifications it answered, as
that gateway allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger_client.errors import RxLedgerError

__all__ = ["ClientFactory", "GatewayClient", "GatewayRefusedError", "GatewayUnreachableError"]

#: Events a page asks for; the client follows ``Link: rel=next`` for more.
PAGE = 500
#: Pages followed at most per query (a gateway that pages forever is cut off).
MAX_PAGES = 100
#: Scans a page of ``/v1/scans`` asks for.
SCAN_PAGE = 5_000


class GatewayUnreachableError(RxLedgerError, ConnectionError):
    """Raised when a gateway does not answer (refused connection, timeout, bad HTTP)."""


class GatewayRefusedError(RxLedgerError, PermissionError):
    """Raised when a gateway answers a request with an error status (401, 403, 404, ...)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)[:200]


class GatewayClient:
    """Talks to the gateway at ``url`` as ``account``; logs in on first use."""

    def __init__(self, url: str, account: LocalAccount, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.account = account
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GatewayUnreachableError(f"{self.url}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise GatewayRefusedError(response.status_code, _detail(response))
        return response

    def login(self) -> str:
        """Sign the gateway's EIP-4361 challenge with the member key; return the token."""
        if self._token is None:
            address = self.account.address
            challenge = self._send("POST", "/v1/auth/challenge", json={"address": address})
            message = str(challenge.json()["message"])
            signed = self.account.sign_message(encode_defunct(text=message))
            body = {"message": message, "signature": "0x" + bytes(signed.signature).hex()}
            self._token = str(
                self._send("POST", "/v1/auth/token", json=body).json()["access_token"]
            )
        return self._token

    def get(self, path: str, **params: str) -> httpx.Response:
        """An authenticated GET of ``path`` (a path of this gateway, or a full next-page URL)."""
        headers = {"Authorization": f"Bearer {self.login()}"}
        return self._send("GET", path, params=params or None, headers=headers)

    def epc_events(self, epc: str) -> list[dict[str, Any]]:
        """Every event naming ``epc`` that the gateway lets this member read, page by page."""
        events: list[dict[str, Any]] = []
        response = self.get(f"/v1/epcs/{quote(epc, safe='')}/events", perPage=str(PAGE))
        for _ in range(MAX_PAGES):
            body = response.json()
            events += body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            following = response.links.get("next", {}).get("url")
            if not following:
                return events
            response = self.get(following)
        raise GatewayRefusedError(200, f"more than {MAX_PAGES} pages of events for {epc}")

    def transaction_information(self, shipment_tx: bytes) -> dict[str, Any]:
        """The DSCSA TI and TS the gateway's operator gives for its shipment ``shipment_tx``."""
        return dict(self.get(f"/v1/shipments/0x{shipment_tx.hex()}/ti").json())

    def scans(self, after: int = 0, page: int = SCAN_PAGE) -> list[Any]:
        """Every verification the gateway answered after its scan ``after`` (``/v1/scans``:
        regulators and its operator), page by page, oldest first; an answer that is no page
        of scans raises :class:`GatewayRefusedError`."""
        rows: list[Any] = []
        while True:
            response = self.get("/v1/scans", after=str(after), limit=str(page))
            try:
                body = response.json()
                page_rows, following = body["scans"], body.get("next_after")
                if not isinstance(page_rows, list):
                    raise TypeError("scans is no list")
            except (ValueError, TypeError, KeyError, AttributeError):
                raise GatewayRefusedError(
                    200, f"not a page of scans: {response.text[:80]}"
                ) from None
            rows += page_rows
            if following is None:
                return rows
            if not isinstance(following, int) or following <= after:
                raise GatewayRefusedError(200, f"the page after scan {after} points to {following}")
            after = following


#: Makes the client of a gateway URL for a member key (tests give their own).
ClientFactory = Callable[[str, LocalAccount], GatewayClient]
