"""Private keys, addresses and member names as commands take them."""

from __future__ import annotations

import pytest

from ledger_client.chain import dev_account
from ledger_client.errors import InvalidInputError
from ledger_client.inputs import (
    account_from_key,
    lines_of,
    load_json,
    parse_address,
    resolve_member,
)

ACCOUNT = dev_account("pharmacy_a")
KEY = bytes(ACCOUNT.key).hex()


@pytest.mark.parametrize("text", [KEY, "0x" + KEY, f"  0x{KEY.upper()}\n"])
def test_a_hex_key_with_or_without_0x_gives_its_account(text: str) -> None:
    assert account_from_key(text, "RXLEDGER_KEY").address == ACCOUNT.address


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "RXLEDGER_KEY is empty"),
        ('{"crypto": {}}', "looks like an encrypted keystore"),
        (KEY[:-2], "holds no private key: expected 64 hex digits"),
        ("0" * 64, "not a valid secp256k1 private key"),
    ],
)
def test_a_bad_key_is_named_without_showing_it(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        account_from_key(text, "RXLEDGER_KEY")
    assert not text or text not in str(caught.value)


@pytest.mark.parametrize(
    "text", [ACCOUNT.address, ACCOUNT.address.lower(), "0x" + ACCOUNT.address[2:].upper()]
)
def test_checksummed_lowercase_and_uppercase_addresses_are_accepted(text: str) -> None:
    assert parse_address(text, "--to") == ACCOUNT.address


def test_a_mixed_case_address_with_a_wrong_checksum_is_refused() -> None:
    i = next(i for i, c in enumerate(ACCOUNT.address) if i > 1 and c.isalpha())
    wrong = ACCOUNT.address[:i] + ACCOUNT.address[i].swapcase() + ACCOUNT.address[i + 1 :]
    with pytest.raises(InvalidInputError, match="wrong EIP-55 checksum"):
        parse_address(wrong, "--to")


def test_member_names_match_in_any_case_and_unknown_names_list_the_known_ones() -> None:
    names = {"pharmacy_a": ACCOUNT.address.lower()}
    assert resolve_member("Pharmacy_A", names, "--to") == ACCOUNT.address
    with pytest.raises(InvalidInputError, match=r"give a member name \(pharmacy_a\) or address"):
        resolve_member("pharmacy_b", names, "--to")


def test_lines_split_at_newlines_only_and_keep_gs1_group_separators() -> None:
    assert lines_of("0109506000134352\x1d21A1\r\n\nx") == ["0109506000134352\x1d21A1", "", "x"]


def test_load_json_returns_a_value_of_the_kind_asked_or_names_the_problem() -> None:
    assert load_json('["0x", 1]', list, "ARGS is not JSON", "not a list") == ["0x", 1]
    assert load_json('{"code": "x"}', dict, "f:1: not JSON", "not an object") == {"code": "x"}
    with pytest.raises(InvalidInputError) as caught:
        load_json("[1", list, "ARGS is not JSON", "not a list")
    assert str(caught.value).startswith("ARGS is not JSON: Expecting ")
    assert str(caught.value).endswith("(column 3)")
    with pytest.raises(InvalidInputError, match="^not a list$"):
        load_json('{"a": 1}', list, "ARGS is not JSON", "not a list")
