"""The GS1 Digital Link resolver on a live server: every path form, GTIN padding, precise
refusals, and links written from the configured public URL whatever Host a request names."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from gateway_helpers import (
    CONSOLE,
    DAY00_LOT,
    ELSEWHERE_GTIN,
    ELSEWHERE_URL,
    EXPIRY,
    FOREIGN_GTIN,
    FULL_EXPIRY,
    GTIN,
    LOT,
    ODD_SERIAL,
    PUBLIC_URL,
    UPC_GTIN,
    Gateway,
)

VERIFY = "linkType=gs1:verificationService"
VERIFY_QUERY = "linkType=gs1%3AverificationService"  # as the resolver writes it
SPOOFED = {"Host": "evil.example"}

PACK_FORMS = {
    "serial": (f"/01/{GTIN}/21/S14", None),
    "lot and serial": (f"/01/{GTIN}/10/{LOT}/21/S14", LOT),
    "CPV, lot and serial": (f"/01/{GTIN}/22/BLUE/10/{LOT}/21/S14", LOT),
    "CPV and serial": (f"/01/{GTIN}/22/BLUE/21/S14", None),
    "GTIN-13": (f"/01/{GTIN[1:]}/10/{LOT}/21/S14", LOT),
    "lot in the query, the pre-1.0 way": (f"/01/{GTIN}/21/S14?10={LOT}", LOT),
}


@pytest.mark.parametrize("form", PACK_FORMS)
def test_every_path_form_of_a_pack_verifies_it(gateway: Gateway, form: str) -> None:
    path, lot = PACK_FORMS[form]
    query = f"17={EXPIRY}&{VERIFY}"
    r = gateway.client.get(path + ("&" if "?" in path else "?") + query, headers=CONSOLE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["gtin"], body["serial"], body["lot"]) == (
        "VERIFIED",
        GTIN,
        "S14",
        lot,
    )
    lot_path = f"/10/{lot}" if lot else ""
    assert body["code"] == f"{PUBLIC_URL}/01/{GTIN}{lot_path}/21/S14?17={EXPIRY}"


@pytest.mark.parametrize(
    ("path", "key", "canonical"),
    [
        (f"/01/{GTIN}", (GTIN, None, None, None), None),
        (f"/01/{GTIN[1:]}", (GTIN, None, None, None), None),
        (f"/01/{GTIN}/10/{LOT}", (GTIN, None, LOT, None), None),
        (
            f"/01/{GTIN[1:]}/22/BLUE/10/{LOT}/21/S14",
            (GTIN, "BLUE", LOT, "S14"),
            f"/01/{GTIN}/22/BLUE/10/{LOT}/21/S14",
        ),
        # this product names this gateway (with a trailing /): described, not redirected
        (f"/01/{UPC_GTIN[2:]}/21/U1", (UPC_GTIN, None, None, "U1"), f"/01/{UPC_GTIN}/21/U1"),
    ],
)
def test_every_path_form_describes_the_product_under_its_gtin_14(
    gateway: Gateway, path: str, key: tuple[str | None, ...], canonical: str | None
) -> None:
    r = gateway.client.get(path)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["gtin"], body["cpv"], body["lot"], body["serial"]) == key
    assert body["product"]["name"]
    verification = f"{PUBLIC_URL}{canonical}?{VERIFY_QUERY}" if canonical else None
    assert body["links"]["gs1:verificationService"] == verification


def test_a_percent_encoded_serial_is_decoded_segment_by_segment(gateway: Gateway) -> None:
    serial = quote(ODD_SERIAL, safe="")
    path = f"/01/{GTIN}/10/{DAY00_LOT}/21/{serial}?17={FULL_EXPIRY}&{VERIFY}"
    body = gateway.client.get(path, headers=CONSOLE).json()
    # the lot was registered with 280600: its expiry written in full matches
    assert (body["status"], body["serial"]) == ("VERIFIED", ODD_SERIAL)


def test_a_gtin_12_verifies_as_its_gtin_14(gateway: Gateway) -> None:
    body = gateway.client.get(f"/01/{UPC_GTIN[2:]}/21/U1?{VERIFY}", headers=CONSOLE).json()
    assert (body["status"], body["gtin"]) == ("VERIFIED", UPC_GTIN)


INVALID = {
    f"/01/{GTIN[:-1]}9/21/S1": "wrong check digit: expected 2, found 9",
    "/01/95060001343/21/S1": "must be 8, 12, 13 or 14 digits",
    f"/01/{GTIN}/21/S1/10/{LOT}": "out of order: (10) after (21)",
    f"/01/{GTIN}/17/280600/21/S1": "expiry date (17) is a data attribute",
    f"/01/{GTIN}/99/X/21/S1": "AI (99) INTERNAL is a data attribute",
    f"/01/{GTIN}/ser/S1": "'ser' is a pre-1.0 short name: write /21/",
    f"/01/{GTIN}/235/X1": "'235' is not a key qualifier this resolver reads",
    f"/01/{GTIN}/21/S1/": "empty segment",
    f"/01/{GTIN}/21": "AI (21) has no value",
    f"/01/{GTIN}/21/%FF": "does not decode as UTF-8",
    f"/01/{GTIN}/21/A%20B": "not in the GS1 character set 82",
    f"/01/{GTIN}/21/{'S' * 21}": "at most 20 are allowed",
    f"/01/{GTIN}/21/S1?17=280631": "day 31 is not valid for June 2028",
    f"/01/{GTIN}/10/{LOT}/21/S1?10=OTHER": "'L1' in the path but 'OTHER' in the query",
    f"/01/{GTIN}/10/{LOT}?{VERIFY}": "verification needs a serial number",
}


@pytest.mark.parametrize("path", INVALID)
def test_an_invalid_link_is_a_400_saying_what_is_wrong(gateway: Gateway, path: str) -> None:
    r = gateway.client.get(path, headers=CONSOLE)
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["title"] == "Invalid Digital Link" and problem["status"] == 400
    assert INVALID[path] in problem["detail"]


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        (f"/01/{FOREIGN_GTIN}/21/S1", f"GTIN {FOREIGN_GTIN} is not in the product directory"),
        (f"/01/{GTIN}/21/S1?linkType=gs1:epil", f"no link of type gs1:epil for GTIN {GTIN}"),
    ],
)
def test_a_valid_link_to_nothing_is_a_404_saying_why(
    gateway: Gateway, path: str, detail: str
) -> None:
    r = gateway.client.get(path)
    assert r.status_code == 404 and r.json()["detail"] == detail


def test_links_are_written_from_the_public_url_never_the_host_header(gateway: Gateway) -> None:
    info = gateway.client.get(f"/01/{GTIN}/21/S14?17={EXPIRY}", headers=SPOOFED)
    link = info.json()["links"]["gs1:verificationService"]
    assert link == f"{PUBLIC_URL}/01/{GTIN}/21/S14?17={EXPIRY}&{VERIFY_QUERY}"
    verified = gateway.client.get(f"/01/{GTIN}/21/S14?{VERIFY}", headers={**CONSOLE, **SPOOFED})
    assert verified.json()["code"] == f"{PUBLIC_URL}/01/{GTIN}/21/S14"
    for r in (info, verified):
        assert "evil.example" not in r.text and "location" not in r.headers


def test_redirect_goes_to_the_owner_s_gateway_with_the_canonical_path(gateway: Gateway) -> None:
    r = gateway.client.get(f"/01/{ELSEWHERE_GTIN[1:]}/21/X1?17={EXPIRY}", headers=SPOOFED)
    assert r.status_code == 307
    assert r.headers["location"] == f"{ELSEWHERE_URL}/01/{ELSEWHERE_GTIN}/21/X1?17={EXPIRY}"
    described = gateway.client.get(f"/01/{ELSEWHERE_GTIN}/21/X1?linkType=gs1:pip")
    assert described.status_code == 200
    assert described.json()["links"]["gs1:pip"] == ELSEWHERE_URL


@pytest.mark.parametrize("path", ["/v1/verify/", "/01", "/healthz/"])
def test_no_slash_redirect_echoes_the_host_header(gateway: Gateway, path: str) -> None:
    r = gateway.client.get(path, headers={**CONSOLE, **SPOOFED})
    assert r.status_code == 404 and "location" not in r.headers
    assert "evil.example" not in r.text
