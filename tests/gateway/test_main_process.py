"""``python -m gateway`` as ``make run`` starts it: against anvil, with only the chain URL,
the deployment file, pharmacy_a's key (hex, no 0x) and confirmation depth 0 in the
environment (plus the port), run from a fresh directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ledger_client.chain import connect, dev_account
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import deploy_devnet
from tests.utils.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = {"Authorization": "Bearer local-console-key"}


@dataclass
class Served:
    """The gateway process, its URL and working directory."""

    url: str
    workdir: Path
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The gateway process, its URL and working directory."""
    workdir = tmp_path_factory.mktemp("run")
    with Anvil(port=free_port()) as anvil:
        net = deploy_devnet(connect(anvil.url))
        deployment = workdir / "deployment.json"
        net.deployment.save(deployment)
        port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("RXLEDGER_") and key != "PYTHONPATH"
        }
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "RXLEDGER_CHAIN_URL": anvil.url,
                "RXLEDGER_DEPLOYMENT_FILE": str(deployment),
                "RXLEDGER_OPERATOR_KEY": bytes(dev_account("pharmacy_a").key).hex(),
                "RXLEDGER_CONFIRMATION_DEPTH": "0",
                "RXLEDGER_PORT": str(port),
            }
        )
        log = (workdir / "gateway.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway"], cwd=workdir, env=env, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180  # generous: a loaded 2-core CI machine
            while True:
                if process.poll() is not None:
                    raise RuntimeError((workdir / "gateway.log").read_text()[-3000:])
                try:
                    if httpx.get(url + "/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError((workdir / "gateway.log").read_text()[-3000:])
                time.sleep(0.1)
            yield Served(url, workdir, process)
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def test_gateway_process_is_ready_on_the_demo_chain(served: Served) -> None:
    url, workdir = served.url, served.workdir
    ready = httpx.get(url + "/readyz").json()
    assert ready["status"] == "ok"
    assert ready["checks"]["chain"] is True and ready["checks"]["database_migrated"] is True
    assert ready["checks"]["confirmation_depth"] == 0
    assert ready["checks"]["indexed_block"] == ready["checks"]["head_block"]
    # its files land in .rxledger/ of the working directory
    assert (workdir / ".rxledger" / "gateway.db").is_file()


def test_gateway_process_serves_the_pharmacy_page(served: Served) -> None:
    page = httpx.get(served.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "RxLedger" in page.text


def test_gateway_process_signs_as_pharmacy_a(served: Served) -> None:
    # pharmacy_a's staff (the local console key) acts as the operator member
    who = httpx.get(served.url + "/v1/auth/me", headers=CONSOLE)
    assert who.status_code == 200, who.text
    assert who.json()["address"] == dev_account("pharmacy_a").address


DEEP_JSON = b"[" * 100_000 + b"]" * 100_000  # 200 kB
DEEP_XML = b"<a>" * 50_000 + b"</a>" * 50_000


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/v1/auth/challenge", {"content-type": "application/json"}, DEEP_JSON),
        ("/v1/capture", {"content-type": "application/ld+json"}, DEEP_JSON),
        ("/v1/capture", {**CONSOLE, "content-type": "application/ld+json"}, DEEP_JSON),
        ("/v1/capture", {**CONSOLE, "content-type": "application/xml"}, DEEP_XML),
        ("/v1/relay", {**CONSOLE, "content-type": "text/plain"}, DEEP_JSON),
    ],
    ids=["challenge", "capture-anonymous", "capture-json", "capture-xml", "relay-text"],
)
def test_gateway_process_survives_bodies_nested_100k_deep(
    served: Served, path: str, headers: dict[str, str], body: bytes
) -> None:
    # py-evm raises the recursion limit to 100,000 in this process: a parser that recursed
    # this deep would overflow the C stack and kill the gateway
    try:
        response = httpx.post(served.url + path, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        pytest.fail(f"no answer ({exc}); the gateway exited with {served.process.wait(30)}")
    assert response.status_code == 400, response.text
    assert response.json()["title"] == "Nesting too deep"
    assert served.process.poll() is None
    assert httpx.get(served.url + "/healthz").status_code == 200
