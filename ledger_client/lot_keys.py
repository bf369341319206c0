"""Lot keys: the secret each producer keys its lots' ids with (see
:func:`ledger_client.ids.lot_hash`), kept off chain.

A lot key file is JSON, ``{"<member address>": "<64 hex digits>", ...}``: the keys its holder
has, by the address of the member whose lots they key. A producer's holds its own; a
regulator's holds those the producers gave it, so it can recall a lot by its printed code. A
member without an owner's key finds that owner's lots through one of their packs
(:meth:`ledger_client.ledger.Ledger.lot_of_pack`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from ledger_client.errors import InvalidInputError
from ledger_client.ids import LOT_KEY_BYTES, check_lot_key
from ledger_client.inputs import read_text
from ledger_client.keystore import write_secret


def new_lot_key() -> bytes:
    """A fresh random lot key."""
    return secrets.token_bytes(LOT_KEY_BYTES)


def read_lot_keys(path: Path) -> dict[str, bytes]:
    """The lot keys in file ``path``, by checksummed member address; raise
    :class:`InvalidInputError` saying what is wrong with it."""
    what = f"lot key file {path}"
    try:
        entries = json.loads(read_text(path, "lot key file"))
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{what} is not JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(entries, dict):
        raise InvalidInputError(f'{what} should be a JSON object {{"<address>": "<key>"}}')
    keys: dict[str, bytes] = {}
    for address, text in entries.items():
        if not Web3.is_address(address):
            raise InvalidInputError(f"{what}: {address!r} is not a member address")
        try:
            key = check_lot_key(bytes.fromhex(str(text).removeprefix("0x")))
        except (ValueError, InvalidInputError):
            raise InvalidInputError(
                f"{what}: the key of {address} is not {2 * LOT_KEY_BYTES} hex digits"
            ) from None
        keys[Web3.to_checksum_address(address)] = key
    return keys


def write_lot_keys(path: Path, keys: Mapping[str, bytes]) -> None:
    """Write ``keys`` (member address -> lot key) to the new file ``path``, readable by its
    owner only."""
    write_secret(path, json.dumps({a: "0x" + k.hex() for a, k in keys.items()}, indent=2) + "\n")


def keys_by_index(keys: Mapping[str, bytes], consortium: Contract) -> dict[int, bytes]:
    """``keys`` (member address -> lot key) by each member's index, the scope of its ids;
    raise :class:`InvalidInputError` for an address that is no member."""
    out = {}
    for address, key in keys.items():
        index = int(consortium.functions.member(address).call()[1])
        if index == 0:
            raise InvalidInputError(
                f"lot key of {address}: that address is no member (after a key rotation, name"
                " the member's new address in the lot key file)"
            )
        out[index] = key
    return out


def ledger_keys(
    path: Path | None, account: str, consortium: Contract
) -> tuple[bytes | None, dict[int, bytes]]:
    """The lot keys of file ``path`` (none when None) for member ``account``'s ledger: its
    own key, and the others by member index (``Ledger(lot_key=..., lot_keys=...)``)."""
    held = read_lot_keys(path) if path is not None else {}
    own = held.pop(Web3.to_checksum_address(account), None)
    return own, keys_by_index(held, consortium)
