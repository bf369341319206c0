"""Shared test fixtures: a deterministic hypothesis profile, one deployed dev chain, and a
count of EPCIS validations.

The demo consortium is deployed once per test session on an in-process eth-tester chain;
each test that asks for ``net`` starts from that freshly deployed state, restored from an
eth-tester snapshot (milliseconds instead of a redeploy).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import settings
from web3 import Web3

from ledger_client.chain import connect, dev_account, fund
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.epcis import ValidationWarning, validation
from tests.utils.chain import EXTRA_ACCOUNTS, Chain
from tests.utils.gas import checked_estimate

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def chain() -> Chain:
    """The session's chain: demo consortium deployed, extra dev accounts funded."""
    w3 = connect()
    w3.provider.ethereum_tester.backend.chain.gas_estimator = checked_estimate  # type: ignore[attr-defined]
    net = deploy_devnet(w3)
    fund(w3, [dev_account(n).address for n in EXTRA_ACCOUNTS])
    return Chain(w3, net, int(w3.provider.ethereum_tester.take_snapshot()))  # type: ignore[attr-defined]


@pytest.fixture
def net(chain: Chain) -> Iterator[DevNetwork]:
    """The demo network, freshly deployed for this test."""
    chain.revert(chain.deployed)
    yield chain.net


@pytest.fixture
def w3(chain: Chain, net: DevNetwork) -> Web3:
    """Web3 of the chain, reset to the freshly deployed network."""
    return chain.w3


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The documents ``inspect_document`` (every validation) is called with, from now on."""
    seen: list[object] = []
    checked = validation.inspect_document

    def counting(
        doc: dict[str, Any], found: Iterable[ValidationWarning] = ()
    ) -> validation.Inspection:
        seen.append(doc)
        return checked(doc, found)

    monkeypatch.setattr(validation, "inspect_document", counting)
    return seen
