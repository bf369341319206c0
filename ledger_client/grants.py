"""The current access grants of a deployment, folded from the chain's ``AccessGranted`` and
``AccessRevoked`` events (the contract keeps no list of them)."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from ledger_client.contracts import Deployment
from ledger_client.events import AccessGranted, AccessRevoked, ChainEvent, decode, project
from ledger_client.logs import raw_logs


@dataclass(frozen=True)
class GrantRecord:
    """A grant as its last event left it: ``by`` made it (the Consortium contract for the
    council); ``expires_at`` 0: until revoked."""

    lot_id: bytes
    grantee: str
    by: str
    expires_at: int
    block_number: int

    def live_at(self, when: float) -> bool:
        """True if the grant has not expired at time ``when``."""
        return self.expires_at == 0 or self.expires_at > when


class GrantBook:
    """The grants not revoked, by (lot id, grantee): a projection of the event stream."""

    def __init__(self) -> None:
        self.grants: dict[tuple[bytes, str], GrantRecord] = {}

    def apply(self, event: ChainEvent) -> None:
        """Fold one event in (others are ignored)."""
        match event:
            case AccessGranted():
                key = (event.lot_id, event.grantee)
                self.grants[key] = GrantRecord(*key, event.by, event.expires_at, event.block_number)
            case AccessRevoked():
                self.grants.pop((event.lot_id, event.grantee), None)


def read_grants(w3: Web3, deployment: Deployment) -> GrantBook:
    """The deployment's current grants, read from its ``AccessGrants`` contract's logs."""
    logs = w3.eth.get_logs(
        {
            "fromBlock": deployment.block,
            "toBlock": "latest",
            "address": Web3.to_checksum_address(deployment.grants),
        }
    )
    book = GrantBook()
    project(decode(raw_logs(w3, logs)), book)
    return book
