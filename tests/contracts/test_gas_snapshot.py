"""Gas of each lifecycle step against the committed snapshot: gas changes only on purpose.

After an intended change, rewrite the snapshot with
``RXLEDGER_UPDATE_GAS_SNAPSHOT=1 python -m pytest tests/contracts/test_gas_snapshot.py``
and commit it with the change that explains it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ledger_client.chain import fund
from ledger_client.contracts import Role
from ledger_client.devnet import DevNetwork
from ledger_client.ledger import Ledger
from ledger_client.types import DecommissionReason, ExceptionKind, LotStatus
from tests.utils.chain import Chain
from tests.utils.factories import make_sscc
from tests.utils.governance import govern

SNAPSHOT = Path(__file__).resolve().parents[2] / "snapshots" / "gas.json"
GTIN = "09506000134352"


def _lifecycle(net: DevNetwork) -> dict[str, int]:
    m, wa, pa = net["manufacturer"], net["wholesaler_a"], net["pharmacy_a"]
    case_a, case_b, pallet = (make_sscc("0614141", n) for n in (1, 2, 3))
    serials = [f"G{i:03d}" for i in range(100)]
    packs = [(GTIN, s) for s in serials]
    gas = {"register_lot": m.register_lot(GTIN, "GAS1", "301231").gas_used}
    gas["commission_50_into_new_case"] = m.commission(GTIN, "GAS1", serials[:50], case_a)[
        0
    ].gas_used
    gas["commission_50_into_new_case_2"] = m.commission(GTIN, "GAS1", serials[50:], case_b)[
        0
    ].gas_used
    gas["pack_2_cases_on_new_pallet"] = m.pack(pallet, units=[case_a, case_b]).gas_used
    gas["ship_pallet"] = m.ship(wa.address, units=[pallet])[0].gas_used
    gas["receive_pallet"] = wa.receive(units=[pallet])[0].gas_used
    wa.ship(pa.address, units=[pallet])
    pa.receive(units=[pallet])
    gas["unpack_pallet"] = pa.unpack([pallet]).gas_used
    gas["unpack_2_cases"] = pa.unpack([case_a, case_b]).gas_used
    gas["dispense_50"] = pa.decommission(packs[:50], DecommissionReason.DISPENSED)[0].gas_used
    gas["dispense_1"] = pa.decommission(packs[50:51], DecommissionReason.DISPENSED)[0].gas_used
    gas["undo_1"] = pa.undo_decommission(packs[50:51])[0].gas_used
    gas["recall_lot"] = m.set_lot_status(GTIN, "GAS1", LotStatus.RECALLED).gas_used
    gas["destroy_49"] = pa.decommission(packs[51:], DecommissionReason.DESTROYED)[0].gas_used
    return gas


def _exceptions(net: DevNetwork, reg_2: Ledger) -> dict[str, int]:
    """A pallet's shipment cancelled, refused and received back, lost and found; exception
    records opened, answered and resolved (by the opener; by two regulators)."""
    m, wa, reg = net["manufacturer"], net["wholesaler_a"], net["regulator"]
    case, pallet = make_sscc("0614141", 11), make_sscc("0614141", 12)
    m.register_lot(GTIN, "GAS2", "301231")
    m.commission(GTIN, "GAS2", [f"X{i:02d}" for i in range(10)], case)
    m.pack(pallet, units=[case])
    m.ship(wa.address, units=[pallet])
    gas = {"cancel_pallet": m.cancel_shipment(wa.address, units=[pallet])[0].gas_used}
    m.ship(wa.address, units=[pallet])
    gas["refuse_pallet"] = wa.refuse(m.address, units=[pallet])[0].gas_used
    gas["receive_refused_pallet"] = m.receive(units=[pallet])[0].gas_used
    m.ship(wa.address, units=[pallet])
    gas["report_pallet_lost"] = m.report_lost(wa.address, units=[pallet])[0].gas_used
    gas["report_pallet_found"] = m.report_found(wa.address, units=[pallet])[0].gas_used
    kind = ExceptionKind.DATA_WITHOUT_PRODUCT
    first, receipt = wa.open_exception(m.address, kind, units=[pallet])
    gas["open_exception"] = receipt.gas_used
    gas["answer_exception"] = m.answer_exception(first).gas_used
    gas["resolve_exception_by_opener"] = wa.resolve_exception(first).gas_used
    second, _ = wa.open_exception(m.address, kind, units=[case])
    gas["request_exception_closure"] = reg.resolve_exception(second).gas_used
    gas["close_exception_by_second_regulator"] = reg_2.resolve_exception(second).gas_used
    return gas


def test_lifecycle_gas_matches_the_committed_snapshot(net: DevNetwork, chain: Chain) -> None:
    reg_2 = chain.ledger("regulator_2")
    fund(chain.w3, [reg_2.address])
    govern(net, "addMember", reg_2.address, 4012354000015, int(Role.REGULATOR), 4_102_444_800)
    measured = _lifecycle(net) | _exceptions(net, reg_2)
    if os.environ.get("RXLEDGER_UPDATE_GAS_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(measured, indent=2) + "\n")
    committed = json.loads(SNAPSHOT.read_text())
    changed = {k: (committed.get(k), v) for k, v in measured.items() if committed.get(k) != v}
    assert not changed, f"gas changed (snapshot, now): {changed}; see this module's docstring"
