"""Regulators' reports from the replayed history: FDA Form 3911-style illegitimate-product
notification, DSCSA-style transaction history, EU FMD-style alert. Each is a JSON-ready dict
and a printable HTML page (``templates/base.html``); ``write_report`` saves either.

Parties are named with their GLN; times are UTC with the local time and time zone of the
member concerned beside them. A 3911 given the anomaly findings of its packs carries them,
with where and when each pack was scanned; a transaction history states, beside the standard
DSCSA statement, every lot whose GTIN is under another company's prefix than its registrant's.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

from ledger_client.audit.anomalies import foreign_prefix, prefix_owner_words
from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.describe import Describer
from ledger_client.audit.findings import Finding
from ledger_client.audit.history import custody_chain
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.state import Pack
from ledger_client.errors import RxLedgerError
from ledger_client.events import (
    ItemsLost,
    ItemsReceived,
    ItemsRefused,
    ItemsShipped,
    LostItemsFound,
    ShipmentCancelled,
)
from ledger_client.rules import blocking_status
from ledger_client.types import ZERO_HASH, FlagReason, LotStatus, PackStatus

TEMPLATE = Path(__file__).with_name("templates") / "base.html"
#: Form FDA 3911 notification types and classifications of illegitimate product.
REPORT_TYPES = ("INITIAL", "FOLLOW_UP", "REQUEST_FOR_TERMINATION")
CLASSIFICATIONS = tuple(r.name for r in FlagReason if r is not FlagReason.NONE)
#: EU FMD-style alert reasons raised at verification (RxLedger's names).
FMD_ALERTS = {
    "PRODUCT_CODE_UNKNOWN": "The product code is not known to the repository.",
    "SERIAL_UNKNOWN": "The pack's serial number is not known for this product.",
    "BATCH_MISMATCH": "The batch on the pack differs from the batch commissioned.",
    "EXPIRY_MISMATCH": "The expiry on the pack differs from the expiry commissioned.",
    "ALREADY_DECOMMISSIONED": "The pack was already decommissioned (dispensed, destroyed...).",
    "MULTIPLE_LOCATIONS": "The same pack was verified at more than one location.",
    "PRODUCT_MISMATCH": "The product code is outside the commissioner's GS1 company prefix.",
}


class ReportError(RxLedgerError, ValueError):
    """Raised when a report is asked for something the history or the catalogue lacks."""


def _iso(ts: int | None) -> str | None:
    return (
        None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _member(catalogue: Catalogue, model: RegistryModel, account: str | None) -> dict[str, Any]:
    return {} if account is None else catalogue.describer(model).member(account)


def _product(catalogue: Catalogue, gtin: str) -> dict[str, Any]:
    info = catalogue.products.get(gtin, {})
    return {
        "gtin": gtin,
        "ndc": info.get("ndc", ""),
        "name": info.get("name", ""),
        "strength": info.get("strength", ""),
        "dosage_form": info.get("dosage_form", ""),
    }


def _effective_status(model: RegistryModel, p: Pack) -> str:
    """The pack's status as a pharmacy's scan would see it: its flags first, then its lot's
    recall or quarantine (:func:`blocking_status`), then lost in transit (itself or with its
    unit), then its own status."""
    blocked = blocking_status(p.flags, p.lot.status)
    if blocked is not None:
        return blocked.name
    return PackStatus.LOST.name if model.is_lost(p) else PackStatus(p.status).name


def _pack_facts(
    model: RegistryModel, catalogue: Catalogue, gtin: str, serial: str
) -> dict[str, Any]:
    pid = model.pack_id(gtin, serial)
    p = model.packs.get(pid)
    if p is None:
        raise ReportError(f"pack {gtin}/{serial} is not in the on-chain history")
    lot = catalogue.lots.get(p.lot.id)
    return {
        "pack_id": "0x" + pid.hex(),
        **_product(catalogue, gtin),
        "serial": serial,
        "lot": lot[1] if lot else None,
        "lot_gtin": lot[0] if lot else None,
        "expiry": f"{p.lot.expiry:06d}",
        "status": _effective_status(model, p),
        "pack_status": PackStatus(p.status).name,
        "lot_status": LotStatus(p.lot.status).name,
    }


def _evidence(model: RegistryModel, catalogue: Catalogue, pid: bytes) -> list[dict[str, Any]]:
    say = catalogue.describer(model)
    chain = custody_chain(model, pid)
    return [
        {
            "event": s["event"],
            "time": _iso(s["time"]),
            "local_time": say.at(s["time"], s["by"])["local_time"],
            "time_zone": say.zone_name(s["by"]),
            "tx": s["tx"],
            "block": s["block"],
            "by": _member(catalogue, model, s["by"]),
            **({"to": _member(catalogue, model, s["to"])} if "to" in s else {}),
            "event_hash": s["event_hash"],
            **({"reason": s["reason"]} if "reason" in s else {}),
        }
        for s in chain["steps"]
    ]


def _findings_of(
    say: Describer, subject: str, findings: Iterable[Finding]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The findings about ``subject`` (kind, severity, what, why, threshold), and the scans
    in their evidence: where (the member, with its GLN) and when (UTC and local time)."""
    mine = [f for f in findings if f.subject.lower() == subject.lower()]
    scans: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in mine:
        for e in f.evidence:
            if e.get("type") == "scan":
                key = (e["location"], e["time"], e["lot"], e["expiry"])
                scans.setdefault(
                    key,
                    {
                        "time": _iso(e["time"]),
                        "local_time": e["local_time"],
                        "time_zone": e["time_zone"],
                        "location": say.member(e["location"]),
                        "lot": e["lot"],
                        "expiry": e["expiry"],
                        "finding": f.kind,
                    },
                )
    keys = ("kind", "severity", "seen", "why", "threshold")
    return [{k: getattr(f, k) for k in keys} for f in mine], list(scans.values())


def form_3911(
    model: RegistryModel,
    catalogue: Catalogue,
    packs: list[tuple[str, str]],
    classification: str,
    description: str,
    report_type: str = "INITIAL",
    reporter: str | None = None,
    findings: Iterable[Finding] = (),
) -> dict[str, Any]:
    """An FDA Form 3911-style notification of illegitimate product for ``packs`` (GTIN,
    serial): each pack's product, status and custody, and the anomaly ``findings`` naming
    it with the scans that show where and when it was seen (a clone's evidence)."""
    if report_type not in REPORT_TYPES:
        raise ReportError(
            f"report type must be one of {', '.join(REPORT_TYPES)}, got {report_type!r}"
        )
    if classification not in CLASSIFICATIONS:
        raise ReportError(
            f"classification must be one of {', '.join(CLASSIFICATIONS)}, got {classification!r}"
        )
    if not packs:
        raise ReportError("a notification names at least one pack")
    say = catalogue.describer(model)
    found = list(findings)
    products = []
    for g, s in packs:
        facts = _pack_facts(model, catalogue, g, s)
        facts["evidence"] = _evidence(model, catalogue, model.pack_id(g, s))
        facts["findings"], facts["scans"] = _findings_of(say, facts["pack_id"], found)
        products.append(facts)
    return {
        "report": "FDA Form 3911-style notification of illegitimate product",
        "report_type": report_type,
        "classification": classification,
        "date": _now(),
        "reporter": _member(catalogue, model, reporter) if reporter else {},
        "description": description,
        "products": products,
    }


def prefix_exception(model: RegistryModel, catalogue: Catalogue, lid: bytes) -> str | None:
    """What a DSCSA statement must add about lot ``lid`` when its GTIN carries a company
    prefix that is not its registrant's (None when it is the registrant's own)."""
    found = foreign_prefix(model, catalogue, lid)
    if found is None:
        return None
    gtin, owner = found
    say = catalogue.describer(model)
    registrant = say.member(model.lots[lid].owner)
    clear = catalogue.lots.get(lid)
    lot = f"Lot {clear[1]}" if clear else "The lot"
    return (
        f"{lot} of GTIN {gtin} was registered by {registrant['name']} (GLN "
        f"{registrant['gln']}) under a company prefix of {prefix_owner_words(say, owner)}, "
        "not its own: the registrant is not the owner of this product code, and a "
        "verification of these packs' codes never finds its records."
    )


def transaction_history(
    model: RegistryModel, catalogue: Catalogue, lid: bytes | None = None, tx: bytes | None = None
) -> dict[str, Any]:
    """A DSCSA-style transaction history: every change of ownership of a lot's packs (or of one
    shipment), with transaction information, the parties and the chain evidence, and how many
    of each shipment's packs were received, cancelled, refused, lost or are still in transit;
    the standard statement, and beside it each lot whose GTIN carries another company's prefix
    than its registrant's (:func:`prefix_exception`)."""
    if (lid is None) == (tx is None):
        raise ReportError("give a lot or a shipment transaction, not both")
    touched = _packs_by_event(model)
    transactions = []
    lots_seen: dict[bytes, int] = {}
    for i, e in enumerate(model.events):
        if not isinstance(e, ItemsShipped) or (tx is not None and e.tx_hash != tx):
            continue
        packs = touched.get(i, [])
        if lid is not None:
            packs = [p for p in packs if model.packs[p].lot.id == lid]
        if not packs:
            continue
        outcomes = [_outcome(model, catalogue, i, p, e.to) for p in packs]
        receipt = next((r for outcome, r in outcomes if outcome == "received"), None)
        per_lot: dict[bytes, int] = {}
        for p in packs:
            key = model.packs[p].lot.id
            per_lot[key] = per_lot.get(key, 0) + 1
        lines = []
        for lot_key, n in per_lot.items():
            gl = catalogue.lots.get(lot_key)
            lines.append(
                {
                    **(_product(catalogue, gl[0]) if gl else {"gtin": None}),
                    "lot": gl[1] if gl else None,
                    "lot_id": "0x" + lot_key.hex(),
                    "expiry": f"{model.lots[lot_key].expiry:06d}",
                    "quantity": n,
                }
            )
        lots_seen.update(per_lot)
        transactions.append(
            {
                "date_of_transaction": _iso(e.timestamp),
                "date_of_shipment": _iso(e.timestamp),
                "seller": _member(catalogue, model, e.from_),
                "buyer": _member(catalogue, model, e.to),
                "tx": "0x" + e.tx_hash.hex(),
                "block": e.block_number,
                "event_hash": "0x" + e.event_hash.hex() if e.event_hash != ZERO_HASH else None,
                "received": receipt,
                "outcomes": dict(Counter(outcome for outcome, _ in outcomes)),
                "lines": lines,
            }
        )
    if tx is not None and not transactions:
        raise ReportError(f"no shipment in transaction 0x{tx.hex()}")
    subject: dict[str, Any] = {"shipment_tx": "0x" + tx.hex()} if tx is not None else {}
    if lid is not None:
        if lid not in model.lots:
            raise ReportError(f"lot 0x{lid.hex()} is not in the on-chain history")
        lots_seen = {lid: 0}
        gl = catalogue.lots.get(lid)
        subject = {
            "lot_id": "0x" + lid.hex(),
            "lot": gl[1] if gl else None,
            **(_product(catalogue, gl[0]) if gl else {}),
            "owner": _member(catalogue, model, model.lots[lid].owner),
        }
    return {
        "report": "DSCSA-style transaction history",
        "date": _now(),
        "subject": subject,
        "transactions": transactions,
        "transaction_statement": (
            "Each seller recorded on the ledger was an authorised consortium member when it "
            "shipped, "
            "received the product from a member, and the ledger holds no record of illegitimate "
            "product unless flagged below."
        ),
        "statement_exceptions": [
            text for key in lots_seen if (text := prefix_exception(model, catalogue, key))
        ],
        "flagged_packs": sum(
            1 for p in (lid and model.lots[lid].packs or []) if model.packs[p].flags
        ),
    }


def _packs_by_event(model: RegistryModel) -> dict[int, list[bytes]]:
    """Event index → packs it touched, directly or through their units."""
    by_event: dict[int, list[bytes]] = {}
    for pid, p in model.packs.items():
        for i in p.history:
            by_event.setdefault(i, []).append(pid)
    return by_event


def _outcome(
    model: RegistryModel, catalogue: Catalogue, index: int, pid: bytes, buyer: str
) -> tuple[str, dict[str, Any] | None]:
    """How the shipment of event ``index`` ended for pack ``pid``: received by ``buyer``
    (with the receipt), cancelled, refused, lost, or still in transit."""
    lost = False
    for i in model.packs[pid].history:
        if i <= index:
            continue
        match model.events[i]:
            case ItemsReceived() as e if e.by == buyer:
                receipt = {
                    "date": _iso(e.timestamp),
                    "tx": "0x" + e.tx_hash.hex(),
                    "by": e.by,
                    "by_name": catalogue.describer(model).name(e.by),
                }
                return "received", receipt
            case ShipmentCancelled():
                return "cancelled", None
            case ItemsRefused():
                return "refused", None
            case ItemsLost() | LostItemsFound() as e:
                lost = isinstance(e, ItemsLost)
    return ("lost" if lost else "in_transit"), None


def fmd_alert(
    model: RegistryModel,
    catalogue: Catalogue,
    gtin: str,
    serial: str,
    alert: str,
    location: str,
    scanned: dict[str, Any] | None = None,
    at: int | None = None,
) -> dict[str, Any]:
    """An EU FMD-style alert report for a pack scanned at ``location`` (a member account)."""
    if alert not in FMD_ALERTS:
        raise ReportError(f"alert must be one of {', '.join(FMD_ALERTS)}, got {alert!r}")
    pid = model.pack_id(gtin, serial)
    known = pid in model.packs
    facts = (
        _pack_facts(model, catalogue, gtin, serial)
        if known
        else {**_product(catalogue, gtin), "serial": serial}
    )
    return {
        "report": "EU FMD-style alert",
        "alert_id": f"RXL-{pid.hex()[:10].upper()}-{(at or 0):d}",
        "alert_reason": alert,
        "explanation": FMD_ALERTS[alert],
        "raised_at": _iso(at) if at else _now(),
        "location": _member(catalogue, model, location),
        "scanned": scanned or {},
        "pack": facts,
        "custody": _evidence(model, catalogue, pid) if known else [],
    }


# ------------------------------------------------------------ output


def _cell(value: Any) -> str:
    if value is None:
        return "&mdash;"
    if isinstance(value, dict):
        return ", ".join(
            f"{html.escape(str(k))}: {_cell(v)}" for k, v in value.items() if v not in (None, "")
        )
    if isinstance(value, list):
        return "<br>".join(_cell(v) for v in value)
    text = html.escape(str(value))
    return f"<code>{text}</code>" if text.startswith("0x") else text


def _table(rows: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(k.replace('_', ' '))}</th><td>{_cell(v)}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{body}</table>"


def _grid(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<p>Nothing recorded.</p>"
    keys = list(items[0])
    head = "".join(f"<th>{html.escape(k.replace('_', ' '))}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(i.get(k))}</td>" for k in keys) + "</tr>" for i in items
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: dict[str, Any]) -> str:
    """Render any of the reports as a printable HTML page."""
    sections = []
    plain = {k: v for k, v in report.items() if not isinstance(v, list) and k != "report"}
    sections.append(_table(plain))
    for key, value in report.items():
        if isinstance(value, list):
            sections.append(f"<h2>{html.escape(key.replace('_', ' ').capitalize())}</h2>")
            for item in value:
                if isinstance(item, dict) and any(isinstance(v, list) for v in item.values()):
                    sections.append(
                        _table({k: v for k, v in item.items() if not isinstance(v, list)})
                    )
                    for k, v in item.items():
                        if isinstance(v, list):
                            sections.append(f"<h3>{html.escape(k.capitalize())}</h3>" + _grid(v))
                else:
                    sections.append(_grid([item]) if isinstance(item, dict) else _cell(item))
    return Template(TEMPLATE.read_text()).substitute(
        title=html.escape(report["report"]),
        subtitle=html.escape(str(report.get("date", report.get("raised_at", "")))),
        body="\n".join(sections),
        generated=_now(),
    )


def write_report(report: dict[str, Any], path: Path) -> Path:
    """Write ``report`` as JSON (``.json``) or printable HTML (``.html``), by the file's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(report, indent=2) + "\n")
    elif path.suffix in (".html", ".htm"):
        path.write_text(render_html(report))
    else:
        raise ReportError(f"report file must end in .json or .html, got {path.name}")
    return path
