"""EPCIS capture jobs: validate and classify at once, write to the chain in the background.

Every event's hash is claimed in ``captured_events`` before its transactions are sent, so
posting the same document again (or concurrently) never writes an event twice.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.services.ledger_ops import execute
from ledger_client.epcis import MappingReport, map_document
from ledger_client.errors import RxLedgerError
from ledger_client.ledger import Ledger

log = get_logger("rxledger.capture")


class CaptureService:
    """Creates capture jobs and runs them one at a time with the operator's key."""

    def __init__(self, engine: Engine, ledger: Ledger | None, address_of_gln: Any) -> None:
        self.engine = engine
        self.ledger = ledger
        self.address_of_gln = address_of_gln
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rxledger-capture")

    def close(self) -> None:
        """Finish running jobs and stop."""
        self._pool.shutdown(wait=True)

    def submit(self, doc: dict[str, Any], owner: str, behaviour: str) -> str:
        """Validate and classify ``doc`` (raising InvalidEPCISError) and queue its job."""
        report = map_document(doc)
        job_id = "cap-" + uuid.uuid4().hex[:20]
        with self.engine.begin() as conn:
            conn.execute(
                insert(m.CaptureJob).values(
                    id=job_id,
                    owner=owner,
                    running=True,
                    success=False,
                    error_behaviour=behaviour,
                    document=doc,
                    results=[],
                    errors=[],
                    created_at=time.time(),
                )
            )
        self._pool.submit(self._run_safely, job_id, report, behaviour)
        return job_id

    def job(self, job_id: str) -> m.CaptureJob | None:
        """Return a capture job."""
        with Session(self.engine) as conn:
            row = conn.execute(select(m.CaptureJob).where(m.CaptureJob.id == job_id)).first()
        return row[0] if row else None

    def jobs(self, owner: str | None, limit: int = 100) -> list[m.CaptureJob]:
        """Return recent jobs (of ``owner`` if given)."""
        query = select(m.CaptureJob).order_by(m.CaptureJob.created_at.desc()).limit(limit)
        if owner:
            query = query.where(m.CaptureJob.owner == owner)
        with Session(self.engine) as conn:
            return list(conn.execute(query).scalars())

    def _run_safely(self, job_id: str, report: MappingReport, behaviour: str) -> None:
        try:
            self.run(job_id, report, behaviour)
        except Exception as exc:  # noqa: BLE001 - a job must always finish with a status
            log.error("capture job crashed", job=job_id, error=repr(exc))
            self._finish(job_id, [], [{"event": None, "error": f"internal error: {exc!r}"}])

    def run(self, job_id: str, report: MappingReport, behaviour: str) -> None:
        """Write every event's operations; record a result per event."""
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        stop = False
        for ev in report.events:
            base: dict[str, Any] = {
                "index": ev.index,
                "eventID": ev.event_id,
                "eventHash": ev.event_hash_uri,
                "operations": [type(op).__name__ for op in ev.operations],
            }
            if stop:
                results.append({**base, "status": "not_attempted"})
                continue
            if ev.stored_only is not None:
                results.append({**base, "status": "stored_only", "reason": ev.stored_only})
                continue
            outcome = self._write_event(job_id, ev.event_hash, ev.operations)
            results.append({**base, **outcome})
            if outcome["status"] == "failed":
                errors.append(
                    {"index": ev.index, "eventID": ev.event_id, "error": outcome["error"]}
                )
                stop = behaviour == "rollback"
        self._finish(job_id, results, errors)

    def _write_event(
        self, job_id: str, event_hash: bytes | None, operations: Any
    ) -> dict[str, Any]:
        if self.ledger is None:
            return {"status": "failed", "error": "this gateway has no operator key to sign with"}
        if event_hash:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(m.CapturedEvent).values(
                            event_hash=event_hash, job_id=job_id, tx_hashes=[], at=time.time()
                        )
                    )
            except IntegrityError:
                with Session(self.engine) as conn:
                    prior = conn.execute(
                        select(m.CapturedEvent).where(m.CapturedEvent.event_hash == event_hash)
                    ).scalar_one()
                return {
                    "status": "duplicate",
                    "firstCapturedBy": prior.job_id,
                    "txHashes": prior.tx_hashes,
                }
        tx_hashes: list[str] = []
        try:
            for op in operations:
                for receipt in execute(self.ledger, op, self.address_of_gln):
                    tx_hashes.append("0x" + receipt.tx_hash.hex())
        except (RxLedgerError, ValueError) as exc:
            if event_hash and not tx_hashes:
                with self.engine.begin() as conn:
                    conn.execute(
                        delete(m.CapturedEvent).where(m.CapturedEvent.event_hash == event_hash)
                    )
            return {"status": "failed", "error": str(exc), "txHashes": tx_hashes}
        if event_hash:
            with self.engine.begin() as conn:
                conn.execute(
                    update(m.CapturedEvent)
                    .where(m.CapturedEvent.event_hash == event_hash)
                    .values(tx_hashes=tx_hashes)
                )
        return {"status": "written", "txHashes": tx_hashes}

    def _finish(
        self, job_id: str, results: list[dict[str, Any]], errors: list[dict[str, Any]]
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(m.CaptureJob)
                .where(m.CaptureJob.id == job_id)
                .values(
                    running=False,
                    success=not errors,
                    results=results,
                    errors=errors,
                    finished_at=time.time(),
                )
            )
