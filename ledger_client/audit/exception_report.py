"""The exceptions between trading partners as the replayed history holds them: each with its
answer deadline (:mod:`ledger_client.audit.deadlines`), its age and how long it took to answer
and to resolve, and its evidence; and per trading partner, the open and closed ones by kind
and age, as JSON or CSV.

Each row is one exception and carries its evidence: the exception id, the transaction of each
step and the three evidence hashes. Ages and durations are in business days, counted in the
counterparty's time zone (the party that must answer), and in hours.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from datetime import tzinfo
from typing import Any

from ledger_client.audit.deadlines import BusinessCalendar, answer_timing
from ledger_client.audit.describe import Describer
from ledger_client.audit.exceptions import ExceptionCase
from ledger_client.audit.model import RegistryModel
from ledger_client.events import ExceptionAnswered, ExceptionOpened, ExceptionResolved
from ledger_client.ids import hex_or_none
from ledger_client.types import ExceptionKind, ExceptionStatus, Resolver

#: The CSV report's columns, in order (the JSON rows have the same keys).
CSV_COLUMNS = (
    "partner",
    "partner_name",
    "partner_gln",
    "role",
    "exception_id",
    "kind",
    "status",
    "opener",
    "opener_name",
    "counterparty",
    "counterparty_name",
    "opened_at",
    "answered_at",
    "resolved_at",
    "resolved_by",
    "answer_due_at",
    "answer_overdue",
    "answered_late",
    "age_business_days",
    "answer_business_days",
    "resolve_business_days",
    "answer_hours",
    "resolve_hours",
    "time_zone",
    "items_hash",
    "evidence_hash",
    "answer_evidence_hash",
    "resolution_evidence_hash",
    "opened_tx",
    "answered_tx",
    "resolved_tx",
)


#: Age bands of open exceptions, in business days: within HDA's three days to resolve, within
#: two weeks, and older.
AGE_BANDS = (("0-3", 0, 3), ("4-10", 4, 10), ("over_10", 11, None))

#: The summary CSV's columns: one line per trading partner and exception kind.
SUMMARY_COLUMNS = (
    "partner",
    "partner_name",
    "partner_gln",
    "kind",
    "open",
    "closed",
    *(f"open_{name}_business_days" for name, _lo, _hi in AGE_BANDS),
    "overdue",
    "median_resolve_business_days",
    "max_resolve_business_days",
)


def _steps(model: RegistryModel, case: ExceptionCase) -> dict[str, Any]:
    """The transaction and evidence hash of each step of ``case``, from its events."""
    out: dict[str, Any] = {
        "opened_tx": None,
        "answered_tx": None,
        "resolved_tx": None,
        "answer_evidence_hash": None,
        "resolution_evidence_hash": None,
    }
    for i in case.history:
        match model.events[i]:
            case ExceptionOpened() as e:
                out["opened_tx"] = hex_or_none(e.tx_hash)
            case ExceptionAnswered() as e:
                out["answered_tx"], out["answer_evidence_hash"] = (
                    hex_or_none(e.tx_hash),
                    hex_or_none(e.evidence_hash),
                )
            case ExceptionResolved() as e:
                out["resolved_tx"], out["resolution_evidence_hash"] = (
                    hex_or_none(e.tx_hash),
                    hex_or_none(e.evidence_hash),
                )
    return out


def exception_rows(
    model: RegistryModel, say: Describer, calendar: BusinessCalendar, now: int
) -> list[dict[str, Any]]:
    """Every exception of the history as at ``now``: parties by name, times, the answer
    deadline (overdue: OPEN and past it; answered late: answered at or after it), its age
    (business days from opening to its resolution, or to ``now``), how long it took to answer
    and to resolve, and its evidence."""
    accounts = model.member_accounts
    rows = []
    for case in model.exceptions.values():
        opener, counterparty = accounts[case.opener], accounts[case.counterparty]
        zone = say.zone(counterparty)
        status = ExceptionStatus(case.status)
        due, timing = answer_timing(calendar, case, status == ExceptionStatus.OPEN, now, zone)
        answer_days, answer_hours = _took(calendar, case.opened_at, case.answered_at, zone)
        resolve_days, resolve_hours = _took(calendar, case.opened_at, case.resolved_at, zone)
        rows.append(
            {
                "exception_id": case.id,
                "kind": ExceptionKind(case.kind).name,
                "status": status.name,
                "opener": opener,
                "opener_name": say.name(opener),
                "counterparty": counterparty,
                "counterparty_name": say.name(counterparty),
                "resolved_by": Resolver(case.resolved_by).name if case.resolved_by else None,
                **timing,
                "answered_late": bool(case.answered_at) and case.answered_at >= due,
                "answer_business_days": answer_days,
                "resolve_business_days": resolve_days,
                "answer_hours": answer_hours,
                "resolve_hours": resolve_hours,
                "items_hash": hex_or_none(case.items_hash),
                "evidence_hash": hex_or_none(case.evidence_hash),
                **_steps(model, case),
            }
        )
    return rows


def _took(
    calendar: BusinessCalendar, start: int, at: int, zone: tzinfo | None
) -> tuple[int | None, float | None]:
    """How long from ``start`` to ``at`` (0: not yet): business days and hours."""
    if not at:
        return None, None
    return calendar.age(start, at, zone), round((at - start) / 3600, 2)


def partner_report(
    rows: list[dict[str, Any]], say: Describer, partner: str | None = None
) -> dict[str, Any]:
    """Per trading partner (each party to an exception, or only ``partner``): how many of its
    exceptions are open and closed, by kind, and the exceptions themselves (with its role)."""
    partners: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        for role in ("opener", "counterparty"):
            if partner is None or row[role] == partner:
                partners.setdefault(row[role], []).append({"role": role, **row})
    out = []
    for account, mine in sorted(partners.items(), key=lambda kv: say.name(kv[0])):
        member = say.member(account)
        closed = Counter(r["kind"] for r in mine if r["status"] == "RESOLVED")
        still = Counter(r["kind"] for r in mine if r["status"] != "RESOLVED")
        out.append(
            {
                "partner": account,
                "partner_name": member["name"],
                "partner_gln": member["gln"],
                "open": dict(still),
                "closed": dict(closed),
                "overdue": sum(1 for r in mine if r["answer_overdue"]),
                "by_kind": [
                    _kind_summary(kind, [r for r in mine if r["kind"] == kind])
                    for kind in sorted({r["kind"] for r in mine})
                ],
                "exceptions": mine,
            }
        )
    return {"report": "Exceptions between trading partners", "partners": out}


def _kind_summary(kind: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One kind of a partner's exceptions: open and closed, the open ones by age band
    (:data:`AGE_BANDS`), overdue, and the median and longest time to resolve."""
    still = [r["age_business_days"] for r in rows if r["status"] != "RESOLVED"]
    took = [r["resolve_business_days"] for r in rows if r["status"] == "RESOLVED"]
    return {
        "kind": kind,
        "open": len(still),
        "closed": len(took),
        "open_by_age_business_days": {
            name: sum(1 for age in still if lo <= age and (hi is None or age <= hi))
            for name, lo, hi in AGE_BANDS
        },
        "overdue": sum(1 for r in rows if r["answer_overdue"]),
        "median_resolve_business_days": statistics.median(took) if took else None,
        "max_resolve_business_days": max(took) if took else None,
    }


def summary_csv(report: dict[str, Any]) -> str:
    """The partner report's summary as CSV: one line per partner and kind
    (:data:`SUMMARY_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in report["partners"]:
        for k in p["by_kind"]:
            ages = k["open_by_age_business_days"]
            writer.writerow(
                {
                    "partner": p["partner"],
                    "partner_name": p["partner_name"],
                    "partner_gln": p["partner_gln"],
                    **{c: "" if v is None else v for c, v in k.items() if c in SUMMARY_COLUMNS},
                    **{f"open_{name}_business_days": ages[name] for name, _lo, _hi in AGE_BANDS},
                }
            )
    return buffer.getvalue()


def report_csv(report: dict[str, Any]) -> str:
    """The partner report as CSV: one line per partner and exception (:data:`CSV_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in report["partners"]:
        for row in p["exceptions"]:
            writer.writerow(
                {
                    "partner": p["partner"],
                    "partner_name": p["partner_name"],
                    "partner_gln": p["partner_gln"],
                    **{k: "" if v is None else v for k, v in row.items()},
                }
            )
    return buffer.getvalue()
