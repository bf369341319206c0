"""EPCIS capture of the four custody steps on a shipment under way (cancel, refuse, lost,
found): each CBV event maps to its SerialRegistry call, anchors its hash once, and a step the
chain refuses is reported with the contract's error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from capture_helpers import CONSOLE_KEY, capture, commissioning, document, event, sgtin, shipping
from gateway_helpers import GTIN, Gateway, World, operator_key, running_gateway

from ledger_client.epcis.record import member_gln

SERIALS = ["CX1", "CX2", "CX3", "CX4"]


@pytest.fixture(scope="module")
def gateways(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Gateway]]:
    """Gateways operated by the manufacturer and by wholesaler A, with CX1-CX4 shipped from
    the one to the other."""
    mfr_db = tmp_path_factory.mktemp("mfr") / "gateway.db"
    wa_db = tmp_path_factory.mktemp("wa") / "gateway.db"
    with (
        running_gateway(world, mfr_db, operator_key=operator_key("manufacturer"),
                        console_key=CONSOLE_KEY) as mfr,
        running_gateway(world, wa_db, operator_key=operator_key("wholesaler_a"),
                        console_key=CONSOLE_KEY) as wa,
    ):  # fmt: skip
        job = capture(
            mfr,
            document(
                commissioning("CXLOT", SERIALS),
                shipping([sgtin(s) for s in SERIALS], gln(world, "wholesaler_a"), 1),
            ),
        )
        assert job["success"] is True, job
        yield {"manufacturer": mfr, "wholesaler_a": wa}


def gln(world: World, name: str) -> str:
    return member_gln(world.net["manufacturer"], world.net.address(name))


def step(world: World, serial: str, biz_step: str, disposition: str, to: str | None) -> Any:
    """A custody step's event on pack ``serial``, naming member ``to`` as its destination."""
    fields: dict[str, Any] = {}
    if to is not None:
        fields["destinationList"] = [
            {"type": "owning_party", "destination": f"https://id.gs1.org/417/{gln(world, to)}"}
        ]
    return event(
        "ObjectEvent",
        5,
        epcList=[sgtin(serial)],
        action="OBSERVE",
        bizStep=biz_step,
        disposition=disposition,
        **fields,
    )


def only_operation(job: Any) -> Any:
    (result,) = job["results"]
    (operation,) = result["operations"]
    return operation


@pytest.mark.parametrize(
    ("serial", "actor", "biz_step", "disposition", "to", "operation"),
    [
        ("CX1", "manufacturer", "void_shipping", "in_progress", "wholesaler_a", "CancelShipment"),
        ("CX2", "wholesaler_a", "arriving", "returned", "manufacturer", "Refuse"),
        ("CX3", "manufacturer", "transporting", "unknown", "wholesaler_a", "ReportLost"),
    ],
)
def test_each_custody_step_is_applied_once(
    gateways: dict[str, Gateway],
    world: World,
    serial: str,
    actor: str,
    biz_step: str,
    disposition: str,
    to: str,
    operation: str,
) -> None:
    doc = document(step(world, serial, biz_step, disposition, to))
    job = capture(gateways[actor], doc)
    applied = only_operation(job)
    assert (applied["operation"], applied["status"]) == (operation, "applied"), job
    view = world.net["auditor"].pack_state(GTIN, serial)
    manufacturer, wholesaler = world.net.address("manufacturer"), world.net.address("wholesaler_a")
    if operation == "CancelShipment":
        assert view.custodian == manufacturer and not view.in_transit
    elif operation == "Refuse":
        assert view.in_transit and view.pending_to == manufacturer
    else:
        assert view.lost and view.pending_to == wholesaler
    before = world.w3.eth.block_number
    again = only_operation(capture(gateways[actor], doc))
    assert again["status"] == "skipped" and world.w3.eth.block_number == before


def test_found_puts_lost_items_in_transit_again(gateways: dict[str, Gateway], world: World) -> None:
    mfr = gateways["manufacturer"]
    lost = capture(mfr, document(step(world, "CX4", "transporting", "unknown", "wholesaler_a")))
    assert only_operation(lost)["status"] == "applied"
    assert world.net["auditor"].pack_state(GTIN, "CX4").lost
    found = capture(mfr, document(step(world, "CX4", "transporting", "in_transit", "wholesaler_a")))
    assert (only_operation(found)["operation"], only_operation(found)["status"]) == (
        "ReportFound",
        "applied",
    )
    view = world.net["auditor"].pack_state(GTIN, "CX4")
    assert view.in_transit and not view.lost
    assert view.pending_to == world.net.address("wholesaler_a")


def test_a_step_the_chain_refuses_is_reported_with_its_error(
    gateways: dict[str, Gateway], world: World
) -> None:
    # S1 is held by pharmacy_a: no shipment of it is under way to cancel
    job = capture(
        gateways["manufacturer"],
        document(step(world, "S1", "void_shipping", "in_progress", "wholesaler_a")),
    )
    failed = only_operation(job)
    assert (failed["operation"], failed["status"]) == ("CancelShipment", "failed")
    assert failed["error"] == "SerialRegistryNotInTransit"
    nowhere = only_operation(
        capture(
            gateways["manufacturer"], document(step(world, "S2", "transporting", "unknown", None))
        )
    )
    assert (nowhere["status"], nowhere["error"]) == ("failed", "NoDestination")
