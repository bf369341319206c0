"""Read what a command is given: text files (or stdin), private keys, account addresses and
times.

Every failure is an :class:`InvalidInputError` that names the input and the problem.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_checksum_address, to_checksum_address

from ledger_client.errors import InvalidInputError

J = TypeVar("J", list[Any], dict[str, Any])

_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def source_name(path: Path) -> str:
    """How messages name ``path``: ``stdin`` for ``-``."""
    return "stdin" if str(path) == "-" else str(path)


def read_text(path: Path, what: str = "file") -> str:
    """Return the text of ``path`` (``-`` reads standard input).

    Raises :class:`InvalidInputError` when the file is missing, a directory, unreadable or
    not UTF-8 text; ``what`` says which input it is (``"--key-file"``, ``"members file"``).
    """
    try:
        if str(path) == "-":
            return sys.stdin.read()
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{what} {path}: is a directory, not a file") from None
    except PermissionError:
        raise InvalidInputError(f"{what} {path}: permission denied") from None
    except OSError as exc:
        raise InvalidInputError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise InvalidInputError(
            f"{what} {source_name(path)}: not UTF-8 text (byte {exc.start} is {byte:#04x})"
        ) from None


def read_bytes(path: Path, what: str = "file") -> bytes:
    """Return the bytes of ``path``; :class:`InvalidInputError` as :func:`read_text` says."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{what} {path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInputError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None


def lines_of(text: str) -> list[str]:
    """The physical lines of ``text``: split at newlines only, unlike ``str.splitlines``, which
    also splits at the GS1 group separator (``\\x1d``) inside DataMatrix text."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def load_json(text: str, kind: type[J], not_json: str, not_kind: str) -> J:
    """Return the JSON value ``text``, a ``kind`` (``list`` or ``dict``); else raise
    :class:`InvalidInputError`: ``"{not_json}: {the JSON error} (column n)"``, or ``not_kind``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{not_json}: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, kind):
        raise InvalidInputError(not_kind)
    return value


def account_from_key(text: str, source: str) -> LocalAccount:
    """Return the account of the hex private key ``text`` (64 hex digits, ``0x`` optional).

    ``source`` names where the key came from; the key itself is never shown.
    """
    key = text.strip()
    if not key:
        raise InvalidInputError(f"{source} is empty: it should hold a private key")
    if key.startswith("{"):
        raise InvalidInputError(
            f"{source} looks like an encrypted keystore (JSON): give the hex private key"
        )
    if not _KEY.fullmatch(key):
        raise InvalidInputError(
            f"{source} holds no private key: expected 64 hex digits, 0x optional"
        )
    try:
        return Account.from_key(key)
    except ValueError:
        raise InvalidInputError(f"{source}: not a valid secp256k1 private key") from None


def parse_address(text: str, what: str) -> str:
    """Return ``text`` as a checksummed account address; lowercase (or uppercase) hex is
    accepted, mixed case must be the EIP-55 checksum."""
    if not _ADDRESS.fullmatch(text):
        raise InvalidInputError(f"{what} {text!r} is not an address: 0x and 40 hex digits")
    digits = text[2:]
    if digits not in (digits.lower(), digits.upper()) and not is_checksum_address(text):
        raise InvalidInputError(
            f"{what} {text}: wrong EIP-55 checksum (mixed case); check it, or give it in lowercase"
        )
    return to_checksum_address(text)


def resolve_member(text: str, names: Mapping[str, str], what: str) -> str:
    """Return the address ``text`` names: a member name of ``names`` (any case) or an
    address (see :func:`parse_address`)."""
    by_name = {name.lower(): address for name, address in names.items()}
    if text.lower() in by_name:
        return to_checksum_address(by_name[text.lower()])
    if text.startswith(("0x", "0X")):
        return parse_address(text, what)
    known = f"a member name ({', '.join(names)}) or" if names else "a member's"
    raise InvalidInputError(
        f"{what} {text!r} is unknown: give {known} address (0x and 40 hex digits)"
    )


def parse_time(text: str, what: str) -> int:
    """Return the Unix time ``text`` names: Unix seconds, or ISO 8601 (a date, or a date and
    time with an offset such as ``Z`` or ``-05:00``; UTC when it names none)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"{what} {text!r} is not a time: give ISO 8601 (2027-01-15, 2027-01-15T09:00Z,"
            " 2027-01-15T09:00-05:00) or Unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
