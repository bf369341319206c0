"""GS1 codes for generated data (demo, simulation, benchmarks): a check digit appended."""

from __future__ import annotations

from ledger_client.ids import with_check_digit


def sscc(extension: int, prefix: str, reference: int) -> str:
    """Return the SSCC-18 of ``extension``, company ``prefix`` and serial ``reference``."""
    return with_check_digit(f"{extension}{prefix}{reference:0{16 - len(prefix)}d}")
