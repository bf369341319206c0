"""One exception root: every exception class of the gateway and the client is an RxLedgerError,
with the builtin a caller would catch as its twin where one fits."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import gateway
import ledger_client
from gateway.core.security import TokenError, TokenExpiredError
from gateway.core.siwe import SiweFormatError
from gateway.services.auth import AuthError
from gateway.services.relayer import RelayPolicyError, RelayRefusedError
from gateway.services.throttle import ThrottledError
from gateway.services.webhooks import WebhookTargetError
from ledger_client.errors import DuplicateInBatchError, RxLedgerError
from ledger_client.reverts import LedgerRevertError


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for package in (gateway, ledger_client):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in info.name or info.name.endswith("__main__"):  # scripts
                continue
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__ == info.name:
                    found.append(cls)
    return found


def test_every_exception_class_is_an_rxledger_error_raised_when_something() -> None:
    classes = _exception_classes()
    assert AuthError in classes and DuplicateInBatchError in classes
    for cls in classes:
        if issubclass(cls, Warning):  # warnings are told, not raised
            assert (cls.__doc__ or "").startswith("Warned when"), cls
            continue
        assert issubclass(cls, RxLedgerError), cls
        assert (cls.__doc__ or "").startswith("Raised when"), cls


@pytest.mark.parametrize(
    ("error", "twin"),
    [
        (AuthError, PermissionError),
        (TokenError, ValueError),
        (TokenExpiredError, TokenError),
        (SiweFormatError, ValueError),
        (WebhookTargetError, ValueError),
        (RelayPolicyError, ValueError),
        (RelayRefusedError, LedgerRevertError),
        (DuplicateInBatchError, ValueError),
    ],
)
def test_errors_have_the_builtin_a_caller_would_catch(
    error: type[Exception], twin: type[Exception]
) -> None:
    assert issubclass(error, twin)


def test_a_client_side_duplicate_is_no_contract_revert() -> None:
    assert not issubclass(DuplicateInBatchError, LedgerRevertError)
    assert not issubclass(ThrottledError, ValueError)
