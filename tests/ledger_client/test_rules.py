"""The pure rules: the nesting bound and the verdict are the registry's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ledger_client.devnet import DevNetwork
from ledger_client.gs1 import PackCode
from ledger_client.ids import lot_hash, lot_tag, pack_hash, pack_id, with_lot_tag
from ledger_client.ledger import Ledger
from ledger_client.rules import MAX_LEVEL, blocking_status, top_holder, verdict
from ledger_client.types import (
    LotStatus,
    PackFlag,
    PackStatus,
    UnitStatus,
    VerificationStatus,
)
from tests.utils.audit_scenario import GTIN_A, GTIN_B, GTIN_FOREIGN, Scenario
from tests.utils.facts import Facts

GTIN = "09506000134352"  # the demo manufacturer's


def test_max_level_is_the_registrys(net: DevNetwork) -> None:
    assert net["auditor"].registry.functions.MAX_LEVEL().call() == MAX_LEVEL


@dataclass(eq=False)
class Node:
    status: int
    parent: Node | None = None


def _parent(node: Node) -> Node | None:
    return node.parent


def test_top_holder_stops_at_the_top_or_the_nearest_dissolved_unit() -> None:
    active, dissolved = int(UnitStatus.ACTIVE), int(UnitStatus.DISSOLVED)
    top = Node(active)
    chain = [top]
    for _ in range(MAX_LEVEL - 1):
        chain.append(Node(active, chain[-1]))
    assert top_holder(chain[-1], _parent) is top
    middle = Node(dissolved, top)
    assert top_holder(Node(active, middle), _parent) is middle
    assert top_holder(middle, _parent) is middle


def test_top_holder_cannot_loop_on_a_tampered_nesting() -> None:
    a = Node(int(UnitStatus.ACTIVE))
    b = Node(int(UnitStatus.ACTIVE), a)
    a.parent = b
    top = top_holder(a, _parent)
    assert top is a or top is b


def test_blocking_status_keeps_the_registrys_order() -> None:
    both = int(PackFlag.SUSPECT | PackFlag.ILLEGITIMATE)
    assert blocking_status(both, LotStatus.RECALLED) == VerificationStatus.ILLEGITIMATE
    assert blocking_status(int(PackFlag.SUSPECT), LotStatus.RECALLED) == VerificationStatus.SUSPECT
    assert blocking_status(0, LotStatus.RECALLED) == VerificationStatus.RECALLED
    assert blocking_status(0, LotStatus.QUARANTINED) == VerificationStatus.QUARANTINED
    assert blocking_status(0, LotStatus.ACTIVE) is None


def _scans(scenario: Scenario) -> list[tuple[str, str, str, str]]:
    """(GTIN, serial, lot, expiry) scans of packs in every state, read right and wrong."""
    s = scenario
    case = list(s.case_serials.values())
    packs = [
        (GTIN_A, case[5][0], "A1", "301231"),  # with the manufacturer
        (GTIN_A, s.dispensed[-1], "A1", "301231"),  # dispensed
        (GTIN_A, s.flagged[0], "A1", "301231"),  # suspect
        (GTIN_A, "R01", "A2", "301231"),  # recalled lot
        (GTIN_A, s.destroyed[0], "A1", "301231"),  # destroyed, inside a dissolved case
        (GTIN_B, s.in_transit[0], "B1", "301231"),  # in transit
        (GTIN_B, s.lost[0], "K1", "301231"),  # lost in transit, inside a lost case
        (GTIN_B, s.cancelled[0], "K1", "301231"),  # shipment cancelled: with the maker again
        (GTIN_B, "E0", "E1", "200131"),  # expired lot
        (GTIN_FOREIGN, s.foreign[0], "F1", "301231"),  # outside the owner's prefix
        (GTIN_A, "NEVER", "A1", "301231"),  # never commissioned
    ]
    out = []
    for gtin, serial, lot, expiry in packs:
        out += [
            (gtin, serial, lot, expiry),
            (gtin, serial, "", ""),
            (gtin, serial, "WRONG", expiry),
            (gtin, serial, lot, "301130"),
        ]
    return out


def _verdicts(ledger: Ledger, scans: list[tuple[str, str, str, str]]) -> set[VerificationStatus]:
    """Check :func:`verdict` against the registry's ``verify`` for ``scans``; return the
    statuses seen."""
    now = int(ledger.w3.eth.get_block("latest")["timestamp"])
    seen = set()
    for gtin, serial, lot, expiry in scans:
        on_chain = ledger.verify(gtin, serial, lot or None, expiry or None)
        code = PackCode(gtin, serial, lot or None, expiry_yymmdd=expiry or None)
        owner = ledger.owners.index(gtin)
        pid = pack_id(gtin, serial, owner=owner)
        known = ledger.pack_states([pid])[0].status != PackStatus.NONE
        mine = verdict(code, Facts.of(on_chain) if known else None, owner, now)
        assert mine == on_chain.status, (gtin, serial, lot, expiry)
        seen.add(mine)
    return seen


def test_verdict_answers_as_the_registrys_verify(scenario: Scenario, net: DevNetwork) -> None:
    seen = _verdicts(scenario.net["auditor"], _scans(scenario))
    maker, regulator = net["manufacturer"], net["regulator"]
    maker.register_lot(GTIN, "Q1", "301231")
    maker.commission(GTIN, "Q1", ["Q1", "Q2"])
    regulator.flag([(GTIN, "Q1")], PackFlag.ILLEGITIMATE, reason_code=1)
    maker.set_lot_status(GTIN, "Q1", LotStatus.QUARANTINED)
    seen |= _verdicts(net["auditor"], [(GTIN, s, "Q1", "301231") for s in ("Q1", "Q2")])
    assert seen == set(VerificationStatus)


def test_verdict_checks_the_scanned_lot_against_the_pack_s_tag_as_the_registry_does(
    net: DevNetwork,
) -> None:
    """A pack commissioned into lot T1 with the tag of lot TX: both sides read the tag."""
    maker = net["manufacturer"]
    maker.register_lot(GTIN, "T1", "301231")
    word = with_lot_tag(pack_hash(GTIN, "T1"), lot_tag(GTIN, "T1", "TX"))
    maker.commission_words(lot_hash(GTIN, "T1"), [word])
    scans = [(GTIN, "T1", lot, "301231") for lot in ("TX", "T1")]
    assert _verdicts(net["auditor"], scans) == {
        VerificationStatus.VERIFIED,
        VerificationStatus.LOT_MISMATCH,
    }


@pytest.mark.parametrize("known", [True, False])
def test_verdict_without_a_prefix_owner_is_a_product_mismatch(known: bool) -> None:
    facts = Facts(1, 0, b"\x01" * 3, "0x" + "00" * 20, 301231, 2**40, 1, False)
    code = PackCode(GTIN_A, "S1")
    assert verdict(code, facts if known else None, 0, 0) == VerificationStatus.PRODUCT_MISMATCH
