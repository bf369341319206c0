"""GS1 expiry dates as the chain reads them: now :mod:`ledger_client.gs1.dates`, named here too."""

from ledger_client.gs1.dates import end_of_day, expiry_yymmdd, same_day

__all__ = ["end_of_day", "expiry_yymmdd", "same_day"]
