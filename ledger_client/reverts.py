"""Turn a contract's revert data into a Python exception naming the custom error."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_bytes

from ledger_client.errors import RxLedgerError


class LedgerRevertError(RxLedgerError):
    """Raised when a contract call reverts; ``error`` names the custom error, ``args_by_name``
    its values."""

    def __init__(self, error: str, args: dict[str, Any], data: bytes) -> None:
        self.error = error
        self.args_by_name = args
        self.data = data
        #: ledger id -> the caller's own code for it (GTIN + serial, SSCC, lot), for messages
        self.codes: dict[bytes, str] = {}
        shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
        super().__init__(f"{error}({shown})")


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else repr(value)


def _type_of(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


class RevertDecoder:
    """Decodes revert data against the custom errors of a set of ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        for abi in abis:
            for item in abi:
                if item["type"] != "error":
                    continue
                types = [_type_of(i) for i in item["inputs"]]
                selector = function_signature_to_4byte_selector(
                    f"{item['name']}({','.join(types)})"
                )
                self._errors[selector] = (item["name"], [i["name"] for i in item["inputs"]], types)
        # Solidity's built-in Error(string) and Panic(uint256)
        self._errors[bytes.fromhex("08c379a0")] = ("Error", ["message"], ["string"])
        self._errors[bytes.fromhex("4e487b71")] = ("Panic", ["code"], ["uint256"])

    def decode(self, data: bytes | str | None) -> LedgerRevertError:
        """Return the exception for revert ``data`` (hex or bytes)."""
        raw = to_bytes(hexstr=data) if isinstance(data, str) else (data or b"")
        known = self._errors.get(raw[:4])
        if known is None:
            return LedgerRevertError("UnknownRevert", {"data": raw}, raw)
        name, names, types = known
        try:
            values = decode(types, raw[4:])
        except Exception:  # noqa: BLE001 - malformed revert data is reported, not raised
            return LedgerRevertError(name, {"data": raw[4:]}, raw)
        return LedgerRevertError(name, dict(zip(names, values, strict=True)), raw)


_TESTER_PREFIX = "execution reverted: "


def revert_data(exc: BaseException) -> bytes | str | None:
    """Return the revert data carried by a web3 or eth-tester exception, if any.

    JSON-RPC nodes give it as ``exc.data``; web3's in-process eth-tester provider keeps the
    bytes on the exception it re-raised from, and puts their repr in the message
    (``execution reverted: b'...'``).
    """
    data = getattr(exc, "data", None)
    if isinstance(data, (bytes, str)):
        return data
    # The provider re-raises eth-tester's error with a message that decodes any revert data
    # as a string when it can (custom errors with a string first do): the raw bytes are on
    # the exception it was handling.
    context = exc.__context__
    while context is not None:
        first = context.args[0] if context.args else None
        if isinstance(first, bytes):
            return first
        context = context.__context__
    message = str(exc.args[0]) if exc.args else ""
    if message.startswith(_TESTER_PREFIX + "b"):
        try:
            parsed = ast.literal_eval(message[len(_TESTER_PREFIX) :])
        except (ValueError, SyntaxError):
            return None
        return parsed if isinstance(parsed, bytes) else None
    return None
