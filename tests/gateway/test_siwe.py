"""The EIP-4361 message format: the specification's example messages parse and print back
byte for byte; anything off the ABNF is refused with the line that breaks it."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from gateway.core.siwe import SiweFormatError, SiweMessage, rfc3339, timestamp

ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
BODY = f"""{ADDRESS}

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""
HEADER = " wants you to sign in with your Ethereum account:\n"
#: The three example messages of ERC-4361 ("Examples"): implicit scheme, explicit port,
#: explicit scheme.
SPEC_EXAMPLES = {
    "implicit scheme": ("example.com" + HEADER + BODY, None, "example.com"),
    "explicit port": ("example.com:3388" + HEADER + BODY, None, "example.com:3388"),
    "explicit scheme": ("https://example.com" + HEADER + BODY, "https", "example.com"),
}


@pytest.mark.parametrize("name", SPEC_EXAMPLES)
def test_spec_example_parses_into_its_fields_and_prints_back_identically(name: str) -> None:
    text, scheme, domain = SPEC_EXAMPLES[name]
    message = SiweMessage.parse(text)
    assert message.scheme == scheme and message.domain == domain
    assert message.address == ADDRESS
    assert message.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
    assert message.uri == "https://example.com/login"
    assert message.version == "1" and message.chain_id == 1 and message.nonce == "32891756"
    assert message.issued_at == "2021-09-30T16:25:24Z"
    assert message.expiration_time is None and message.not_before is None
    assert message.request_id is None
    assert message.resources == (
        "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
        "https://example.com/my-web2-claim.json",
    )
    assert message.text() == text


def test_message_with_every_optional_field_and_no_statement_round_trips() -> None:
    message = SiweMessage(
        domain="gw.example:8443",
        address=ADDRESS,
        uri="https://gw.example:8443",
        chain_id=1337,
        nonce="a1b2c3d4e5f6a7b8",
        issued_at="2026-12-01T10:00:00Z",
        scheme="https",
        expiration_time="2026-12-01T10:05:00.500+01:00",
        not_before="2026-12-01T09:59:00Z",
        request_id="req-7",
    )
    text = message.text()
    # no statement: two empty lines between the address and the URI, as the ABNF has it
    assert text.split("\n")[1:5] == [ADDRESS, "", "", "URI: https://gw.example:8443"]
    assert text.endswith(
        "Expiration Time: 2026-12-01T10:05:00.500+01:00\n"
        "Not Before: 2026-12-01T09:59:00Z\nRequest ID: req-7"
    )
    assert SiweMessage.parse(text) == message


def test_signature_over_the_text_recovers_the_address_it_names() -> None:
    account = Account.create()
    text = SPEC_EXAMPLES["implicit scheme"][0].replace(ADDRESS, account.address)
    signature = account.sign_message(encode_defunct(text=text)).signature
    parsed = SiweMessage.parse(text)
    assert Account.recover_message(encode_defunct(text=parsed.text()), signature=signature) == (
        parsed.address
    )


GOOD = SPEC_EXAMPLES["implicit scheme"][0]
BROKEN = [
    ("empty", "", "line 1: expected '[scheme://]domain wants you"),
    ("other header", GOOD.replace("sign in", "log in"), "line 1:"),
    ("path in domain", GOOD.replace("example.com wants", "example.com/x wants"), "line 1:"),
    ("short address", GOOD.replace(ADDRESS, ADDRESS[:-1]), "line 2: '0xC02a"),
    ("bad checksum", GOOD.replace(ADDRESS, ADDRESS.lower()), "line 2: address 0xc02a"),
    ("no empty line", GOOD.replace(ADDRESS + "\n\n", ADDRESS + "\n"), "line 3: expected an"),
    ("CR LF", GOOD.replace("\n", "\r\n"), "LF alone"),
    ("statement with tab", GOOD.replace("I accept", "I\taccept"), "line 4: the statement"),
    ("missing URI", GOOD.replace("URI: https://example.com/login\n", ""), "line 6: expected 'URI"),
    ("bad URI", GOOD.replace("https://example.com/login", "not a uri"), "line 6: URI 'not a"),
    ("version 2", GOOD.replace("Version: 1", "Version: 2"), "line 7: Version '2' is not 1"),
    ("chain id hex", GOOD.replace("Chain ID: 1", "Chain ID: 0x1"), "line 8: Chain ID '0x1'"),
    ("short nonce", GOOD.replace("32891756", "3289175"), "line 9: Nonce '3289175'"),
    ("nonce symbols", GOOD.replace("32891756", "3289-1756"), "line 9: Nonce"),
    ("no issued at", GOOD.replace("Issued At: 2021-09-30T16:25:24Z\n", ""), "line 10:"),
    ("date not RFC 3339", GOOD.replace("2021-09-30T16:25:24Z", "2021-09-30 16:25"), "line 10"),
    ("day 31 of Sept", GOOD.replace("2021-09-30T", "2021-09-31T"), "not a valid date-time"),
    ("offset +24:00", GOOD.replace("16:25:24Z", "16:25:24+24:00"), "offset +24:00 is out of"),
    (
        "fields out of order",
        GOOD.replace(
            "Issued At: 2021-09-30T16:25:24Z",
            "Issued At: 2021-09-30T16:25:24Z\nRequest ID: r\nExpiration Time: 2030-01-01T00:00:00Z",
        ),
        "line 12: unexpected text 'Expiration Time",
    ),
    ("bad resource", GOOD.replace("- https://example.com/my", "- not a uri/my"), "line 13:"),
    ("trailing newline", GOOD + "\n", "line 14: unexpected text ''"),
]


@pytest.mark.parametrize(("case", "text", "error"), BROKEN, ids=[c[0] for c in BROKEN])
def test_text_off_the_abnf_is_refused_naming_the_line(case: str, text: str, error: str) -> None:
    with pytest.raises(SiweFormatError) as caught:
        SiweMessage.parse(text)
    assert error in str(caught.value), case


def test_rfc3339_times_read_with_their_offset_and_fraction() -> None:
    assert timestamp("2021-09-30T16:25:24Z") == 1633019124
    assert timestamp("2021-09-30T18:25:24+02:00") == 1633019124
    assert timestamp("2021-09-30t16:25:24.250z") == 1633019124.25
    assert rfc3339(1633019124.9) == "2021-09-30T16:25:24Z"
