"""The API's documentation pages work with no network: every asset comes from the gateway."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from gateway_helpers import Gateway
from lxml import html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):  # fmt: skip
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="rxledger-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None, reason="needs Debian chromium and chromium-driver"
)
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
