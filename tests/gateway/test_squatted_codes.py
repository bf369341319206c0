"""A squatter's records over HTTP: another producer commissions the manufacturer's codes (and a
code of nobody's prefix) under its own lot, straight to the contract, and hands them to the
dispensing pharmacy. Verification answers for the genuine records only, from the index and the
chain, and POST /v1/dispense never decommissions a squatter's record: it computes the genuine
id, so the squatted code is refused with a clear 4xx."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from gateway_helpers import CONSOLE, EXPIRY, GTIN, Gateway, dm

from ledger_client.ids import lot_hash, pack_id, pack_word
from ledger_client.types import ZERO_HASH, PackStatus
from tests.utils.factories import FOREIGN_GTIN, owners

#: The genuine lot, and the squatter's lot of the same codes.
LOT, SQUAT_LOT = "GEN", "SQ"
#: Serial of a genuine pack in pharmacy A's custody that the squatter also commissions.
BOTH = "SQ1"
#: Serial only the squatter commissions (no genuine pack has it).
SQUATTED = "SQ2"
#: Serial of the code of nobody's prefix the squatter commissions.
UNOWNED = "SQ3"


@dataclass(frozen=True)
class Squat:
    """The gateway after the squat, and the ids of the squatter's records."""

    gw: Gateway
    records: dict[tuple[str, str], bytes]


@pytest.fixture(scope="module")
def squat(gateway: Gateway) -> Squat:
    net = gateway.world.net
    maker, squatter, pharmacy = net["manufacturer"], net["repackager"], net["pharmacy_a"]
    maker.register_lot(GTIN, LOT, EXPIRY)
    maker.commission(GTIN, LOT, [BOTH])
    maker.ship(pharmacy.address, packs=[(GTIN, BOTH)])
    pharmacy.receive(packs=[(GTIN, BOTH)])
    codes = [(GTIN, BOTH), (GTIN, SQUATTED), (FOREIGN_GTIN, UNOWNED)]
    reg = squatter.registry.functions
    for gtin in (GTIN, FOREIGN_GTIN):
        squatter.transact(reg.registerLot(lot_hash(gtin, SQUAT_LOT), int(EXPIRY), ZERO_HASH))
        serials = [s for g, s in codes if g == gtin]
        words = [pack_word(gtin, s, SQUAT_LOT) for s in serials]
        squatter.transact(reg.commission(lot_hash(gtin, SQUAT_LOT), ZERO_HASH, words, ZERO_HASH))
    records = {c: pack_id(*c, owner=squatter.member_index) for c in codes}
    ids = list(records.values())
    squatter.transact(reg.ship(ids, [], pharmacy.address, ZERO_HASH))
    pharmacy.transact(pharmacy.registry.functions.receiveItems(ids, [], ZERO_HASH))
    assert all(v.custodian == pharmacy.address for v in pharmacy.pack_states(ids))
    gateway.wait_indexed()
    return Squat(gateway, records)


def verify(gw: Gateway, code: str, source: str) -> dict[str, object]:
    r = gw.client.get("/v1/verify", params={"code": code, "source": source}, headers=CONSOLE)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.parametrize("source", ["index", "chain"])
@pytest.mark.parametrize(
    ("code", "status"),
    [
        (dm(BOTH, LOT), "VERIFIED"),  # the genuine pack, in pharmacy A's custody
        (dm(BOTH, SQUAT_LOT), "LOT_MISMATCH"),  # the squatter's lot never counts
        (dm(SQUATTED, SQUAT_LOT), "UNKNOWN"),  # no genuine pack has this serial
        (dm(UNOWNED, SQUAT_LOT, gtin=FOREIGN_GTIN), "PRODUCT_MISMATCH"),  # nobody's prefix
    ],
)
def test_verification_answers_for_the_genuine_record_only(
    squat: Squat, code: str, status: str, source: str
) -> None:
    body = verify(squat.gw, code, source)
    assert body["status"] == status
    genuine = owners(squat.gw.world.net).pack_id(GTIN, BOTH)
    pack = body["pack"]
    if status in ("VERIFIED", "LOT_MISMATCH"):
        assert isinstance(pack, dict)
        assert pack["pack_id"] == "0x" + genuine.hex()
        assert pack["lot_owner"] == squat.gw.world.net.address("manufacturer")
    else:
        assert pack is None and body["verdict"] == "red"


def test_dispensing_a_squatted_code_is_refused_and_leaves_the_squatter_s_record(
    squat: Squat,
) -> None:
    gw, squatter = squat.gw, squat.gw.world.net["repackager"]
    refused = gw.client.post(
        "/v1/dispense", json={"codes": [dm(SQUATTED, SQUAT_LOT)]}, headers=CONSOLE
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "SerialRegistryUnknownPack"
    assert f"pack (01){GTIN}(21){SQUATTED} is not on the ledger" in refused.json()["detail"]
    unowned = dm(UNOWNED, SQUAT_LOT, gtin=FOREIGN_GTIN)
    refused = gw.client.post("/v1/dispense", json={"codes": [unowned]}, headers=CONSOLE)
    assert refused.status_code == 400, refused.text
    assert "no member owns the GS1 company prefix" in refused.json()["detail"]
    squatted = squatter.pack_states(list(squat.records.values()))
    assert [v.status for v in squatted] == [PackStatus.ACTIVE] * 3  # nothing was written


def test_dispensing_a_code_the_squatter_also_holds_decommissions_the_genuine_pack(
    squat: Squat,
) -> None:
    gw, net = squat.gw, squat.gw.world.net
    done = gw.client.post("/v1/dispense", json={"codes": [dm(BOTH, LOT)]}, headers=CONSOLE)
    assert done.status_code == 200, done.text
    genuine = net["auditor"].pack_state(GTIN, BOTH)
    assert genuine.status == PackStatus.DECOMMISSIONED
    squatted = net["repackager"].pack_states([squat.records[(GTIN, BOTH)]])[0]
    assert squatted.status == PackStatus.ACTIVE
