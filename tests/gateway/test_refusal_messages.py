"""The gateway explains a refusal by the ledger as the CLI does: what happened, what to do."""

from __future__ import annotations

from gateway_helpers import CONSOLE, Gateway, dm


def test_a_refused_dispense_says_what_happened_and_what_to_do(gateway: Gateway) -> None:
    # S20 is in transit to wholesaler_b: pharmacy A's gateway cannot dispense it
    r = gateway.client.post("/v1/dispense", json={"codes": [dm("S20")]}, headers=CONSOLE)
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "SerialRegistryInTransit"
    # named by the code the pharmacy scanned, not by its ledger id
    assert body["detail"].startswith("SerialRegistryInTransit: pack (01)09506000134352(21)S20 ")
    assert body["detail"].endswith(
        "is in transit. Its recipient has to receive it first (`rxledger receive`)."
    )
