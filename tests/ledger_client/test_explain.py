"""Contract refusals explained in the user's terms: codes, role and member names, a hint."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any

import pytest

from ledger_client import ids
from ledger_client._paths import ARTIFACTS_DIR
from ledger_client.contracts import Role
from ledger_client.devnet import DevNetwork
from ledger_client.epcis.capture import capture_document
from ledger_client.epcis.export import operations_to_events, to_epcis_json
from ledger_client.epcis.operations import Commission
from ledger_client.epcis.store import EventStore
from ledger_client.errors import DuplicateInBatchError
from ledger_client.explain import HINTS, code_map, explain, lot_label, pack_label, unit_label
from ledger_client.ids import lot_hash, pack_hash
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import ZERO_HASH, Authority, DecommissionReason, LotStatus
from tests.utils.factories import FOREIGN_GTIN, GTIN, commissioned, sscc


def _abi_errors() -> dict[str, list[dict[str, Any]]]:
    errors: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        for item in json.loads(path.read_text())["abi"]:
            if item["type"] == "error":
                errors[item["name"]] = item["inputs"]
    return errors


def _sample(param: dict[str, Any]) -> Any:
    kind = param["type"]
    if kind == "address":
        return "0x" + "11" * 20
    if kind.startswith("bytes"):
        return b"\x22" * 32
    if kind == "string":
        return "0614141"
    return 1


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


#: Hints for errors that no contract declares: the client's own, and Solidity's built-ins.
NOT_IN_THE_ABIS = {"DuplicateInBatch", "TransactionFailed", "UnknownRevert", "Error", "Panic"}


def test_every_custom_error_of_the_artifacts_has_a_hint() -> None:
    missing = sorted(set(_abi_errors()) - set(HINTS))
    assert not missing, f"add a hint to ledger_client.explain.HINTS for: {missing}"


def test_no_hint_is_left_for_an_error_the_contracts_no_longer_have() -> None:
    stale = sorted(set(HINTS) - set(_abi_errors()) - NOT_IN_THE_ABIS)
    assert not stale, f"remove from ledger_client.explain.HINTS: {stale}"
    assert "SerialRegistryNotLotOwner" not in HINTS


@pytest.mark.parametrize("error", sorted(_abi_errors()))
def test_each_hint_names_only_arguments_of_its_error(error: str) -> None:
    inputs = _abi_errors()[error]
    what, todo = HINTS[error]
    assert _fields(what) <= {i["name"] for i in inputs}
    exc = LedgerRevertError(error, {i["name"]: _sample(i) for i in inputs}, b"")
    text = explain(exc)
    assert text.startswith(f"{error}: ") and todo in text and "=" not in text


def test_missing_role_names_the_member_and_the_roles_not_the_bitmasks() -> None:
    account = "0x" + "ab" * 20
    exc = LedgerRevertError(
        "ConsortiumMissingRole",
        {"account": account, "required": int(Role.MANUFACTURER | Role.REPACKAGER), "roles": 16},
        b"",
    )
    text = explain(exc, members={account: "pharmacy_a"})
    assert "pharmacy_a (0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB) holds DISPENSER" in text
    assert "needs one of MANUFACTURER, REPACKAGER" in text
    assert "required=" not in text and "16" not in text


def test_ids_are_named_by_the_codes_the_user_sent(net: DevNetwork) -> None:
    genuine = net["auditor"].owners
    codes = code_map(packs=[(GTIN, "A1")], units=[sscc(1)], lots=[(GTIN, "L1")], owners=genuine)
    packed = LedgerRevertError(
        "SerialRegistryStillPacked", {"id": genuine.pack_id(GTIN, "A1")}, b""
    )
    assert explain(packed, codes).startswith(
        f"SerialRegistryStillPacked: {pack_label(GTIN, 'A1')} is still inside a case or pallet. "
        "Unpack the case or pallet holding it first"
    )
    unit = genuine.unit_id(sscc(1))
    assert unit_label(sscc(1)) in explain(
        LedgerRevertError("SerialRegistryInTransit", {"id": unit}, b""), codes
    )
    lot = genuine.lot_id(GTIN, "L1")
    lot_error = LedgerRevertError("SerialRegistryLotNotActive", {"lotId": lot, "status": 3}, b"")
    assert f"{lot_label(GTIN, 'L1')} is recalled" in explain(lot_error, codes)


def test_code_hashes_are_named_without_the_prefix_owners_and_ids_only_with_them(
    net: DevNetwork,
) -> None:
    codes = code_map(packs=[(GTIN, "A1")])
    assert codes == {pack_hash(GTIN, "A1"): pack_label(GTIN, "A1")}
    genuine = net["auditor"].owners
    with_ids = code_map(packs=[(GTIN, "A1"), (FOREIGN_GTIN, "F1")], owners=genuine)
    assert with_ids[genuine.pack_id(GTIN, "A1")] == pack_label(GTIN, "A1")
    # a code whose prefix nobody owns is named under owner 0, where no record can be
    assert with_ids[ids.pack_id(FOREIGN_GTIN, "F1", owner=0)] == pack_label(FOREIGN_GTIN, "F1")


def test_an_id_not_in_the_map_is_shown_in_hex() -> None:
    exc = LedgerRevertError("SerialRegistryUnknownPack", {"packId": b"\x01" * 32}, b"")
    assert "0x" + "01" * 32 + " is not on the ledger" in explain(exc)


def test_enums_times_flags_and_parameter_keys_are_spelled_out() -> None:
    reason = explain(
        LedgerRevertError(
            "SerialRegistryPackDecommissioned",
            {"packId": b"\x01" * 32, "reason": int(DecommissionReason.STOLEN)},
            b"",
        )
    )
    assert "is decommissioned (stolen)" in reason
    closed = LedgerRevertError(
        "SerialRegistryUndoWindowClosed", {"packId": b"\x01" * 32, "deadline": 1_767_225_600}, b""
    )
    assert "closed on 2026-01-01 00:00 UTC" in explain(closed)
    flagged = LedgerRevertError(
        "SerialRegistryPackFlagged", {"packId": b"\x01" * 32, "flags": 3}, b""
    )
    assert "is flagged SUSPECT+ILLEGITIMATE" in explain(flagged)
    key = b"UNDO_WINDOW".ljust(32, b"\0")
    assert "UNDO_WINDOW is not a consortium parameter" in explain(
        LedgerRevertError("ConsortiumUnknownParameter", {"key": key}, b"")
    )


def test_an_error_without_a_hint_still_shows_its_arguments() -> None:
    exc = LedgerRevertError("SomethingNew", {"id": b"\x01" * 32, "n": 7}, b"")
    assert explain(exc) == f"SomethingNew: id=0x{'01' * 32}, n=7"


def test_undecodable_revert_data_falls_back_to_the_raw_arguments() -> None:
    exc = LedgerRevertError("SerialRegistryStillPacked", {"data": b"\x12"}, b"")
    assert explain(exc).startswith("SerialRegistryStillPacked: data=0x12. Unpack the case")


def _refusal(call: Callable[[], object]) -> LedgerRevertError:
    with pytest.raises(LedgerRevertError) as caught:
        call()
    return caught.value


def test_a_real_still_packed_refusal_names_the_pack_and_what_to_do(net: DevNetwork) -> None:
    maker = net["manufacturer"]
    packs = commissioned(maker, ["A1", "A2"], into=sscc(7))
    exc = _refusal(lambda: maker.ship(net.address("wholesaler_a"), packs=packs))
    codes = code_map(packs=packs, owners=maker.owners)
    text = explain(exc, codes, {net.address("manufacturer"): "manufacturer"})
    assert text.startswith(f"SerialRegistryStillPacked: {pack_label(GTIN, 'A1')} is still inside")
    assert "rxledger unpack" in text


def test_a_real_missing_role_refusal_names_roles_and_member(net: DevNetwork) -> None:
    pharmacy = net["pharmacy_a"]
    # straight to the contract: the client refuses a lot under another member's prefix itself
    register = pharmacy.registry.functions.registerLot(lot_hash(GTIN, "NOPE"), 301231, ZERO_HASH)
    exc = _refusal(lambda: pharmacy.transact(register))
    text = explain(exc, members={pharmacy.address: "pharmacy_a"})
    assert f"pharmacy_a ({pharmacy.address}) holds DISPENSER" in text
    assert "needs one of MANUFACTURER, REPACKAGER" in text


def test_a_duplicate_in_a_batch_names_the_repeated_code(net: DevNetwork) -> None:
    maker = net["manufacturer"]
    with pytest.raises(DuplicateInBatchError) as caught:
        commissioned(maker, ["A1", "A1"])
    exc = caught.value
    assert not isinstance(exc, LedgerRevertError)  # the client's own check, not a revert
    assert isinstance(exc, ValueError)
    # commissioning sends code hashes, so its duplicate is named by one
    assert str(exc) == f"DuplicateInBatch(what='pack ids', id=0x{pack_hash(GTIN, 'A1').hex()})"
    assert explain(exc, code_map(packs=[(GTIN, "A1")])).startswith(
        f"DuplicateInBatch: the batch names {pack_label(GTIN, 'A1')} more than once"
    )


def test_an_epcis_event_the_ledger_refuses_is_explained_in_its_own_codes(net: DevNetwork) -> None:
    event = operations_to_events(
        [Commission(GTIN, "NOLOT", ("E1",))], event_time="2025-01-01T00:00:00Z"
    )[0]
    with EventStore() as store:
        _, result = capture_document(net["manufacturer"], to_epcis_json([event]), store)
    (failed,) = result.events[0].operations
    assert failed.error == "SerialRegistryUnknownLot"
    assert failed.message == (
        f"SerialRegistryUnknownLot: {lot_label(GTIN, 'NOLOT')} is not registered. "
        "Register it first: `rxledger lot register GTIN LOT EXPIRY` (a member commissions only "
        "into its own lots). A lot whose owner keys its lots is found by number only with the "
        "owner's lot key (`--lot-keys FILE`), or through one of its packs (`--pack SERIAL`)."
    )


def test_authority_too_low_names_both_authorities() -> None:
    exc = LedgerRevertError(
        "SerialRegistryAuthorityTooLow",
        {"id": b"\x01" * 32, "raisedBy": int(Authority.REGULATOR), "caller": int(Authority.OWNER)},
        b"",
    )
    assert explain(exc).startswith(
        f"SerialRegistryAuthorityTooLow: 0x{'01' * 32} was set at regulator level, above the "
        "owner level of this change. Only the authority that raised a flag or lot status, or a "
        "higher one (holder < owner < regulator < council)"
    )


def test_a_real_repeated_recall_request_names_the_lot_and_the_regulator(
    net: DevNetwork,
) -> None:
    regulator = net["regulator"]
    commissioned(net["manufacturer"], ["A1"], lot="L1")
    regulator.set_lot_status(GTIN, "L1", LotStatus.RECALLED)
    exc = _refusal(lambda: regulator.set_lot_status(GTIN, "L1", LotStatus.RECALLED))
    codes = code_map(lots=[(GTIN, "L1")], owners=regulator.owners)
    text = explain(exc, codes, {regulator.address: "regulator"})
    assert text.startswith(
        f"SerialRegistryRecallAlreadyRequested: regulator ({regulator.address}) asked for the "
        f"recall of {lot_label(GTIN, 'L1')} already. A regulator's recall of another member's "
        "lot takes a second regulator"
    )


def test_a_real_cancel_by_another_member_names_the_proposal_and_the_caller(
    net: DevNetwork,
) -> None:
    m, regulator = net["manufacturer"], net["regulator"]
    data = m.consortium.encode_abi("revokePrefix", args=["9506000"])
    m.transact(m.consortium.functions.propose(data))
    exc = _refusal(lambda: regulator.transact(regulator.consortium.functions.cancel(0)))
    text = explain(exc, members={regulator.address: "regulator"})
    assert text.startswith(
        f"ConsortiumNotProposer: regulator ({regulator.address}) did not make proposal 0. "
        "Only its proposer cancels a proposal directly"
    )
