"""EPCIS capture jobs: validate at once, write to the chain in the background.

The work is ``ledger_client.epcis.capture_document``, the same executor the CLI uses: it
stores every event and the master data in the operator's ``EventStore``, applies the
ledger operations signed with the operator's key and reports each event (applied, skipped,
stored_only, failed with the decoded contract error). Nothing is written twice: its
``AnchorIndex`` (one per process, refreshed before every job) knows which event hashes the
chain already anchors, and jobs run one at a time under the operator lock, so workers
never race each other either. Serials that follow a counter or have little entropy are
commissioned all the same, with a warning in the event's result and in the log. A document
with warnings only (a malformed location or party id, an unknown vocabulary value, a
non-standard extension) is captured; its warnings are kept in ``event_warnings`` beside the
job, with the hash of their event, and in the operator's EPCIS store beside the event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import structlog
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from gateway.core.logging import get_logger
from gateway.db import models as m
from gateway.services.oplock import OperatorLock
from ledger_client.epcis import (
    AnchorIndex,
    EventStore,
    ImportResult,
    InvalidEPCISError,
    ValidationWarning,
    ValidDocument,
    capture_document,
    read_valid_document,
)
from ledger_client.epcis.tolerated import WarningKind
from ledger_client.errors import ConfigurationError
from ledger_client.ledger import Ledger

log = get_logger("rxledger.capture")

JSON_TYPES = ("application/json", "application/ld+json")
XML_TYPES = ("application/xml", "text/xml")


def parse_body(body: bytes, content_type: str) -> ValidDocument:
    """Return the valid EPCIS 2.0 document in a request body: JSON-LD, or EPCIS 2.0 or 1.2
    XML (converted). Raise InvalidEPCISError saying what is wrong."""
    media = content_type.split(";")[0].strip().lower()
    if media in XML_TYPES:
        if not body.lstrip().startswith(b"<"):
            raise InvalidEPCISError(["/: the body is declared XML but is not"])
        return read_valid_document(body)
    try:
        doc = json.loads(body)
    except ValueError as exc:  # not JSON, not text, or a number of more than 4300 digits
        raise InvalidEPCISError([f"/: not JSON: {exc}"]) from None
    if not isinstance(doc, dict):
        raise InvalidEPCISError(["/: an EPCIS document is a JSON object"])
    return read_valid_document(doc)


def rejected_errors(doc: ValidDocument) -> list[str]:
    """Events the mapping refuses before anything is sent (``rollback`` refuses the document)."""
    return [f"event {r.index} ({r.type}): {r.rejected}" for r in doc.report.events if r.rejected]


def warning_rows(
    job_id: str, warnings: Iterable[ValidationWarning], hashes: Sequence[bytes | None] = ()
) -> list[dict[str, Any]]:
    """The ``event_warnings`` rows of a job's warnings; ``hashes`` are its events' hashes
    (by index), when known."""
    return [
        {
            "capture_id": job_id,
            "event_index": w.index,
            "event_id": w.event_id,
            "event_hash": hashes[w.index] if w.index < len(hashes) else None,
            "path": w.path,
            "field": w.field,
            "kind": w.kind,
            "value": w.value,
            "message": w.message,
        }
        for w in warnings
    ]


def job_errors(result: ImportResult) -> list[dict[str, Any]]:
    """One entry per failed event: its index, id, the decoded error name and the message."""
    errors = []
    for event in result.events:
        if event.status != "failed":
            continue
        failed = [op for op in event.operations if op.status == "failed"]
        errors.append(
            {
                "index": event.index,
                "eventID": event.event_id,
                "eventHash": event.event_hash,
                "error": failed[0].error if failed else "Rejected",
                "message": event.message,
            }
        )
    return errors


class CaptureService:
    """Creates capture jobs and runs them one at a time with the operator's key."""

    def __init__(
        self, engine: Engine, ledger: Ledger | None, store_path: Path, lock: OperatorLock
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.store_path = store_path
        self.lock = lock
        self._store: EventStore | None = None
        self._anchors: AnchorIndex | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rxledger-capture")

    def close(self) -> None:
        """Finish running jobs and stop."""
        self._pool.shutdown(wait=True)
        if self._store is not None:
            self._store.close()

    def submit(self, doc: ValidDocument, owner: str, behaviour: str) -> str:
        """Queue a job for a valid document (see :func:`parse_body`) and return its id.

        With ``rollback``, a document with events the mapping refuses raises
        InvalidEPCISError and nothing is written (a chain cannot undo what it accepted, so
        this is the part of a rollback the gateway can honour).
        """
        if behaviour == "rollback":
            problems = rejected_errors(doc)
            if problems:
                raise InvalidEPCISError(problems)
        job_id = "cap-" + uuid.uuid4().hex[:20]
        with self.engine.begin() as conn:
            conn.execute(
                insert(m.CaptureJob).values(
                    id=job_id,
                    owner=owner,
                    running=True,
                    success=True,
                    error_behaviour=behaviour,
                    document=doc.doc,
                    results=[],
                    errors=[],
                    created_at=time.time(),
                )
            )
            if doc.warnings:  # kept from the start: a resumed job reads them back
                conn.execute(insert(m.EventWarning), warning_rows(job_id, doc.warnings))
        self._pool.submit(self._run_safely, job_id, doc)
        return job_id

    def resume_orphans(self) -> int:
        """Run again the jobs a stopped process left running (safe: nothing is written twice).

        Call only where no other process is capturing yet (the single or supervising one).
        """
        with Session(self.engine) as session:
            orphans = list(
                session.execute(
                    select(m.CaptureJob.id, m.CaptureJob.document).where(m.CaptureJob.running)
                )
            )
        for job_id, doc in orphans:
            log.info("resuming capture job", job=job_id)
            self._pool.submit(self._run_safely, job_id, doc)
        return len(orphans)

    def job(self, job_id: str) -> m.CaptureJob | None:
        """Return a capture job."""
        with Session(self.engine) as session:
            return session.get(m.CaptureJob, job_id)

    def jobs(self, owner: str | None, limit: int = 100) -> list[m.CaptureJob]:
        """Return recent jobs (of ``owner`` if given)."""
        query = select(m.CaptureJob).order_by(m.CaptureJob.created_at.desc()).limit(limit)
        if owner:
            query = query.where(m.CaptureJob.owner == owner)
        with Session(self.engine) as session:
            return list(session.execute(query).scalars())

    def _run_safely(self, job_id: str, doc: ValidDocument | dict[str, Any]) -> None:
        """Run a job; the stored document of a resumed job (a dict) is validated first,
        with the warnings stored with the job (some, of XML content EPCIS 2.0 has no place
        for, are not in the document)."""
        found: Sequence[ValidationWarning] = doc.warnings if isinstance(doc, ValidDocument) else ()
        try:
            if not isinstance(doc, ValidDocument):
                found = self._stored_warnings(job_id)
                doc = ValidDocument.validate(doc, found)
            self.run(job_id, doc)
        except Exception as exc:  # noqa: BLE001 - a job must always finish with a status
            log.error("capture job crashed", job=job_id, error=repr(exc))
            self._finish(
                job_id,
                False,
                [],
                [{"error": "InternalError", "message": repr(exc)}],
                warning_rows(job_id, found),
            )

    def run(self, job_id: str, doc: ValidDocument) -> ImportResult:
        """Capture ``doc`` as the operator's member and record the per-event results."""
        if self.ledger is None:
            raise ConfigurationError("this gateway has no operator key to sign with")
        with self.lock.hold(), structlog.contextvars.bound_contextvars(job=job_id):
            if self._store is None:
                self.store_path.parent.mkdir(parents=True, exist_ok=True)
                self._store = EventStore(self.store_path)
            if self._anchors is None:
                self._anchors = AnchorIndex.load(self.ledger.w3, self.ledger.deployment)
            report, result = capture_document(
                self.ledger, doc, self._store, anchors=self._anchors, name=job_id
            )
        log.info("capture job finished", job=job_id, warnings=len(result.warnings), **result.counts)
        hashes = [event.event_hash for event in report.events]
        self._finish(
            job_id,
            result.ok,
            result.to_dict()["events"],
            job_errors(result),
            warning_rows(job_id, result.warnings, hashes),
        )
        return result

    def _stored_warnings(self, job_id: str) -> tuple[ValidationWarning, ...]:
        """The warnings stored with a job, as the validation gave them."""
        rows = self.warnings([job_id]).get(job_id, [])
        return tuple(
            ValidationWarning(
                index=row.event_index,
                event_id=row.event_id,
                path=row.path,
                field=row.field,
                value=row.value,
                kind=cast(WarningKind, row.kind),
                message=row.message,
            )
            for row in rows
        )

    def warnings(self, job_ids: list[str]) -> dict[str, list[m.EventWarning]]:
        """The warnings of each job's events (jobs without any are left out), in order."""
        found: dict[str, list[m.EventWarning]] = {}
        query = (
            select(m.EventWarning)
            .where(m.EventWarning.capture_id.in_(job_ids))
            .order_by(m.EventWarning.id)
        )
        with Session(self.engine) as session:
            for row in session.execute(query).scalars():
                found.setdefault(row.capture_id, []).append(row)
        return found

    def _finish(
        self,
        job_id: str,
        ok: bool,
        results: list[dict[str, Any]],
        errors: list[dict[str, Any]],
        warnings: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record a job's end; ``warnings`` (rows of ``event_warnings``) replace the job's."""
        with self.engine.begin() as conn:
            if warnings is not None:
                conn.execute(delete(m.EventWarning).where(m.EventWarning.capture_id == job_id))
                if warnings:
                    conn.execute(insert(m.EventWarning), warnings)
            conn.execute(
                update(m.CaptureJob)
                .where(m.CaptureJob.id == job_id)
                .values(
                    running=False,
                    success=ok,
                    results=results,
                    errors=errors,
                    finished_at=time.time(),
                )
            )
