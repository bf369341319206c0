"""The API's documentation pages work with no network: every asset comes from the gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from gateway_helpers import Gateway, chromium, needs_chromium
from lxml import html

TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def _asset_urls(page: str) -> list[str]:
    tree = html.fromstring(page)
    urls = tree.xpath("//script/@src | //link/@href | //img/@src")
    # URLs the inline start-up script names: the OpenAPI document, the OAuth2 redirect
    urls += re.findall(r"""(?:url|oauth2RedirectUrl)['"]?\s*:\s*['"]([^'"]+)""", page)
    urls += re.findall(r"""spec-url=['"]([^'"]+)""", page)
    return urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_gateway(gateway: Gateway, page: str) -> None:
    response = gateway.client.get(page)
    assert response.status_code == 200
    urls = _asset_urls(response.text)
    assert "/openapi.json" in "".join(urls)
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "://" not in response.text.replace(gateway.url, "")
    for url in urls:
        suffix = "." + url.rsplit(".", 1)[-1]
        if suffix in TYPES:
            asset = gateway.client.get(url)
            assert asset.status_code == 200, url
            assert TYPES[suffix] in asset.headers["content-type"], url
            assert len(asset.content) > 1000, url


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[object]:
    """Headless Chromium that can resolve no host name but the loopback address."""
    with chromium("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1") as driver:
        yield driver


@pytest.mark.browser
@needs_chromium
def test_swagger_ui_lists_the_operations_with_no_network(
    gateway: Gateway, offline_browser: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = offline_browser
    d.get(gateway.url + "/docs")  # type: ignore[attr-defined]
    WebDriverWait(d, 30).until(  # type: ignore[arg-type]
        lambda _: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")  # type: ignore[attr-defined]
    )
    paths = {e.text for e in d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}  # type: ignore[attr-defined]
    assert {"/v1/verify", "/v1/capture", "/healthz"} <= {p.replace("\u200b", "") for p in paths}
