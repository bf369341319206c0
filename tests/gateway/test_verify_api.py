"""Verification over HTTP: a live uvicorn server on the in-process chain, SQLite index."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from gateway_helpers import (
    CONSOLE,
    DAY00_EXPIRY,
    DAY00_LOT,
    EXPIRY,
    FEB_LOT,
    FULL_EXPIRY,
    FULL_LOT,
    GTIN,
    LOT,
    OLD_EXPIRY,
    OLD_LOT,
    Gateway,
    dm,
)

CASES = {
    "green in pharmacy custody": (dm("S1"), "VERIFIED", "green"),
    "green inside a received case": (dm("C1"), "VERIFIED", "green"),
    # the console is pharmacy_a's, a dispenser: red for a pack it does not hold (see
    # test_verify_custody.py)
    "red with the manufacturer": (dm("S16"), "VERIFIED", "red"),
    "unknown serial": (dm("NOPE1"), "UNKNOWN", "red"),
    "expired lot": (dm("E1", OLD_LOT, OLD_EXPIRY), "EXPIRED", "red"),
    "lot mismatch": (dm("S3", "OTHER"), "LOT_MISMATCH", "red"),
    # another registered lot of the product is no better: the pack's lot tag names its own
    "lot mismatch with another lot of the product": (dm("S3", "R1"), "LOT_MISMATCH", "red"),
    "expiry mismatch": (dm("S3", LOT, "301130"), "EXPIRY_MISMATCH", "red"),
    "in transit to another member": (dm("S20"), "IN_TRANSIT", "red"),
    "digital link": (
        f"https://id.gs1.org/01/{GTIN}/21/S4?10={LOT}&17={EXPIRY}",
        "VERIFIED",
        "green",
    ),
    "element string": (f"(01){GTIN}(17){EXPIRY}(10){LOT}(21)S4", "VERIFIED", "green"),
    "textual GS stand-in": (f"]d201{GTIN}17{EXPIRY}10{LOT}<GS>21S4", "VERIFIED", "green"),
    # the day-00 lots' packs stay with the manufacturer: VERIFIED, red for pharmacy_a
    "day 00 scanned, month's last day registered": (
        dm("F1", FULL_LOT, DAY00_EXPIRY),
        "VERIFIED",
        "red",
    ),
    "last day scanned, day 00 registered": (dm("D1", DAY00_LOT, FULL_EXPIRY), "VERIFIED", "red"),
    "day 00 scanned and registered": (dm("D1", DAY00_LOT, DAY00_EXPIRY), "VERIFIED", "red"),
    "the day before month end is another expiry": (
        dm("D1", DAY00_LOT, "280629"),
        "EXPIRY_MISMATCH",
        "red",
    ),
    "29 February of a leap year, day 00 registered": (
        dm("B1", FEB_LOT, "280229"),
        "VERIFIED",
        "red",
    ),
    "28 February of a leap year is not its last day": (
        dm("B1", FEB_LOT, "280228"),
        "EXPIRY_MISMATCH",
        "red",
    ),
}


def get(gateway: Gateway, code: str, **params: str) -> dict:  # type: ignore[type-arg]
    r = gateway.client.get("/v1/verify", params={"code": code, **params}, headers=CONSOLE)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", CASES)
def test_verify_status_and_verdict_from_index_match_the_chain(gateway: Gateway, case: str) -> None:
    code, status, verdict = CASES[case]
    indexed, on_chain = get(gateway, code), get(gateway, code, source="chain")
    assert (indexed["status"], indexed["verdict"]) == (status, verdict)
    assert on_chain["status"] == status and on_chain["source"] == "chain"
    assert (
        indexed["pack"] == on_chain["pack"]
        or status == "UNKNOWN"
        or indexed["pack"]["custodian"] == on_chain["pack"]["custodian"]
    )


def test_verified_pack_carries_product_and_custody_facts(gateway: Gateway) -> None:
    body = get(gateway, dm("C1"))
    assert body["product"]["name"] == "Amoxicillin 500 mg capsules"
    assert body["pack"]["custodian_name"] == "pharmacy_a"
    assert body["pack"]["custodian_gln"] == "4012347000014"
    assert body["source_format"] == "datamatrix"


def test_unreadable_scan_is_red_with_the_parse_error(gateway: Gateway) -> None:
    body = get(gateway, "]d20109506000134353")
    assert body["status"] == "UNREADABLE" and body["verdict"] == "red"
    assert "could not be read" in body["reasons"][0]


def test_digital_link_that_is_not_utf8_is_unreadable_not_a_server_error(gateway: Gateway) -> None:
    body = get(gateway, f"https://id.gs1.org/01/{GTIN}/21/S%FF")
    assert body["status"] == "UNREADABLE" and "does not decode as UTF-8" in body["reasons"][0]


def test_a_scanned_digital_link_breaking_its_uri_syntax_verifies_with_the_warnings(
    gateway: Gateway,
) -> None:
    body = get(gateway, f"https://brand.example/scan/01/{GTIN}/21/S4/10/{LOT}?17={EXPIRY}")
    assert (body["status"], body["verdict"]) == ("VERIFIED", "green")
    assert any("key qualifiers out of order (21, 10)" in w for w in body["warnings"])


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (f"(01){GTIN}(21)S4(11)250230", "AI (11) PROD DATE 250230: day 30 is not valid"),
        (f"https://id.gs1.org/01/{GTIN}/21/S4?999=x", "AI (999) in the Digital Link query"),
        (f"(01){GTIN}(02){GTIN}(21)S4", "cannot be in the same code"),
    ],
)
def test_a_scan_breaking_the_gs1_rules_is_unreadable_saying_why(
    gateway: Gateway, code: str, reason: str
) -> None:
    body = get(gateway, code)
    assert body["status"] == "UNREADABLE" and reason in body["reasons"][0]


def test_batch_verify_reports_each_pack_and_the_worst_verdict(gateway: Gateway) -> None:
    codes = [dm("S5"), dm("S6"), dm("S20"), dm("NOPE2")]
    r = gateway.client.post("/v1/verify", json={"codes": codes}, headers=CONSOLE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["status"] for x in body["results"]] == [
        "VERIFIED",
        "VERIFIED",
        "IN_TRANSIT",
        "UNKNOWN",
    ]
    assert body["verdict"] == "red"
    assert body["summary"] == {"VERIFIED": 2, "IN_TRANSIT": 1, "UNKNOWN": 1}


def lvm_verify(gateway: Gateway, serial: str, lot: str, expiry: str, **extra: str) -> Any:
    """The gateway's LVM answer for pack ``serial`` of ``lot`` expiring ``expiry``."""
    body = {"gtin": GTIN, "serialNumber": serial, "lotNumber": lot, "expirationDate": expiry}
    return gateway.client.post("/v1/lvm/verify", headers=CONSOLE, json=body | extra).json()


def test_lvm_answers_verified_with_additional_info(gateway: Gateway) -> None:
    ok = lvm_verify(gateway, "S7", LOT, EXPIRY, corrUUID="c-1")
    assert ok["data"] == {
        "verified": True,
        "verificationFailureReason": None,
        "additionalInfo": None,
    }
    assert ok["corrUUID"] == "c-1" and ok["responderGLN"] == "4012347000014"
    expired = lvm_verify(gateway, "E1", OLD_LOT, OLD_EXPIRY)
    assert expired["data"]["verified"] is True and expired["data"]["additionalInfo"] == "Expired"
    unknown = lvm_verify(gateway, "ZZZ", LOT, EXPIRY)
    assert unknown["data"]["verified"] is False
    assert unknown["data"]["verificationFailureReason"] == "No_match_GTIN_Serial"


@pytest.mark.parametrize(
    ("serial", "lot", "expiry", "failure"),
    [
        ("D2", DAY00_LOT, FULL_EXPIRY, None),
        ("F1", FULL_LOT, DAY00_EXPIRY, None),
        ("D2", DAY00_LOT, "280629", "No_match_Expiry"),
    ],
)
def test_lvm_reads_day_00_as_the_last_day_of_the_month(
    gateway: Gateway, serial: str, lot: str, expiry: str, failure: str | None
) -> None:
    answer = lvm_verify(gateway, serial, lot, expiry)
    assert answer["data"]["verified"] is (failure is None)
    assert answer["data"]["verificationFailureReason"] == failure


def test_digital_link_resolver_verifies_with_link_type_and_describes_otherwise(
    gateway: Gateway,
) -> None:
    path = f"/01/{GTIN}/21/S8?10={LOT}&17={EXPIRY}"
    verified = gateway.client.get(path + "&linkType=gs1:verificationService", headers=CONSOLE)
    assert verified.status_code == 200 and verified.json()["status"] == "VERIFIED"
    assert gateway.client.get(path + "&linkType=gs1:verificationService").status_code == 401
    info = gateway.client.get(path)
    assert info.status_code == 200 and info.json()["product"]["name"].startswith("Amoxicillin")


def poll(fn, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_dispense_then_reverify_flags_possible_clone_and_undo_restores(gateway: Gateway) -> None:
    code = dm("S9")
    done = gateway.client.post("/v1/dispense", json={"codes": [code]}, headers=CONSOLE)
    assert done.status_code == 200, done.text
    assert get(gateway, code, source="chain")["status"] == "DECOMMISSIONED"
    gateway.wait_indexed(done.json()["block_number"])
    again = get(gateway, code)
    assert again["status"] == "DECOMMISSIONED" and again["verdict"] == "red"
    assert again["pack"]["decommission"]["by_name"] == "pharmacy_a"
    assert "already decommissioned (dispensed)" in again["reasons"][0]
    twice = gateway.client.post("/v1/dispense", json={"codes": [code]}, headers=CONSOLE)
    assert twice.status_code == 409 and twice.json()["error"] == "SerialRegistryPackDecommissioned"
    alerts = poll(
        lambda: [
            a
            for a in gateway.client.get("/v1/alerts", headers=CONSOLE).json()["alerts"]
            if a["kind"] == "dispensed_pack_verified" and "S9" in a["message"]
        ],
        "the clone alert",
    )
    assert alerts[0]["severity"] == "critical"
    undone = gateway.client.post("/v1/dispense/undo", json={"codes": [code]}, headers=CONSOLE)
    assert undone.status_code == 200, undone.text
    gateway.wait_indexed(undone.json()["block_number"])
    assert get(gateway, code)["status"] == "VERIFIED"


def test_dispense_of_a_bad_code_is_a_precise_400(gateway: Gateway) -> None:
    r = gateway.client.post("/v1/dispense", json={"codes": ["garbage"]}, headers=CONSOLE)
    assert r.status_code == 400 and "code #1" in r.json()["detail"]


def test_pack_history_follows_the_case_it_travelled_in(gateway: Gateway) -> None:
    r = gateway.client.get("/v1/history/pack", params={"code": dm("C2")}, headers=CONSOLE)
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    names = [s["event"] for s in steps]
    assert names[:2] == ["LotRegistered", "PacksCommissioned"]
    assert names.count("ItemsShipped") == 2 and names.count("ItemsReceived") == 2
    assert all(s["via"] for s in steps if s["event"] in ("ItemsShipped", "ItemsReceived"))
    assert steps[-1]["details"]["by_name"] == "pharmacy_a"
    assert all(s["tx_hash"].startswith("0x") and len(s["tx_hash"]) == 66 for s in steps)


def test_lot_history_counts_packs_and_holders(gateway: Gateway) -> None:
    r = gateway.client.get(f"/v1/history/lot/{GTIN}/{LOT}", headers=CONSOLE)
    body = r.json()
    assert body["status"] == "ACTIVE" and body["pack_count"] == 24
    pharmacy = gateway.world.net.address("pharmacy_a")
    assert body["holders"][pharmacy] >= 15
    assert (
        gateway.client.get(f"/v1/history/lot/{GTIN[:-1]}0/{LOT}", headers=CONSOLE).status_code
        == 400
    )


def test_recall_raises_an_alert_for_the_holder_and_reaches_the_stream_and_webhook(
    gateway: Gateway,
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []  # type: ignore[type-arg]

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    sub = gateway.client.post(
        "/v1/alerts/subscriptions",
        headers=CONSOLE,
        json={"url": f"http://127.0.0.1:{hook.server_port}/hook", "kinds": ["lot_recalled"]},
    )
    assert sub.status_code == 201, sub.text
    with gateway.client.stream(
        "GET", "/v1/alerts/stream", params={"timeout": 20}, headers=CONSOLE
    ) as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith(": rxledger")
        from ledger_client.types import LotStatus

        # the lot's owner recalls at once (a regulator's recall of it takes two regulators)
        gateway.world.net["manufacturer"].set_lot_status(GTIN, "R1", LotStatus.RECALLED)
        event = {}
        for line in lines:
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["kind"] == "lot_recalled":
                    break
    assert (
        event["holder"] == gateway.world.net.address("pharmacy_a") and event["data"]["packs"] == 2
    )
    poll(lambda: received, "the webhook POST")
    assert received[0]["kind"] == "lot_recalled"
    hook.shutdown()
    assert get(gateway, dm("R1", "R1"))["status"] == "RECALLED"


def test_expiry_alerts_list_packs_in_custody_expiring_soon(gateway: Gateway) -> None:
    alerts = gateway.client.get("/v1/alerts", params={"days": 30}, headers=CONSOLE).json()["alerts"]
    expired = [a for a in alerts if a["kind"] == "expired"]
    assert (
        expired and expired[0]["data"]["packs"] == 1 and expired[0]["data"]["expiry"] == OLD_EXPIRY
    )
    far = gateway.client.get(
        "/v1/alerts", params={"days": 3650, "kind": "expiry_soon"}, headers=CONSOLE
    ).json()
    assert {a["data"]["expiry"] for a in far["alerts"]} == {EXPIRY}


def test_health_readiness_and_metrics_without_serials_in_labels(gateway: Gateway) -> None:
    assert gateway.client.get("/healthz").json()["status"] == "ok"
    ready = gateway.client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["checks"]["database_migrated"] is True
    gateway.client.get(f"/01/{GTIN}/21/SERIALX1")
    gateway.client.get("/v1/verify", params={"code": dm("S1")}, headers=CONSOLE)
    metrics = gateway.client.get("/metrics").text
    assert 'handler="/v1/verify"' in metrics and 'handler="/01/{key_path:path}"' in metrics
    assert "SERIALX1" not in metrics and quote(dm("S1")) not in metrics


def test_page_and_openapi_are_served(gateway: Gateway) -> None:
    assert "Scan a pack" in gateway.client.get("/").text
    assert gateway.client.get("/static/app.js").status_code == 200
    paths = gateway.client.get("/openapi.json").json()["paths"]
    assert {"/v1/verify", "/v1/lvm/verify", "/01/{key_path}", "/v1/capture"} <= set(paths)
    assert gateway.client.get("/docs").status_code == 200


def test_an_unknown_path_gets_a_problem_naming_the_request(gateway: Gateway) -> None:
    r = gateway.client.get("/v1/nowhere")
    assert r.status_code == 404
    body = r.json()
    assert body["title"] == "Not Found"
    assert body["detail"] == "GET /v1/nowhere: not found (the API is at /docs)"
    wrong_method = gateway.client.delete("/v1/verify")
    assert wrong_method.status_code == 405 and wrong_method.json()["title"] == "Method Not Allowed"
