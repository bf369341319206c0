"""The verifications this gateway recorded, as the anomaly detectors read scans: the member
that asked is the location, its time the scan's, the lot and expiry the code printed. The
live detectors read them as they come, ``GET /v1/scans`` pages them to regulators and the
operator."""

from __future__ import annotations

from sqlalchemy import Connection, select

from gateway.db import models as m
from ledger_client.audit.scans import VerificationRecord


def scan_rows(
    conn: Connection, after: int = 0, limit: int | None = None
) -> list[tuple[int, VerificationRecord]]:
    """The verifications this gateway recorded after row ``after`` (the first ``limit``), as
    the detectors' scans (the member that asked is the location, its time the scan's, the lot
    and expiry the code printed), with their row ids."""
    rows = conn.execute(
        select(
            m.VerificationRecord.id,
            m.VerificationRecord.gtin,
            m.VerificationRecord.serial,
            m.VerificationRecord.client,
            m.VerificationRecord.at,
            m.VerificationRecord.lot,
            m.VerificationRecord.expiry,
        )
        .where(m.VerificationRecord.id > after)
        .order_by(m.VerificationRecord.id)
        .limit(limit)
    )
    return [
        (i, VerificationRecord(g, s, c, int(at), lot, exp)) for i, g, s, c, at, lot, exp in rows
    ]


def recorded_scans(conn: Connection) -> list[VerificationRecord]:
    """Every verification this gateway recorded, as a ``verifications.jsonl`` holds scans."""
    return [record for _, record in scan_rows(conn)]
