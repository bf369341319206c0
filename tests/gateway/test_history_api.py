"""Custody histories from the index (gateway.services.history): a pack's history follows the
case and the pallet it travelled in, and each indexed row reads back as its typed event."""

from __future__ import annotations

import pytest
from gateway_helpers import EXPIRY, GTIN, Gateway
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db import models as m
from gateway.services.history import event_of, pack_history
from ledger_client.events import decode
from ledger_client.ids import gs1_check_digit
from ledger_client.logs import fetch_logs
from tests.utils.factories import owners

LOT = "HIST1"


def _sscc(serial: str) -> str:
    body = "10614141" + serial
    return body + str(gs1_check_digit(body))


CASE, PALLET = _sscc("770000001"), _sscc("770000002")


@pytest.fixture(scope="module")
def travelled(gateway: Gateway) -> Gateway:
    """Packs H1 and H2 in a case on a pallet, shipped to wholesaler_a, who unpacks the
    pallet, takes H2 out of the case and ships both to pharmacy_a, who unpacks the case."""
    net = gateway.world.net
    mf, wa, pa = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    mf.register_lot(GTIN, LOT, EXPIRY)
    mf.commission(GTIN, LOT, ["H1", "H2"], into_sscc=CASE)
    mf.pack(PALLET, units=[CASE])
    mf.ship(wa.address, units=[PALLET])
    wa.receive(units=[PALLET])
    wa.unpack([PALLET])
    wa.unpack_items(CASE, packs=[(GTIN, "H2")])
    wa.ship(pa.address, units=[CASE], packs=[(GTIN, "H2")])
    pa.receive(units=[CASE], packs=[(GTIN, "H2")])
    pa.unpack([CASE])
    gateway.wait_indexed()
    return gateway


def _steps(gateway: Gateway, serial: str) -> list[tuple[str, str | None]]:
    genuine = owners(gateway.world.net)
    history = pack_history(
        gateway.state.engine,
        genuine.pack_id(GTIN, serial),
        genuine.lot_id(GTIN, LOT),
        gateway.state.name_of,
    )
    return [(s.event, s.via) for s in history]


def test_pack_history_follows_the_case_and_the_pallet_while_the_pack_is_inside(
    travelled: Gateway,
) -> None:
    genuine = owners(travelled.world.net)
    case, pallet = "0x" + genuine.unit_id(CASE).hex(), "0x" + genuine.unit_id(PALLET).hex()
    assert _steps(travelled, "H1") == [
        ("LotRegistered", None),
        ("PacksCommissioned", None),
        ("ItemsPacked", case),
        ("ItemsShipped", pallet),
        ("ItemsReceived", pallet),
        ("UnitsDissolved", pallet),
        ("ItemsUnpacked", case),
        ("ItemsShipped", case),
        ("ItemsReceived", case),
        ("UnitsDissolved", case),
    ]
    # H2 left the case before its second shipment: that one is its own, not the case's
    assert _steps(travelled, "H2")[-3:] == [
        ("ItemsUnpacked", None),
        ("ItemsShipped", None),
        ("ItemsReceived", None),
    ]


def test_every_indexed_row_reads_back_as_the_event_the_chain_emitted(travelled: Gateway) -> None:
    with Session(travelled.state.engine) as conn:
        rows = conn.execute(select(m.ChainEvent).order_by(m.ChainEvent.id)).scalars().all()
        stored = [event_of(row) for row in rows]
    world = travelled.world
    emitted = list(
        decode(fetch_logs(world.w3, world.net.deployment, to_block=rows[-1].block_number))
    )
    assert stored == emitted
