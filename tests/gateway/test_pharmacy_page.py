"""The pharmacy page in a real headless Chromium (Debian chromium + chromium-driver, selenium 4)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_helpers import CONSOLE_KEY, Gateway, dm

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
#: Where the screenshot goes: the docs' copy when RXLEDGER_UPDATE_SCREENSHOT is set, else a
#: temporary file (a test run never changes tracked files).
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "pharmacy-page.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="needs Debian chromium and chromium-driver"
        " (apt-get install -y chromium chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1100,900",
    ):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="rxledger-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: object, condition: object, timeout: float = 20) -> object:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)  # type: ignore[arg-type]


def test_scan_dispense_undo_and_batch_in_a_real_browser(
    gateway: Gateway, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get(gateway.url + "/")  # type: ignore[attr-defined]
    d.find_element(By.ID, "staff-key").send_keys(CONSOLE_KEY + Keys.ENTER)  # type: ignore[attr-defined]
    scan = d.find_element(By.ID, "scan")  # type: ignore[attr-defined]
    result = d.find_element(By.ID, "result")  # type: ignore[attr-defined]

    # a keyboard-wedge scanner types the GS separator as a stand-in
    scan.send_keys(dm("S10").replace("\x1d", "<GS>") + Keys.ENTER)
    _wait(d, lambda _: "green" in result.get_attribute("class"))
    assert "GENUINE" in d.find_element(By.ID, "verdict").text  # type: ignore[attr-defined]
    assert "Amoxicillin" in d.find_element(By.ID, "facts").text  # type: ignore[attr-defined]
    shot = (
        DOCS_SCREENSHOT if os.environ.get("RXLEDGER_UPDATE_SCREENSHOT") else tmp_path / "page.png"
    )
    d.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000

    d.find_element(By.ID, "dispense").click()  # type: ignore[attr-defined]
    _wait(d, lambda _: result.get_attribute("data-status") == "DECOMMISSIONED")
    assert "red" in result.get_attribute("class")
    assert "Dispensed" in d.find_element(By.ID, "message").text  # type: ignore[attr-defined]
    undo = d.find_element(By.ID, "undo")  # type: ignore[attr-defined]
    assert undo.is_displayed()
    undo.click()
    _wait(d, lambda _: result.get_attribute("data-status") == "VERIFIED")

    scan.send_keys(dm("NOPE9") + Keys.ENTER)
    _wait(d, lambda _: result.get_attribute("data-status") == "UNKNOWN")
    assert "red" in result.get_attribute("class")

    d.find_element(By.ID, "batch-mode").click()  # type: ignore[attr-defined]
    for serial in ("S11", "S12", "S20"):
        scan.send_keys(dm(serial).replace("\x1d", "<GS>") + Keys.ENTER)
    _wait(d, lambda _: d.find_element(By.ID, "batch-count").text == "3")  # type: ignore[attr-defined]
    d.find_element(By.ID, "verify-batch").click()  # type: ignore[attr-defined]
    summary = d.find_element(By.ID, "batch-summary")  # type: ignore[attr-defined]
    _wait(d, lambda _: "AMBER" in summary.text)
    assert "2 VERIFIED" in summary.text and "1 IN_TRANSIT" in summary.text
