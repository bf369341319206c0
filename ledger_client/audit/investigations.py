"""The suspect-product investigation clock: from an illegitimacy determination to its 3911-style
notification (due within 24 hours) and, once the investigation is closed, its termination.

The determination is the chain's own record of it: a ``PacksFlagged`` event that raises
FLAG_ILLEGITIMATE on packs not already illegitimate. Only a regulator, the lot's owner (the
manufacturer) or the council may raise it (``SerialRegistry.flagPacks``), so its block time is
when a party with the standing to decide decided, and nobody can move it afterwards. The
investigation closes when the last of its packs loses the flag (a later ``PacksFlagged``
clearing it, by the same authority or a higher one): that event is the termination's evidence.
The chain does not record the notification's filing: a notification is written at the
report's time (``--at``, else the last block's), late if that is more than 24 hours after
the determination.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger_client.audit.catalogue import Catalogue
from ledger_client.audit.deadlines import iso
from ledger_client.audit.findings import Finding
from ledger_client.audit.model import RegistryModel
from ledger_client.audit.reports import ReportError, form_3911
from ledger_client.events import PacksFlagged
from ledger_client.types import FlagReason, PackFlag

#: A 3911-style notification is due within 24 hours of the illegitimacy determination.
NOTIFICATION_SECONDS = 24 * 3600


@dataclass
class Investigation:
    """An illegitimacy determination (event ``determined_by``, the index of its
    ``PacksFlagged`` in the model) and what became of its packs."""

    determined_by: int
    determined_at: int
    packs: tuple[bytes, ...]
    #: Packs still flagged illegitimate; empty once the investigation is closed.
    flagged: set[bytes] = field(default_factory=set)
    #: The events that cleared the flag of some of its packs, in chain order.
    cleared_by: list[int] = field(default_factory=list)
    closed_at: int | None = None

    @property
    def due_at(self) -> int:
        """When the notification is due: 24 hours after the determination."""
        return self.determined_at + NOTIFICATION_SECONDS

    def late(self, notified_at: int) -> bool:
        """Whether a notification at ``notified_at`` is late (after the 24 hours)."""
        return notified_at > self.due_at


def investigations(model: RegistryModel) -> list[Investigation]:
    """Every illegitimacy determination of the history, oldest first, with its closing."""
    found: list[Investigation] = []
    current: dict[bytes, Investigation] = {}  # pack -> its open investigation
    for i, e in enumerate(model.events):
        if not isinstance(e, PacksFlagged):
            continue
        if e.flags & PackFlag.ILLEGITIMATE:
            new = tuple(p for p in e.pack_ids if p not in current)
            if new:
                inv = Investigation(i, e.timestamp, new, set(new))
                found.append(inv)
                current.update(dict.fromkeys(new, inv))
            continue
        for p in e.pack_ids:
            if p not in current:
                continue
            inv = current.pop(p)
            inv.flagged.discard(p)
            if not inv.cleared_by or inv.cleared_by[-1] != i:
                inv.cleared_by.append(i)
            if not inv.flagged:
                inv.closed_at = e.timestamp
    return found


def investigation_rows(
    model: RegistryModel, catalogue: Catalogue, now: int
) -> list[dict[str, Any]]:
    """Every determination as at ``now``: when, by whom (its event as evidence), its packs,
    when the notification is due and whether it is overdue (an open investigation past the
    24 hours: the chain holds no filing), and when it closed."""
    say = catalogue.describer(model)
    return [
        {
            "determined_at": iso(inv.determined_at),
            "determination": say.event(inv.determined_by),
            "classification": _classification(model, inv),
            "pack_ids": ["0x" + p.hex() for p in inv.packs],
            "still_flagged": len(inv.flagged),
            "notification_due_at": iso(inv.due_at),
            "notification_overdue": inv.closed_at is None and inv.late(now),
            "status": "CLOSED" if inv.closed_at is not None else "OPEN",
            "closed_at": None if inv.closed_at is None else iso(inv.closed_at),
            "closed_by": [say.event(i) for i in inv.cleared_by if inv.closed_at is not None],
        }
        for inv in investigations(model)
    ]


def _classification(model: RegistryModel, inv: Investigation) -> str | None:
    """The 3911 classification the determination gave (its reason code), None if none."""
    event = model.events[inv.determined_by]
    assert isinstance(event, PacksFlagged)
    given = [r for r in FlagReason if r == event.reason_code and r is not FlagReason.NONE]
    return given[0].name if given else None


def investigation_of(model: RegistryModel, pids: list[bytes]) -> Investigation | None:
    """The newest determination naming the first of ``pids``, None when there is none."""
    mine = [inv for inv in investigations(model) if pids and pids[0] in inv.packs]
    return mine[-1] if mine else None


def clock(
    model: RegistryModel,
    catalogue: Catalogue,
    inv: Investigation,
    report_type: str,
    now: int,
) -> dict[str, Any]:
    """The investigation section of a 3911-style report written at ``now``: the determination
    with its evidence, the notification's due time and whether it is late, and for a
    termination the events that closed it."""
    say = catalogue.describer(model)
    out: dict[str, Any] = {
        "determined_at": iso(inv.determined_at),
        "determination": say.event(inv.determined_by),
        "notification_due_at": iso(inv.due_at),
        "status": "CLOSED" if inv.closed_at is not None else "OPEN",
    }
    if report_type == "REQUEST_FOR_TERMINATION":
        if inv.closed_at is None:
            raise ReportError(
                f"the investigation of the determination at {iso(inv.determined_at)} is still"
                f" open: {len(inv.flagged)} of its packs are flagged illegitimate (clear the flag"
                " to close it, then request its termination)"
            )
        out["closed_at"] = iso(inv.closed_at)
        out["closed_by"] = [say.event(i) for i in inv.cleared_by]
    else:
        out["notified_at"] = iso(now)
        out["hours_after_determination"] = round((now - inv.determined_at) / 3600, 2)
        out["late"] = inv.late(now)
    return out


def notification_3911(
    model: RegistryModel,
    catalogue: Catalogue,
    packs: list[tuple[str, str]],
    classification: str,
    description: str,
    now: int,
    report_type: str = "INITIAL",
    reporter: str | None = None,
    findings: list[Finding] | None = None,
) -> dict[str, Any]:
    """A 3911-style report (:func:`~ledger_client.audit.reports.form_3911`) written at ``now``,
    with its investigation clock (:func:`clock`) when the chain holds an illegitimacy
    determination of its first pack, else ``investigation`` None."""
    report = form_3911(
        model, catalogue, packs, classification, description, report_type, reporter, findings or ()
    )
    report["date"] = iso(now)
    pids = [model.pack_id(g, s) for g, s in packs]
    inv = investigation_of(model, pids)
    if inv is None and report_type == "REQUEST_FOR_TERMINATION":
        raise ReportError("no illegitimacy determination on chain names these packs")
    report["investigation"] = (
        None if inv is None else clock(model, catalogue, inv, report_type, now)
    )
    return report
