"""The consortium network's scenario: a case of packs captured (EPCIS) at the manufacturer's
gateway, received through the wholesaler's and verified at the pharmacy's, each gateway on
its own node. Each step waits until the next gateway's index holds the block it wrote."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger_client.dev.consortium import Consortium, GatewayServer
from ledger_client.dev.netfolder import PartnerSite
from ledger_client.errors import ConfigurationError
from ledger_client.ids import with_check_digit

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
LD = {"content-type": "application/ld+json"}
EXPIRY = "301231"


@dataclass
class Shipment:
    """What the scenario wrote and saw: the product, lot and serials, the packs' codes, the
    case, and each step as (partner, what it did, result)."""

    gtin: str
    lot: str
    serials: list[str]
    codes: list[str]
    case: str
    steps: list[tuple[str, str, str]] = field(default_factory=list)


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"type": kind, "eventTime": now, "eventTimeZoneOffset": "+00:00", **fields}


def _document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": events[0]["eventTime"],
        "epcisBody": {"eventList": list(events)},
    }


def _with_role(consortium: Consortium, role: str) -> PartnerSite:
    for p in consortium.folder.partners:
        if role in p.roles and (p.prefixes or role != "MANUFACTURER"):
            return p
    raise ConfigurationError(
        f"the scenario needs a partner with the {role} role"
        + (" and a GS1 company prefix" if role == "MANUFACTURER" else "")
    )


def _capture(consortium: Consortium, gateway: GatewayServer, doc: dict[str, Any]) -> int:
    """Capture ``doc`` at ``gateway``; return the block of its last transaction."""
    with gateway.client() as client:
        response = client.post("/v1/capture", json=doc, headers=LD)
        if response.status_code != 202:
            raise ConfigurationError(f"capture at {gateway.url} refused: {response.text}")
        location = response.headers["Location"]
        deadline = time.monotonic() + 180
        while (job := client.get(location).json())["running"]:
            if time.monotonic() > deadline:
                raise ConfigurationError(f"capture job {location} at {gateway.url} still runs")
            time.sleep(0.5)
    if not job["success"]:
        raise ConfigurationError(f"capture at {gateway.url} failed: {job['errors']}")
    tx = job["results"][-1]["operations"][-1]["tx_hashes"][-1]
    w3 = consortium.network.w3(0)
    return int(w3.eth.wait_for_transaction_receipt(tx, timeout=180)["blockNumber"])


def _verify(gateway: GatewayServer, code: str) -> str:
    with gateway.client() as client:
        return str(client.get("/v1/verify", params={"code": code}).json()["status"])


def _shipping_document(
    gtin: str, lot: str, serials: list[str], case_epc: str, to_gln: str
) -> dict[str, Any]:
    """Commission ``serials`` of ``lot``, pack them into the case, ship it to ``to_gln``."""
    return _document(
        _event(
            "ObjectEvent",
            epcList=[f"https://id.gs1.org/01/{gtin}/21/{s}" for s in serials],
            action="ADD",
            bizStep="commissioning",
            disposition="active",
            ilmd={"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": "2030-12-31"},
        ),
        _event(
            "AggregationEvent",
            parentID=case_epc,
            childEPCs=[f"https://id.gs1.org/01/{gtin}/21/{s}" for s in serials],
            action="ADD",
            bizStep="packing",
        ),
        _event(
            "ObjectEvent",
            epcList=[case_epc],
            action="OBSERVE",
            bizStep="shipping",
            disposition="in_transit",
            destinationList=[
                {
                    "type": "owning_party",
                    "destination": f"https://id.gs1.org/417/{to_gln}",
                }
            ],
        ),
    )


def play_shipment(consortium: Consortium, packs: int = 3) -> Shipment:
    """Commission ``packs`` packs into a case and ship it (manufacturer's gateway), verify a
    pack (pharmacy's), receive the case (wholesaler's), verify it again (pharmacy's)."""
    maker = _with_role(consortium, "MANUFACTURER")
    wholesaler = _with_role(consortium, "WHOLESALER")
    pharmacy = _with_role(consortium, "DISPENSER")
    stamp = datetime.now(UTC).strftime("%y%m%d%H%M%S")
    prefix = maker.prefixes[0]
    gtin = "0" + with_check_digit(prefix + "1".zfill(12 - len(prefix)))
    case = with_check_digit("0" + prefix + stamp.zfill(16 - len(prefix))[-(16 - len(prefix)) :])
    lot = f"N{stamp}"
    serials = [f"{lot}-{i}" for i in range(1, packs + 1)]
    codes = [f"(01){gtin}(17){EXPIRY}(10){lot}(21){s}" for s in serials]
    shipment = Shipment(gtin, lot, serials, codes, f"(00){case}")
    gateways = consortium.gateways
    case_epc = f"https://id.gs1.org/00/{case}"
    shipped = _capture(
        consortium,
        gateways[maker.name],
        _shipping_document(gtin, lot, serials, case_epc, wholesaler.gln),
    )
    shipment.steps.append(
        (maker.name, f"captured: {packs} packs commissioned into case {shipment.case}, shipped "
         f"to {wholesaler.name}", f"block {shipped}")
    )  # fmt: skip
    gateways[pharmacy.name].wait_indexed(shipped)
    status = _verify(gateways[pharmacy.name], shipment.codes[0])
    shipment.steps.append((pharmacy.name, f"verified {shipment.codes[0]}", status))
    received = _capture(
        consortium,
        gateways[wholesaler.name],
        _document(_event("ObjectEvent", epcList=[case_epc], action="OBSERVE", bizStep="receiving")),
    )
    shipment.steps.append(
        (wholesaler.name, f"captured: received {shipment.case}", f"block {received}")
    )
    gateways[pharmacy.name].wait_indexed(received)
    status = _verify(gateways[pharmacy.name], shipment.codes[0])
    shipment.steps.append((pharmacy.name, f"verified {shipment.codes[0]}", status))
    return shipment
