"""The scans of every partner's gateway, gathered for a regulator's anomaly audit.

Each gateway records the verifications it answers, and only those: a clone verified at one
pharmacy's gateway and the genuine pack at another's are two scans in two stores. A
regulator (or a gateway's operator, for its own) reads a gateway's scans at ``/v1/scans``;
:func:`collect_scans` asks every member that publishes a gateway URL on chain, as the
regulator's own member key, and says for each gateway what it gave or why it gave nothing.
Nothing is merged silently: a gateway that is unreachable, refuses or answers something that
is no scan is named, with the scans it gave before that. Given where the last run stopped at
each gateway (``after``: the id of the last scan taken, per member), it asks only for later
scans, and says where this run stopped (:attr:`ScanSource.last`), a failed gateway included:
its scans come oldest first, so those it gave are all it had up to there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from ledger_client.audit.scans import VerificationRecord, parse_scan
from ledger_client.contracts import Deployment
from ledger_client.errors import InvalidInputError
from ledger_client.trace.client import (
    ClientFactory,
    GatewayClient,
    GatewayRefusedError,
    GatewayUnreachableError,
)

__all__ = ["CollectedScans", "ScanSource", "collect_scans"]


@dataclass
class ScanSource:
    """One member's gateway: its URL (None: it publishes none), how the asking went (``ok``,
    ``no gateway``, ``unreachable``, ``refused``, ``invalid``), the scans it gave, why not, and
    the id of the last scan taken from it (``last``; where the run started when it gave none)."""

    member: str
    url: str | None
    status: str = "ok"
    scans: int = 0
    detail: str = ""
    last: int = 0

    @property
    def failed(self) -> bool:
        """True when the gateway exists and did not give all its scans."""
        return self.status not in ("ok", "no gateway")


@dataclass
class CollectedScans:
    """The scans gathered, in the order the gateways gave them (each gateway records only the
    verifications it answered: none is another's), and each gateway's answer."""

    records: list[VerificationRecord] = field(default_factory=list)
    sources: list[ScanSource] = field(default_factory=list)

    @property
    def failed(self) -> list[ScanSource]:
        """The gateways that did not give all their scans."""
        return [s for s in self.sources if s.failed]

    @property
    def after(self) -> dict[str, int]:
        """Per member, the id of the last scan taken from its gateway: where the next run
        starts."""
        return {s.member: s.last for s in self.sources if s.last}


def _members(consortium: Contract) -> list[str]:
    count = int(consortium.functions.memberCount().call())
    return [str(consortium.functions.accountAt(i).call()) for i in range(1, count + 1)]


def collect_scans(
    w3: Web3,
    deployment: Deployment,
    account: LocalAccount,
    *,
    after: Mapping[str, int] | None = None,
    timeout: float = 10.0,
    client_factory: ClientFactory | None = None,
) -> CollectedScans:
    """Ask every member's gateway for its scans as member ``account``, after the scan
    ``after`` gives for the member (see the module docstring)."""
    make_client = client_factory or (lambda url, acct: GatewayClient(url, acct, timeout))
    consortium = deployment.contract(w3, "Consortium")
    out = CollectedScans()
    for member in _members(consortium):
        url = str(consortium.functions.gatewayUrl(Web3.to_checksum_address(member)).call())
        source = ScanSource(member, url or None, last=(after or {}).get(member, 0))
        out.sources.append(source)
        if not url:
            source.status, source.detail = "no gateway", "the member publishes no gateway URL"
            continue
        with make_client(url, account) as client:
            try:
                for row in client.scans(source.last):
                    if not isinstance(row, dict):
                        raise InvalidInputError(f"{url}: a scan that is no object: {row!r:.80}")
                    row_id = row.get("id")
                    if type(row_id) is not int or row_id <= source.last:
                        raise InvalidInputError(
                            f"{url}: scan id {row_id!r} does not follow {source.last}"
                        )
                    fields = {k: v for k, v in row.items() if k != "id"}
                    out.records.append(parse_scan(fields, f"{url} scan {row_id}"))
                    source.scans, source.last = source.scans + 1, row_id
            except GatewayUnreachableError as exc:
                source.status, source.detail = "unreachable", str(exc)
            except GatewayRefusedError as exc:
                source.status, source.detail = "refused", str(exc)
            except InvalidInputError as exc:
                source.status, source.detail = "invalid", str(exc)
    return out
