"""Gateway test helpers: one in-process chain with the demo network and a small world of packs,
one real uvicorn server on a free loopback port, SQLite in a temporary file."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eth_account.messages import encode_defunct
from web3 import Web3

from gateway.core.config import Settings
from gateway.main import create_app
from gateway.services.chain import serialise_provider
from ledger_client.chain import connect, dev_account
from ledger_client.devnet import DevNetwork, deploy_devnet
from tests.utils.ports import free_port

GTIN = "09506000134352"
FOREIGN_GTIN = "09506000134369"  # same prefix, not registered in the directory
LOT = "L1"
EXPIRY = "301231"
OLD_LOT = "OLD1"
OLD_EXPIRY = "200131"
#: Lots registered with an expiry written with day 00 (end of month) and in full.
DAY00_LOT, DAY00_EXPIRY = "D0", "280600"
FULL_LOT, FULL_EXPIRY = "D30", "280630"
FEB_LOT, FEB_EXPIRY = "FEB", "280200"  # 2028 is a leap year: 280229
#: A pack whose serial needs percent-encoding in a Digital Link.
ODD_SERIAL = "D/3%?"
#: Products that name a gateway: another one (the resolver redirects) and this one.
ELSEWHERE_GTIN, ELSEWHERE_URL = "09506000134376", "https://gw.other.example/rx"
UPC_GTIN = "00614141000012"  # written as the GTIN-12 614141000012
PUBLIC_URL = "http://127.0.0.1:1"
CONSOLE_KEY = "test-console-key"


def dm(serial: str, lot: str = LOT, expiry: str = EXPIRY, gtin: str = GTIN) -> str:
    """The DataMatrix text a scanner sends for a pack (with ]d2 and a GS separator)."""
    return f"]d201{gtin}17{expiry}10{lot}\x1d21{serial}"


@dataclass
class World:
    """The chain and the packs the tests use."""

    w3: Web3
    net: DevNetwork
    deployment_file: Path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    w3 = serialise_provider(connect("eth-tester"))
    net = deploy_devnet(w3)
    m, wa, pa = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    m.register_product(GTIN, "Amoxicillin 500 mg capsules", "500 mg", "capsule", "0000-0000", "")
    m.register_lot(GTIN, LOT, EXPIRY)
    m.register_lot(GTIN, OLD_LOT, OLD_EXPIRY)
    m.commission(GTIN, LOT, [f"S{i}" for i in range(1, 21)])
    m.commission(GTIN, OLD_LOT, ["E1"])
    m.commission(GTIN, LOT, [f"C{i}" for i in range(1, 5)], into_sscc="106141411234567897")
    # S1-S15, E1 and the case go to wholesaler_a, which passes S1-S12, E1 and the case on.
    for sender, receiver, last in ((m, wa, 15), (wa, pa, 12)):
        packs = [(GTIN, f"S{i}") for i in range(1, last + 1)] + [(GTIN, "E1")]
        sender.ship(receiver.address, packs=packs, units=["106141411234567897"])
        receiver.receive(packs=packs, units=["106141411234567897"])
    # R lot: recalled by its owner in a test; T: shipped to wholesaler_b, never received.
    m.register_lot(GTIN, "R1", EXPIRY)
    m.commission(GTIN, "R1", ["R1", "R2", "R3"])
    m.ship(pa.address, packs=[(GTIN, "R1"), (GTIN, "R2")])
    pa.receive(packs=[(GTIN, "R1"), (GTIN, "R2")])
    m.ship(net.address("wholesaler_b"), packs=[(GTIN, "S20")])
    m.register_lot(GTIN, DAY00_LOT, DAY00_EXPIRY)
    m.commission(GTIN, DAY00_LOT, ["D1", "D2", ODD_SERIAL])
    m.register_lot(GTIN, FULL_LOT, FULL_EXPIRY)
    m.commission(GTIN, FULL_LOT, ["F1"])
    m.register_lot(GTIN, FEB_LOT, FEB_EXPIRY)
    m.commission(GTIN, FEB_LOT, ["B1"])
    m.register_product(ELSEWHERE_GTIN, "Amoxicillin 250 mg capsules", gateway_url=ELSEWHERE_URL)
    m.register_product(UPC_GTIN, "Ibuprofen 200 mg tablets", gateway_url=PUBLIC_URL + "/")
    m.register_lot(UPC_GTIN, "U1", EXPIRY)
    m.commission(UPC_GTIN, "U1", ["U1"])
    path = tmp_path_factory.mktemp("chain") / "deployment.json"
    net.deployment.save(path)
    return World(w3, net, path)


def operator_key(name: str) -> str:
    """Dev account ``name``'s private key as the gateway's ``operator_key`` setting takes it."""
    return "0x" + bytes(dev_account(name).key).hex()


def gateway_settings(world: World, db: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "local",
        "chain_url": "eth-tester",
        "deployment_file": world.deployment_file,
        "database_url": f"sqlite:///{db}",
        "confirmation_depth": 0,
        "index_poll_seconds": 0.05,
        "verification_flush_seconds": 0.05,
        "operator_key": operator_key("pharmacy_a"),
        "console_key": CONSOLE_KEY,
        "token_secret": "t" * 40,
        "rate_limit_per_second": 1000,
        "rate_limit_burst": 1000,
        "login_attempts_per_minute": 100_000,
        "auth_failures_per_hour": 100_000,
        "public_url": PUBLIC_URL,
        "webhook_allow_loopback": True,  # the tests' webhook receivers listen on 127.0.0.1
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def wait_for_index(app: object, world: World, block: int | None = None) -> None:
    """Wait until ``app``'s index reaches ``block`` (default: the chain head)."""
    target = world.w3.eth.block_number if block is None else block
    deadline = time.monotonic() + 30
    while app.state.rx.readmodel.indexed_block(0) < target:  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise TimeoutError(f"index did not reach block {target}")
        time.sleep(0.02)


class LiveServer:
    """A uvicorn server in a thread."""

    def __init__(self, app: object, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on"
        )  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class WebhookReceiver:
    """A webhook receiver on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.hosts: list[str] = []  # the Host header of each POST
        received, hosts = self.received, self.hosts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                hosts.append(self.headers["Host"])
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass
class Gateway:
    """A running gateway and a client for it."""

    url: str
    client: httpx.Client
    app: object
    world: World

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.app.state.rx  # type: ignore[attr-defined]

    def wait_indexed(self, block: int | None = None) -> None:
        """Wait until the index reaches ``block`` (default: the head)."""
        wait_for_index(self.app, self.world, block)

    def token(self, name: str) -> str:
        """Log in as demo member ``name`` through challenge + signature."""
        return login(self.client, dev_account(name))

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}


def sign(account: object, message: str) -> str:
    """``account``'s EIP-191 personal_sign signature of ``message``, as 0x-hex."""
    signed = account.sign_message(encode_defunct(text=message))  # type: ignore[attr-defined]
    return "0x" + bytes(signed.signature).hex()


def login(client: httpx.Client, account: object) -> str:
    """Sign in with Ethereum as ``account``: sign the gateway's challenge, return the token."""
    address = account.address  # type: ignore[attr-defined]
    challenge = client.post("/v1/auth/challenge", json={"address": address}).json()
    message = challenge["message"]
    response = client.post(
        "/v1/auth/token", json={"message": message, "signature": sign(account, message)}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


CONSOLE = {"Authorization": f"Bearer {CONSOLE_KEY}"}


@contextmanager
def running_gateway(world: World, db: Path, **overrides: object) -> Iterator[Gateway]:
    """A live gateway on ``world`` with ``gateway_settings(world, db, **overrides)``, once its
    index has reached the head (tokens and the console key count once it knows the member)."""
    app = create_app(gateway_settings(world, db, **overrides), world.w3)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        gw = Gateway(server.url, client, app, world)
        gw.wait_indexed()
        yield gw


@pytest.fixture(scope="module")
def gateway(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(world, tmp_path_factory.mktemp("db") / "gateway.db") as gw:
        yield gw


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
#: Skips a browser test where Debian's chromium and chromium-driver are not installed.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian chromium and chromium-driver (`make browser` installs them)",
)


@contextmanager
def chromium(*flags: str, bidi: bool = False) -> Iterator[Any]:
    """A headless Chromium under selenium with a throwaway profile and extra ``flags``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.enable_bidi = bidi
    quiet = ("--disable-background-networking", "--disable-component-update", "--no-first-run")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", *quiet, *flags):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="rxledger-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Requests:
    """The page's requests to URLs matching ``glob``, seen through WebDriver BiDi; those whose
    URL contains ``hold`` wait (paused in the browser) until :meth:`release`."""

    def __init__(self, driver: Any, glob: str, hold: str | None = None) -> None:
        self.driver, self.hold = driver, hold
        self.seen: list[tuple[str, str]] = []
        self._released = threading.Event()
        self._id = driver.network.add_request_handler([glob], self._on_request)

    def _on_request(self, request: Any) -> None:
        self.seen.append((request.method, request.url))
        if self.hold is not None and self.hold in request.url:
            self._released.wait(60)

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> Requests:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.driver.network.remove_request_handler(self._id)
