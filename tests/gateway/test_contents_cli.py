"""``rxledger contents``: a case's contents from a live gateway, asked with the member's key
(Sign-In with Ethereum), and the gateway's refusal for a member that may not see them."""

from __future__ import annotations

import json

from dock_world import ship_to_pharmacy_a
from gateway_helpers import GTIN, Gateway
from typer.testing import CliRunner

from ledger_client.cli import app

runner = CliRunner()


def test_contents_prints_the_tree_and_a_bystander_is_refused(gateway: Gateway) -> None:
    s = ship_to_pharmacy_a(gateway, "CLC", 8501)
    pallet = f"(00){s.pallet}"
    shown = runner.invoke(app, ["contents", pallet, "--gateway", gateway.url, "--as", "pharmacy_a"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("held by manufacturer, in transit to pharmacy_a (as of block ")
    assert lines[1] == f"pallet {pallet} IN_TRANSIT, 4 pack(s)"
    assert [line.split()[0] for line in lines[2:]] == ["case", "pack", "pack"] * 2
    as_json = runner.invoke(
        app,
        [
            "contents",
            s.pack(s.case_packs[0][0]),
            "--gateway",
            gateway.url,
            "--as",
            "regulator",
            "--json",
        ],
    )
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["item"]["code"] == f"(01){GTIN}(21){s.case_packs[0][0]}"
    assert [u["kind"] for u in body["inside"]] == ["case", "pallet"]

    refused = runner.invoke(
        app, ["contents", pallet, "--gateway", gateway.url, "--as", "pharmacy_b"]
    )
    assert refused.exit_code == 1
    assert "HTTP 403" in refused.output and "only its holder" in refused.output
    bad = runner.invoke(
        app, ["contents", "(00)006141410000085018", "--gateway", gateway.url, "--as", "pharmacy_a"]
    )
    assert bad.exit_code == 2 and "wrong check digit" in bad.output
