"""Every reader of the event stream is a projection, and a history read as one is the same
as the chain's."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.projection import IndexProjection
from gateway.services.alerts import EventAlerts
from ledger_client.audit.model import RegistryModel
from ledger_client.epcis.anchors import AnchorIndex
from ledger_client.epcis.history import (
    Kind,
    Subject,
    SubjectHistory,
    Tracker,
    chain_history,
    subject_of,
)
from ledger_client.events import (
    ItemsShipped,
    LotRegistered,
    LotStatusChanged,
    PacksCommissioned,
    Projection,
    RegistryEvent,
    decode,
    handlers,
    handles,
)
from ledger_client.logs import fetch_logs
from tests.utils.audit_scenario import GTIN_A, Scenario
from tests.utils.factories import OwnerOfEveryPrefix, owners


@pytest.mark.parametrize(
    "reader",
    [
        RegistryModel(),
        IndexProjection(None, lambda gtin: ("", ())),  # type: ignore[arg-type]
        EventAlerts(None),  # type: ignore[arg-type]
        AnchorIndex(),
        SubjectHistory(subject_of("pack", f"(01){GTIN_A}(21)S1", OwnerOfEveryPrefix(1))),
    ],
    ids=type,
)
def test_every_reader_is_a_projection(reader: Any) -> None:
    assert isinstance(reader, Projection)


class _Base:
    @handles(LotRegistered, LotStatusChanged)
    def lot(self, e: LotRegistered | LotStatusChanged) -> str:
        return "base lot"

    @handles(ItemsShipped)
    def shipped(self, e: ItemsShipped) -> str:
        return "base shipped"


class _Derived(_Base):
    def shipped(self, e: ItemsShipped) -> str:  # an override needs no mark of its own
        return "derived shipped"

    def helper(self) -> str:
        return "not a handler"


def test_handlers_are_the_marked_methods_bound_by_event_class() -> None:
    reader = _Derived()
    table = handlers(reader)
    assert set(table) == {LotRegistered, LotStatusChanged, ItemsShipped}
    assert table[LotRegistered](None) == table[LotStatusChanged](None) == "base lot"
    assert table[ItemsShipped](None) == "derived shipped"


def _two_pass(events: list[RegistryEvent], subject: Subject) -> list[RegistryEvent]:
    """The history as it was read before it was a projection: the packs' lots first, then
    the tracked events."""
    lots = set(subject.lots)
    for e in events:
        if isinstance(e, PacksCommissioned) and subject.packs & set(e.pack_ids):
            lots.add(e.lot_id)
    tracker = Tracker(
        Subject(subject.kind, subject.code, subject.packs, subject.units, frozenset(lots))
    )
    return [e for e in events if tracker.seen(e)]


def test_subject_history_in_one_pass_equals_two_passes(scenario: Scenario) -> None:
    events = decode(fetch_logs(scenario.w3, scenario.net.deployment))
    tracked = [e for e in events if isinstance(e, RegistryEvent)]
    cases = list(scenario.case_serials)
    subjects: list[tuple[Kind, str]] = [
        ("pack", f"(01){GTIN_A}(21){scenario.case_serials[cases[1]][0]}"),
        ("pack", f"(01){GTIN_A}(21){scenario.destroyed[0]}"),
        ("lot", f"(01){GTIN_A}(10)A1"),
        ("sscc", f"(00){cases[0]}"),
        ("sscc", f"(00){scenario.pallet}"),
    ]
    for kind, code in subjects:
        subject = subject_of(kind, code, owners(scenario.net))
        mine = chain_history(scenario.w3, scenario.net.deployment, subject)
        assert mine == _two_pass(tracked, subject), (kind, code)
        assert mine and any(e.name == "LotRegistered" for e in mine) == (kind != "sscc")
