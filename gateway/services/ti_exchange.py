"""The DSCSA exchange between gateways: a seller's gateway serves the transaction information
and statement (TI/TS) of its shipments to their recipients; a buyer's gateway fetches them on
receipt, checks them against the chain and keeps them.

Serving (:func:`seller_ti`): the shipment is named by its transaction hash; the chain (this
gateway's index) says who sent it to whom. Only its recipient and regulators (and the
operator) get it; it must be the operator's own shipment of a case or pallet.

Fetching: the indexer hook :class:`ReceiptQueue` queues, for every receipt the operator
signs, the shipment that brought each received unit; :class:`TiFetcher` fetches each queued
shipment's TI/TS from the seller's gateway (URL from the consortium), signing in with the
operator's key, checks it (:func:`mismatch`) and stores it, retrying with back-off and
logging each failure; ``GET /v1/ti`` reports every entry with its status and last error.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.orm import Session

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.projection import AppliedEvent
from gateway.services.access import reads_everything
from gateway.services.auth import AuthError, Principal
from gateway.services.background import BackgroundLoop
from gateway.services.chain import Chain
from gateway.services.history import event_of
from gateway.services.readmodel import ReadModel
from ledger_client import events as ev
from ledger_client.epcis.dscsa import ShipmentNotFoundError, transaction_information
from ledger_client.epcis.store import EventStore
from ledger_client.errors import RxLedgerError
from ledger_client.trace.client import GatewayClient, GatewayRefusedError, GatewayUnreachableError
from ledger_client.types import ZERO_HASH

log = get_logger("rxledger.ti")

#: Longest wait between two attempts at one shipment's TI, in seconds.
MAX_BACKOFF = 600.0


class TiNotFoundError(RxLedgerError, LookupError):
    """Raised when this gateway serves no TI for a shipment (HTTP 404)."""


def _shipment(session: Session, tx: bytes) -> ev.ItemsShipped | None:
    row = session.execute(
        select(m.ChainEvent)
        .where(m.ChainEvent.tx_hash == tx, m.ChainEvent.name == "ItemsShipped")
        .order_by(m.ChainEvent.id)
        .limit(1)
    ).scalar()
    event = event_of(row) if row is not None else None
    return event if isinstance(event, ev.ItemsShipped) else None


def _row(row: Any) -> m.ChainEvent:
    """A Core result row of ``chain_events`` as the ORM object :func:`event_of` reads."""
    mapping = dict(row._mapping)
    return m.ChainEvent(**{k: v for k, v in mapping.items() if k != "id"})


def seller_ti(
    chain: Chain,
    readmodel: ReadModel,
    engine: Engine,
    store_path: Path,
    principal: Principal,
    tx: bytes,
) -> dict[str, Any]:
    """The TI/TS of the operator's shipment in transaction ``tx`` for ``principal``: 404 if
    the index holds no such shipment by the operator of a unit, 403 unless the caller is its
    recipient, a regulator or the operator."""
    operator = chain.operator.address if chain.operator else None
    with Session(engine) as conn:
        shipment = _shipment(conn, tx)
    what = f"transaction 0x{tx.hex()}"
    if shipment is None or shipment.from_ != operator:
        raise TiNotFoundError(
            f"{what} holds no shipment by this gateway's operator (indexed so far)"
        )
    if principal.address != shipment.to and not reads_everything(principal, operator):
        raise AuthError(
            403,
            f"the shipment in {what} went to {shipment.to}; {principal.address} is neither its"
            " recipient nor a regulator",
        )
    if not shipment.unit_ids or not store_path.exists():
        raise TiNotFoundError(f"the shipment in {what} moved no case or pallet this store knows")
    readmodel.refresh(readmodel.indexed_block())  # the prefix owners the index knows now
    with EventStore(store_path) as store:
        ssccs = store.identifiers(readmodel.owners.index, readmodel.owners.lot_keys).units
        sscc = next((ssccs[u] for u in shipment.unit_ids if u in ssccs), None)
        if sscc is None:
            raise TiNotFoundError(f"this store holds no clear SSCC of the units shipped in {what}")
        try:
            keys = readmodel.owners.lot_keys
            return transaction_information(chain.w3, chain.deployment, store, sscc, tx, keys)
        except ShipmentNotFoundError as exc:
            raise TiNotFoundError(str(exc)) from None


@dataclass
class ReceiptQueue:
    """Indexer hook: queue the shipment behind each unit the operator received."""

    operator: str

    def __call__(self, conn: Connection, applied: Sequence[AppliedEvent]) -> None:
        for item in applied:
            event = item.event
            if not isinstance(event, ev.ItemsReceived) or event.by != self.operator:
                continue
            for unit in event.unit_ids:
                self._queue(conn, unit)

    def _queue(self, conn: Connection, unit: bytes) -> None:
        row = conn.execute(
            select(m.ChainEvent)
            .join(m.EventItem, m.EventItem.event_id == m.ChainEvent.id)
            .where(m.EventItem.item_id == unit, m.ChainEvent.name == "ItemsShipped")
            .order_by(m.ChainEvent.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return
        shipment = event_of(_row(row))
        if not isinstance(shipment, ev.ItemsShipped) or shipment.to != self.operator:
            return
        known = conn.execute(
            select(m.ReceivedTransactionInformation.shipment_tx).where(
                m.ReceivedTransactionInformation.shipment_tx == shipment.tx_hash
            )
        ).first()
        if known is not None:
            return
        now = time.time()
        conn.execute(
            insert(m.ReceivedTransactionInformation).values(
                shipment_tx=shipment.tx_hash,
                seller=shipment.from_,
                event_hash=shipment.event_hash if shipment.event_hash != ZERO_HASH else None,
                shipped_at=shipment.timestamp,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def mismatch(
    doc: dict[str, Any], entry: m.ReceivedTransactionInformation, buyer: str
) -> str | None:
    """Why a TI document does not describe the queued shipment as the chain holds it."""
    try:
        ti = doc["transaction_information"]
        found = {
            "transaction_hash": ti["transaction_hash"],
            "seller": ti["seller"]["account"],
            "buyer": ti["buyer"]["account"],
            "event_hash": ti["event_hash"],
            "recorded_on_chain": ti["recorded_on_chain"],
        }
        doc["transaction_statement"]["text"]  # noqa: B018 - the statement must be there
    except (KeyError, TypeError) as exc:
        return f"not a TI/TS document: no {exc}"
    expected = {
        "transaction_hash": "0x" + bytes(entry.shipment_tx).hex(),
        "seller": entry.seller,
        "buyer": buyer,
        "event_hash": "0x" + bytes(entry.event_hash).hex() if entry.event_hash else None,
        "recorded_on_chain": datetime.fromtimestamp(entry.shipped_at, UTC).isoformat(
            timespec="seconds"
        ),
    }
    wrong = [
        f"{k} is {found[k]!r}, the chain says {v!r}" for k, v in expected.items() if found[k] != v
    ]
    return "; ".join(wrong) or None


class TiFetcher(BackgroundLoop):
    """Fetches the queued shipments' TI/TS from the sellers' gateways, with retries."""

    def __init__(
        self, engine: Engine, chain: Chain, account: LocalAccount, retry_seconds: float
    ) -> None:
        super().__init__("rxledger-ti")
        self.engine = engine
        self.chain = chain
        self.account = account
        self.retry_seconds = retry_seconds

    def _run(self) -> None:
        while not self._stop.wait(self.retry_seconds / 4):
            try:
                self.round()
            except Exception as exc:  # noqa: BLE001 - the loop must survive a bad round
                log.error("TI fetch round failed", error=repr(exc))

    def round(self) -> int:
        """Try every entry that is due; return how many were stored."""
        with Session(self.engine) as session:
            due = list(
                session.execute(
                    select(m.ReceivedTransactionInformation).where(
                        m.ReceivedTransactionInformation.status != "stored",
                        m.ReceivedTransactionInformation.next_attempt_at <= time.time(),
                    )
                ).scalars()
            )
            session.expunge_all()
        return sum(self._attempt(entry) for entry in due)

    def _attempt(self, entry: m.ReceivedTransactionInformation) -> bool:
        tx = bytes(entry.shipment_tx)
        doc: dict[str, Any] | None = None
        url = str(self.chain.consortium.functions.gatewayUrl(entry.seller).call())
        if not url:
            error = f"the seller {entry.seller} publishes no gateway URL on chain"
        else:
            try:
                with GatewayClient(url, self.account) as client:
                    doc = client.transaction_information(tx)
                error = mismatch(doc, entry, self.account.address) or ""
            except (GatewayUnreachableError, GatewayRefusedError) as exc:
                error = f"{url}: {exc}"
        values: dict[str, Any] = {"attempts": entry.attempts + 1}
        if error:
            delay = min(self.retry_seconds * 2**entry.attempts, MAX_BACKOFF)
            values |= {
                "status": "failed",
                "last_error": error,
                "next_attempt_at": time.time() + delay,
            }
            log.warning("TI fetch failed", shipment="0x" + tx.hex(), error=error, retry_in=delay)
        else:
            values |= {
                "status": "stored",
                "last_error": None,
                "document": doc,
                "fetched_at": time.time(),
            }
            log.info("TI stored", shipment="0x" + tx.hex(), seller=entry.seller)
        with self.engine.begin() as conn:
            conn.execute(
                update(m.ReceivedTransactionInformation)
                .where(m.ReceivedTransactionInformation.shipment_tx == tx)
                .values(**values)
            )
        return not error


def received(engine: Engine) -> list[m.ReceivedTransactionInformation]:
    """Every queued shipment's TI entry, newest first."""
    with Session(engine) as session:
        rows = list(
            session.execute(
                select(m.ReceivedTransactionInformation).order_by(
                    m.ReceivedTransactionInformation.created_at.desc()
                )
            ).scalars()
        )
        session.expunge_all()
    return rows
