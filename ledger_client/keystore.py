"""Encrypted keys on disk: an eth-account keystore (Web3 Secret Storage JSON) and the file
holding its password, readable by their owner only."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger_client.errors import ConfigurationError

#: scrypt work factors: eth-account's default (about 1 s and 256 MiB to open) and geth's
#: ``--lightkdf`` one, for throwaway dev networks and tests.
STANDARD_SCRYPT_N = 2**18
LIGHT_SCRYPT_N = 2**12


def write_secret(path: Path, text: str) -> Path:
    """Create ``path`` holding ``text`` with mode 0600 (never readable by others, not even
    for a moment); refuse to overwrite an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def write_keystore(
    path: Path, account: LocalAccount, password: str, scrypt_n: int = STANDARD_SCRYPT_N
) -> Path:
    """Write ``account``'s key encrypted with ``password`` to ``path`` (mode 0600)."""
    encrypted = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
    return write_secret(path, json.dumps(encrypted))


def load_keystore(keystore: Path, password_file: Path) -> LocalAccount:
    """The account in ``keystore``, decrypted with the password in ``password_file`` (its
    trailing newline ignored); a :class:`ConfigurationError` says which file is wrong."""
    try:
        encrypted = json.loads(keystore.read_text())
        password = password_file.read_text().rstrip("\r\n")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except json.JSONDecodeError:
        raise ConfigurationError(f"{keystore} is not a keystore (not JSON)") from None
    try:
        key = Account.decrypt(encrypted, password)
    except ValueError:
        raise ConfigurationError(
            f"the password in {password_file} does not open the keystore {keystore}"
        ) from None
    except (KeyError, TypeError, AttributeError):
        raise ConfigurationError(f"{keystore} is not an eth-account keystore") from None
    return Account.from_key(key)
