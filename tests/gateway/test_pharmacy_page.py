"""The pharmacy page in a real headless Chromium (Debian chromium + chromium-driver, selenium 4),
on a live gateway whose operator (the console key) is pharmacy_a."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from custody_world import CustodyPacks, add_custody_packs
from gateway_helpers import CONSOLE_KEY, GTIN, Gateway, Requests, chromium, dm, needs_chromium

from ledger_client.types import VerificationStatus

#: Where the screenshot goes: the docs' copy when RXLEDGER_UPDATE_SCREENSHOT is set, else a
#: temporary file (a test run never changes tracked files).
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "pharmacy-page.png"

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # BiDi holds requests in flight (Requests)
    with chromium("--disable-sync", "--window-size=1100,900", bidi=True) as driver:
        yield driver


@pytest.fixture
def page(browser: Any, gateway: Gateway) -> Page:
    """The page freshly loaded, the staff key saved."""
    return Page(browser, gateway)


@pytest.fixture(scope="module")
def packs(gateway: Gateway) -> CustodyPacks:
    return add_custody_packs(gateway, "WEB", "000000202")


class Page:
    """The page as a pharmacist uses it: a staff key, a scanner that types, two buttons."""

    def __init__(self, driver: Any, gateway: Gateway) -> None:
        from selenium.webdriver.common.by import By

        self.driver, self.gateway = driver, gateway
        driver.get(gateway.url + "/")
        self.el: Callable[[str], Any] = lambda id_: driver.find_element(By.ID, id_)
        self.save_key(CONSOLE_KEY)

    def save_key(self, key: str) -> None:
        from selenium.webdriver.common.keys import Keys

        self.el("staff-key").send_keys(key + Keys.ENTER)

    def scan(self, code: str) -> None:
        """Type ``code`` as a keyboard-wedge scanner does (the GS separator as ``<GS>``)."""
        from selenium.webdriver.common.keys import Keys

        self.el("scan").send_keys(code.replace("\x1d", "<GS>") + Keys.ENTER)

    def scan_dispensable(self, code: str) -> None:
        """Scan ``code`` and wait until the page offers to dispense it."""
        self.scan(code)
        self.wait(lambda: self.shown("dispense"))

    def wait(self, condition: Callable[[], object], timeout: float = 20) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout).until(lambda _: condition())

    def status(self) -> str:
        return str(self.el("result").get_attribute("data-status"))

    def colour(self) -> str:
        return str(self.el("result").get_attribute("class")).removeprefix("result ")

    def wait_for(self, status: str) -> None:
        self.wait(lambda: self.status() == status)

    def text(self, id_: str) -> str:
        return str(self.el(id_).text)

    def shown(self, id_: str) -> bool:
        return bool(self.el(id_).is_displayed())

    def press(self, id_: str) -> None:
        """Click button ``id_`` from script, as a stray event would, shown or not."""
        self.driver.execute_script("document.getElementById(arguments[0]).click()", id_)

    def settle(self) -> None:
        """Let the page run the tasks already queued (an answer that has just arrived)."""
        self.driver.execute_async_script("setTimeout(arguments[arguments.length - 1], 0)")

    def responses(self, url_regex: str) -> int:
        """How many responses for URLs matching ``url_regex`` have arrived in full."""
        return int(
            self.driver.execute_script(
                "const url = new RegExp(arguments[0]); return performance"
                ".getEntriesByType('resource').filter((e) => url.test(e.name)).length",
                url_regex,
            )
        )


@contextmanager
def stray_dispense(page: Page, serial: str, lot: str) -> Iterator[None]:
    """Press the dispense button from script, then run the block: no dispense request leaves
    the page, and pack ``serial`` of ``lot`` stays VERIFIED on chain."""
    with Requests(page.driver, "**/v1/dispense**") as writes:
        page.press("dispense")
        yield
    assert writes.seen == []
    status = page.gateway.world.net["pharmacy_a"].verify(GTIN, serial, lot, "301231").status
    assert status == VerificationStatus.VERIFIED


def test_scan_dispense_undo_and_batch_in_a_real_browser(
    page: Page, packs: CustodyPacks, tmp_path: Path
) -> None:
    page.scan(dm("S10"))
    page.wait(lambda: page.colour() == "green")
    assert "GENUINE — OK to dispense (VERIFIED)" in page.text("verdict")
    assert "Amoxicillin" in page.text("facts")
    shot = (
        DOCS_SCREENSHOT if os.environ.get("RXLEDGER_UPDATE_SCREENSHOT") else tmp_path / "page.png"
    )
    page.driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

    page.el("dispense").click()
    page.wait_for("DECOMMISSIONED")
    assert page.colour() == "red" and not page.shown("dispense")
    assert "Dispensed" in page.text("message")
    assert page.shown("undo")
    page.el("undo").click()
    page.wait_for("VERIFIED")
    assert "Dispense undone" in page.text("message") and not page.shown("undo")

    page.scan(dm("NOPE9"))
    page.wait_for("UNKNOWN")
    assert page.colour() == "red" and page.text("message") == ""

    page.el("batch-mode").click()
    for code in (dm("S11"), dm("S12"), packs.code(packs.to_pharmacy_a)):
        page.scan(code)
    page.wait(lambda: page.text("batch-count") == "3")
    page.el("verify-batch").click()
    page.wait(lambda: "AMBER" in page.text("batch-summary"))
    assert "2 VERIFIED" in page.text("batch-summary")
    assert "1 IN_TRANSIT" in page.text("batch-summary")
    assert "IN_TRANSIT, not yet received" in page.text("batch-table")


def test_unreadable_scan_after_a_verified_one_shows_error_and_cannot_dispense_the_earlier_pack(
    page: Page, packs: CustodyPacks
) -> None:
    serial = packs.at_pharmacy_a[1]
    page.scan_dispensable(packs.code(serial))
    page.scan("9" * 2000)
    page.wait_for("ERROR")
    assert page.text("verdict") == "ERROR" and page.colour() == "red"
    assert page.text("reasons") == "" and page.text("facts") == ""
    assert not page.shown("dispense") and not page.shown("undo")
    with stray_dispense(page, serial, packs.lot):
        page.scan_dispensable(packs.code(serial))  # a request after any the click would have sent


def test_wrong_staff_key_clears_the_result_and_its_error_offers_no_dispense(
    page: Page, packs: CustodyPacks
) -> None:
    serial = packs.at_pharmacy_a[1]
    page.scan_dispensable(packs.code(serial))
    page.save_key("not-the-staff-key")
    page.wait(lambda: page.status() == "")
    assert page.text("verdict") == "Scan a pack to verify it." and not page.shown("dispense")
    page.scan(packs.code(serial))
    page.wait_for("ERROR")
    assert page.text("verdict") == "ERROR" and page.text("message")  # the 401's reason
    assert page.text("facts") == "" and not page.shown("dispense")
    with stray_dispense(page, serial, packs.lot):
        page.save_key(CONSOLE_KEY)
        page.scan(dm("S5"))
        page.wait_for("VERIFIED")


def test_double_click_on_dispense_sends_one_dispense_and_buttons_wait_for_the_write(
    page: Page, packs: CustodyPacks
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    page.scan_dispensable(packs.code(packs.at_pharmacy_a[0]))
    with Requests(page.driver, "**/v1/dispense**", hold="/v1/dispense") as writes:
        ActionChains(page.driver).double_click(page.el("dispense")).perform()
        page.wait(lambda: len(writes.seen) >= 1)
        assert page.el("dispense").get_attribute("disabled") is not None
        assert page.text("message") == "Dispensing…"
        writes.release()
        page.wait_for("DECOMMISSIONED")
        assert page.text("message").startswith("Dispensed — transaction 0x")
        page.el("undo").click()
        page.wait_for("VERIFIED")
    assert [method for method, _ in writes.seen] == ["POST", "POST"]
    assert [url.rsplit("/v1/", 1)[1] for _, url in writes.seen] == ["dispense", "dispense/undo"]


def test_answer_for_an_older_scan_is_ignored(page: Page, packs: CustodyPacks) -> None:
    with Requests(page.driver, "**/v1/verify**", hold="21S3") as verifications:
        page.scan(dm("S3"))  # green and dispensable, but held on its way
        page.wait(lambda: len(verifications.seen) == 1)
        assert page.status() == "PENDING" and page.text("verdict") == "Verifying…"
        page.scan(packs.code(packs.at_pharmacy_b))
        page.wait_for("VERIFIED")
        verifications.release()
        page.wait(lambda: page.responses("21S3$") == 1)
        page.settle()
    assert page.colour() == "red" and packs.at_pharmacy_b in page.text("facts")
    assert not page.shown("dispense")


def test_pack_held_by_another_pharmacy_is_red_possible_diversion_without_dispense(
    page: Page, packs: CustodyPacks
) -> None:
    for serial in (packs.at_pharmacy_b, packs.in_case_at_pharmacy_b):
        page.scan(packs.code(serial))
        page.wait(lambda s=serial: s in page.text("facts"))
        assert page.colour() == "red" and page.status() == "VERIFIED"
        assert page.text("verdict") == "DO NOT DISPENSE (VERIFIED, not in your custody)"
        assert "held by pharmacy_b" in page.text("reasons")
        assert "possible diversion" in page.text("reasons")
        assert not page.shown("dispense") and not page.shown("undo")


def test_pack_in_transit_to_this_pharmacy_is_amber_not_yet_received_without_dispense(
    page: Page, packs: CustodyPacks
) -> None:
    page.scan(packs.code(packs.to_pharmacy_a))
    page.wait_for("IN_TRANSIT")
    assert page.colour() == "amber"
    assert page.text("verdict") == "HOLD — do not dispense now (IN_TRANSIT, not yet received)"
    assert page.text("reasons").startswith("not yet received")
    assert not page.shown("dispense")


def test_pack_dispensed_by_another_pharmacy_offers_no_undo(page: Page, packs: CustodyPacks) -> None:
    page.scan(packs.code(packs.dispensed_at_pharmacy_b))
    page.wait_for("DECOMMISSIONED")
    assert "by pharmacy_b" in page.text("reasons")
    assert not page.shown("undo") and not page.shown("dispense")


def test_batch_changes_clear_the_single_result_and_the_delivery_verdict(
    page: Page, packs: CustodyPacks
) -> None:
    page.scan_dispensable(dm("S6"))
    page.el("batch-mode").click()
    assert page.status() == "" and not page.shown("dispense")

    page.scan(dm("S7"))
    page.scan(packs.code(packs.at_pharmacy_b))
    page.wait(lambda: page.text("batch-count") == "2")
    page.el("verify-batch").click()
    page.wait(lambda: page.text("batch-summary").startswith("Delivery verdict: RED"))
    assert "not in your custody" in page.text("batch-table")

    def colours() -> list[str]:
        rows = page.el("batch-table").find_elements("css selector", "tbody tr")
        return [str(r.get_attribute("class")) for r in rows]

    assert colours() == ["green", "red"]
    page.scan(dm("S8"))
    page.wait(lambda: page.text("batch-count") == "3")
    assert page.text("batch-summary") == "" and colours() == ["", "", ""]

    assert page.responses("/v1/verify$") == 1
    with Requests(page.driver, "**/v1/verify", hold="/v1/verify") as verifications:
        page.el("verify-batch").click()
        page.wait(lambda: len(verifications.seen) == 1)
        page.scan(dm("S9"))  # the delivery changed while its answer was on its way
        page.wait(lambda: page.text("batch-count") == "4")
        verifications.release()
        page.wait(lambda: page.responses("/v1/verify$") == 2)
        page.settle()
    assert page.text("batch-summary") == "" and colours() == ["", "", "", ""]
    page.el("clear-batch").click()
    assert page.text("batch-count") == "0" and page.text("batch-summary") == ""
