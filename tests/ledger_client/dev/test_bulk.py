"""The bulk sender's call table comes from the compiled registry ABI and encodes as web3 does;
on the in-process chain it signs and mines each call."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from ledger_client.chain import dev_account
from ledger_client.contracts import artifact
from ledger_client.dev.bulk import SIGNATURES, BulkSender, calldata
from ledger_client.devnet import DevNetwork
from ledger_client.ids import lot_hash, lot_id
from ledger_client.types import LotStatus

ZERO = b"\x00" * 32
SAMPLE = {
    "bytes32": b"\x01" * 32,
    "bytes32[]": [b"\x02" * 32, b"\x03" * 32],
    "uint8": 1,
    "uint32": 301231,
    "address": dev_account("pharmacy_a").address,
}


def test_signatures_are_every_state_changing_function_of_the_compiled_registry() -> None:
    abi = artifact("SerialRegistry")["abi"]
    writes = [f for f in abi if f["type"] == "function" and f["stateMutability"] != "view"]
    assert sorted(SIGNATURES) == sorted(f["name"] for f in writes)  # no overloads to lose
    assert SIGNATURES["ship"] == "ship(bytes32[],bytes32[],address,bytes32)"


def test_calldata_is_what_web3_encodes_from_the_abi() -> None:
    registry = Web3().eth.contract(abi=artifact("SerialRegistry")["abi"])
    for name, signature in SIGNATURES.items():
        types = signature[signature.index("(") + 1 : -1].split(",")
        args: list[Any] = [SAMPLE[t] for t in types]
        assert "0x" + calldata(name, *args).hex() == registry.encode_abi(name, args), name


def test_bulk_calls_are_mined_on_the_in_process_chain(net: DevNetwork) -> None:
    maker, regulator = net["manufacturer"], net["regulator"]
    accounts = {net.address(n): dev_account(n) for n in ("manufacturer", "regulator")}
    bulk = BulkSender(maker.w3, net.deployment.registry, accounts)
    code_hash = lot_hash("09506000134352", "BULK1")
    bulk.call(maker.address, "registerLot", code_hash, 301231, ZERO, tag="lot")
    lid = lot_id("09506000134352", "BULK1", owner=maker.member_index)
    bulk.call(regulator.address, "setLotStatus", lid, int(LotStatus.RECALLED), ZERO)
    assert bulk.mine() == 2 and bulk.sent == 2
    assert set(bulk.hashes) == {"lot"}
    lot = maker.lot_state("09506000134352", "BULK1")  # one regulator's recall is a request
    assert (lot.status, lot.recall_requested_by) == (LotStatus.QUARANTINED, regulator.address)
