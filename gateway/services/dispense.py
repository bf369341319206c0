"""The pharmacy page's writes: which packs a list of scans names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gateway.services.verify import parse_pack
from ledger_client.errors import InvalidCodeError
from ledger_client.explain import code_map
from ledger_client.gs1 import PackCode
from ledger_client.owners import CodeOwners
from ledger_client.reverts import LedgerRevertError


def packs_of(codes: list[str]) -> list[tuple[str, str]]:
    """Parse scans into (GTIN, serial) pairs; raise InvalidCodeError naming the bad scan."""
    packs = []
    for i, text in enumerate(codes):
        try:
            code = parse_pack(text).code
        except InvalidCodeError as exc:
            raise InvalidCodeError(f"code #{i + 1}: {exc}") from None
        assert isinstance(code, PackCode)
        packs.append((code.gtin, code.serial))
    if len(set(packs)) != len(packs):
        raise InvalidCodeError("the same pack is listed twice")
    return packs


@contextmanager
def named(packs: list[tuple[str, str]], owners: CodeOwners) -> Iterator[None]:
    """Let a refusal of a write on ``packs`` name them by their codes, not their ledger ids
    (the ids of their genuine records, under ``owners``)."""
    try:
        yield
    except LedgerRevertError as exc:
        exc.codes = code_map(packs=packs, owners=owners)
        raise
