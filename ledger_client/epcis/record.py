"""Clear EPCIS events for what a member writes without an EPCIS document (the CLI's commands).

The chain holds only hashes; the clear codes the member gave (GTINs, serials, lots, SSCCs,
parties' GLNs) go into the owner's store as the EPCIS event of the operation, stored the way
an import stores a document, and the transaction anchors that event's hash. Exports, DSCSA
TI/TS and audit reports then name the packs, as they do for imported events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from web3 import Web3

from ledger_client.epcis.export import operations_to_events, to_epcis_json
from ledger_client.epcis.mapping import map_document
from ledger_client.epcis.operations import LedgerOperation
from ledger_client.epcis.store import EventStore
from ledger_client.ledger import Ledger
from ledger_client.types import ZERO_HASH

__all__ = ["member_gln", "record"]


def member_gln(ledger: Ledger, account: str) -> str:
    """The 13-digit GLN the consortium holds for member ``account``."""
    gln = ledger.consortium.functions.gln(Web3.to_checksum_address(account)).call()
    return f"{gln:013d}"


def record(store_path: Path, operation: LedgerOperation) -> bytes:
    """Keep the EPCIS event of ``operation`` (timed now) in the owner's store at
    ``store_path``; return its event hash, for the operation's transaction to anchor.

    An operation that EPCIS states in two events (commissioning straight into a case: a
    commissioning and a packing event) anchors the first and keeps both.
    """
    events = operations_to_events([operation], event_time=datetime.now(UTC))
    doc = to_epcis_json(events)
    report = map_document(doc, validate=False)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with EventStore(store_path) as store:
        store.add_document(doc, report)
    return report.events[0].event_hash or ZERO_HASH
