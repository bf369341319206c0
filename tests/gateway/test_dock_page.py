"""The receiving dock page in a real headless Chromium (Debian chromium + chromium-driver,
selenium 4) on a live gateway whose operator (the console key) is pharmacy_a: a shipment
picked from the inbound list, scanned as a keyboard-wedge scanner types, expected vs scanned
level by level, Receive matched, a stale report refused and redrawn, Close."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dock_world import Shipment, ship_to_pharmacy_a
from gateway_helpers import (
    CONSOLE,
    CONSOLE_KEY,
    GTIN,
    Gateway,
    Requests,
    chromium,
    dm,
    needs_chromium,
)

from ledger_client.types import ExceptionKind, UnitStatus

#: The docs' copy when RXLEDGER_UPDATE_SCREENSHOT is set, else a temporary file.
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "dock-page.png"

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # BiDi holds requests in flight (Requests)
    with chromium("--disable-sync", "--window-size=1200,1500", bidi=True) as driver:
        yield driver


class Dock:
    """The page as the receiving clerk uses it."""

    def __init__(self, driver: Any, gateway: Gateway) -> None:
        from selenium.webdriver.common.by import By

        self.driver, self.by = driver, By
        driver.get(gateway.url + "/dock")
        self.el: Callable[[str], Any] = lambda id_: driver.find_element(By.ID, id_)
        self.save_key(CONSOLE_KEY)

    def save_key(self, key: str) -> None:
        from selenium.webdriver.common.keys import Keys

        self.el("staff-key").send_keys(key + Keys.ENTER)

    def scan(self, code: str) -> None:
        """Type ``code`` as a keyboard-wedge scanner does (the GS separator as ``<GS>``)."""
        from selenium.webdriver.common.keys import Keys

        self.el("scan").send_keys(code.replace("\x1d", "<GS>") + Keys.ENTER)

    def escape(self) -> None:
        from selenium.webdriver.common.keys import Keys

        self.el("scan").send_keys(Keys.ESCAPE)

    def wait(self, condition: Callable[[], object], timeout: float = 60) -> None:
        """Wait for ``condition``; on a timeout, say what the page said."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            WebDriverWait(self.driver, timeout).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"timed out; the page says {self.text('message')!r}") from None

    def text(self, id_: str) -> str:
        return str(self.el(id_).text)

    def rows(self, id_: str) -> list[Any]:
        return list(self.el(id_).find_elements(self.by.CSS_SELECTOR, "tbody tr, li"))

    def states(self) -> dict[str, str]:
        """The state of each expected row, by its ledger id."""
        return {
            str(r.get_attribute("data-id")): str(r.get_attribute("data-state"))
            for r in self.rows("expected")
        }


def test_receive_a_shipment_at_the_dock_in_a_real_browser(
    browser: Any, gateway: Gateway, tmp_path: Path
) -> None:
    s = ship_to_pharmacy_a(gateway, "DPA", 8601)
    owners = gateway.world.net["auditor"].owners
    hexid = lambda i: "0x" + i.hex()  # noqa: E731
    pallet, (case_a, case_b) = (
        hexid(owners.unit_id(s.pallet)),
        [hexid(owners.unit_id(c)) for c in s.cases],
    )
    page = Dock(browser, gateway)
    page.wait(lambda: s.tx in page.text("inbound"))
    button = page.driver.find_element(
        page.by.CSS_SELECTOR, f"#inbound button[data-shipment='{s.tx}']"
    )
    button.click()
    page.wait(lambda: len(page.rows("expected")) == 8)
    assert set(page.states().values()) == {"missing"}
    assert "Receiving from manufacturer" in page.text("session-title")
    assert page.el("receive").get_attribute("disabled") is not None

    (a1, _), (b1, _) = s.case_packs
    for code in (
        Shipment.sscc(s.pallet),
        Shipment.sscc(s.cases[0]),
        s.pack(a1),
        s.pack(b1),  # case B's pack, found in case A
        Shipment.sscc(s.cases[1]),
    ):
        page.scan(code)
    page.wait(lambda: page.text("scan-count") == "5")
    assert "found in (00)" + s.cases[1] in page.text("open-unit")
    page.escape()  # case B stays sealed: the packs scanned next were not found in it
    assert page.text("open-unit") == ""
    for code in (s.pack(s.at_pharmacy_b), dm("DPANEVER", s.lot)):
        page.scan(code)
    page.wait(lambda: page.text("scan-count") == "7")
    page.scan(s.pack(a1))
    page.wait(lambda: "counted once" in page.text("message"))
    assert page.text("scan-count") == "7"
    states = page.states()
    assert states[pallet] == "scanned" and states[case_a] == states[case_b] == "scanned"
    assert len(page.rows("quarantined")) == 2 and "holder pharmacy_b" in page.text("quarantined")
    loose = owners.pack_id(GTIN, s.loose).hex()
    assert page.text("missing") == f"0x{loose[:8]}…"  # never scanned: this gateway has no code
    assert f"(00){s.cases[0]}: missing" in page.text("aggregation")
    assert "QUARANTINED" in page.text("scans")
    shot = (
        DOCS_SCREENSHOT if os.environ.get("RXLEDGER_UPDATE_SCREENSHOT") else tmp_path / "dock.png"
    )
    page.driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

    assert page.text("receive") == "Receive matched (1)"
    page.el("receive").click()
    page.wait(lambda: page.text("message").startswith("Received 1 item(s)"))
    pharmacy = gateway.world.net["pharmacy_a"]
    assert pharmacy.unit_state(s.pallet).custodian == pharmacy.address
    assert page.el("receive").get_attribute("disabled") is not None

    # Another client scans the loose pack: the page's report is stale, Close is refused.
    sid = page.text("session-title").rsplit("(", 1)[1].rstrip(")")
    other = gateway.client.post(
        f"/v1/dock/sessions/{sid}/scans", json={"code": s.pack(s.loose)}, headers=CONSOLE
    )
    assert other.status_code == 200
    page.el("close-session").click()
    page.wait(lambda: "the session changed" in page.text("message"))
    page.wait(lambda: page.text("missing") == "")
    assert page.text("receive") == "Receive matched (1)"  # redrawn: the loose pack now
    assert pharmacy.pack_state(GTIN, s.loose).status == UnitStatus.IN_TRANSIT

    page.el("close-session").click()
    page.wait(lambda: page.text("message").startswith("Session closed"))
    assert page.text("message") == "Session closed: 2 exception(s) opened"
    assert "Closed: from manufacturer" in page.text("session-title")
    assert not page.el("receive").is_displayed() and not page.el("scan").is_enabled()
    actions = page.text("actions")
    assert "product_without_data — pharmacy_b — exception #" in actions
    assert "aggregation_error — manufacturer — exception #" in actions
    kinds = {
        gateway.world.net["auditor"].exception(int(line.split("#")[1].split(" ")[0])).kind
        for line in actions.splitlines()
        if "#" in line
    }
    assert kinds == {ExceptionKind.PRODUCT_WITHOUT_DATA, ExceptionKind.AGGREGATION_ERROR}

    page.save_key("not-the-staff-key")  # a new key clears the session and what it showed
    page.wait(lambda: not page.el("session").is_displayed())
    assert page.rows("inbound") == [] and "Unauthorized" not in page.text("session-title")


def test_an_answer_for_a_cleared_session_is_dropped_and_writes_wait_for_scans(
    browser: Any, gateway: Gateway
) -> None:
    s = ship_to_pharmacy_a(gateway, "DPB", 8621)
    page = Dock(browser, gateway)
    page.wait(lambda: s.tx in page.text("inbound"))
    page.driver.find_element(
        page.by.CSS_SELECTOR, f"#inbound button[data-shipment='{s.tx}']"
    ).click()
    page.wait(lambda: len(page.rows("expected")) == 8)
    with Requests(page.driver, "**/scans", hold="/scans") as scans:
        page.scan(Shipment.sscc(s.pallet))
        page.wait(lambda: len(scans.seen) == 1)
        assert page.el("receive").get_attribute("disabled") is not None
        assert page.el("close-session").get_attribute("disabled") is not None
        page.save_key(CONSOLE_KEY)  # a new key: the session on screen is cleared
        page.wait(lambda: not page.el("session").is_displayed())
        scans.release()
        page.wait(
            lambda: (
                page.driver.execute_script(
                    "return performance.getEntriesByType('resource')"
                    ".filter((e) => e.name.endsWith('/scans')).length"
                )
                == 1
            )
        )
        page.driver.execute_async_script("setTimeout(arguments[arguments.length - 1], 0)")
    assert not page.el("session").is_displayed() and page.text("message") == ""
    page.wait(lambda: s.tx in page.text("inbound"))  # the inbound list is back, the scan kept
    sid = gateway.client.get("/v1/dock/sessions", headers=CONSOLE).json()[0]
    assert [x["clear"] for x in sid["scans"]] == [f"(00){s.pallet}"]
