"""Relayed requests: members sign, any member relays, the chain sees the signer."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from eth_account.messages import encode_typed_data

from ledger_client.devnet import DevNetwork, demo_index
from ledger_client.ids import lot_hash, lot_id, pack_id, pack_word
from ledger_client.ledger import Ledger
from ledger_client.relay import ForwardRequest, ForwardRequestError, relay, sign_request, typed_data
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import ZERO_HASH, PackStatus
from tests.utils.chain import Chain
from tests.utils.factories import EXPIRY, GTIN, event_hash

MAKER = demo_index("manufacturer")
#: The manufacturer's lot LOT1: its code hash (which commissioning sends) and its id.
LOT_HASH = lot_hash(GTIN, "LOT1")
LOT = lot_id(GTIN, "LOT1", owner=MAKER)


def commission_call(ledger: Ledger, serials: list[str]):  # type: ignore[no-untyped-def]
    words = [pack_word(GTIN, s, "LOT1") for s in serials]
    return ledger.registry.functions.commission(LOT_HASH, ZERO_HASH, words, event_hash("relayed"))


@pytest.fixture
def lot(net: DevNetwork) -> DevNetwork:
    net["manufacturer"].register_lot(GTIN, "LOT1", EXPIRY)
    return net


def expect_revert(relayer: Ledger, request: ForwardRequest, error: str) -> LedgerRevertError:
    with pytest.raises(LedgerRevertError) as caught:
        relay(relayer, request)
    assert caught.value.error == error, str(caught.value)
    return caught.value


def test_a_relayed_commission_acts_as_the_signer(lot: DevNetwork) -> None:
    m, gateway = lot["manufacturer"], lot["wholesaler_a"]
    request = sign_request(m, commission_call(m, ["R1", "R2"]))
    receipt = relay(gateway, ForwardRequest.from_json(request.to_json()))
    [event] = receipt.events
    assert event.name == "PacksCommissioned"
    assert event.args["by"] == m.address
    assert event.args["eventHash"] == event_hash("relayed")
    state = m.pack_state(GTIN, "R1")
    assert (state.status, state.custodian) == (PackStatus.ACTIVE, m.address)
    tx = lot.ledgers["auditor"].w3.eth.get_transaction(receipt.tx_hash)
    assert tx["from"] == gateway.address  # the relayer paid
    assert m.forwarder.functions.nonces(m.address).call() == 1


def test_the_request_round_trips_through_json(lot: DevNetwork) -> None:
    m = lot["manufacturer"]
    request = sign_request(m, commission_call(m, ["R1"]))
    as_dict = request.to_dict()
    assert set(as_dict) == {"from", "to", "value", "gas", "nonce", "deadline", "data", "signature"}
    assert as_dict["from"] == m.address and as_dict["data"].startswith("0x")
    assert ForwardRequest.from_json(request.to_json()) == request
    assert m.forwarder.functions.verify(request.as_struct()).call()


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        "not json",
        '{"from": "0x1"}',
        None,  # filled in below: a valid request with a bad field
    ],
)
def test_malformed_request_json_is_rejected(lot: DevNetwork, raw: str | None) -> None:
    if raw is None:
        m = lot["manufacturer"]
        bad = sign_request(m, commission_call(m, ["R1"])).to_dict()
        bad["gas"] = -1
        raw = json.dumps(bad)
    with pytest.raises(ForwardRequestError):
        ForwardRequest.from_json(raw)


@pytest.mark.parametrize("field", ["data", "gas", "to"])
def test_a_tampered_request_is_rejected_as_invalid_signer(lot: DevNetwork, field: str) -> None:
    m, gateway = lot["manufacturer"], lot["wholesaler_a"]
    request = sign_request(m, commission_call(m, ["R1"]))
    tampered = {
        "data": replace(
            request, data=bytes.fromhex(commission_call(m, ["EVIL"])._encode_transaction_data()[2:])
        ),
        "gas": replace(request, gas=request.gas + 1),
        "to": replace(request, to=lot.deployment.directory),
    }[field]
    error = expect_revert(gateway, tampered, "ERC2771ForwarderInvalidSigner")
    assert error.args_by_name["from"] == m.address.lower()
    assert m.pack_state(GTIN, "R1").status == PackStatus.NONE
    assert m.pack_state(GTIN, "EVIL").status == PackStatus.NONE


def test_a_replayed_request_is_rejected(lot: DevNetwork) -> None:
    m, gateway = lot["manufacturer"], lot["wholesaler_a"]
    request = sign_request(m, commission_call(m, ["R1"]))
    relay(gateway, request)
    # The nonce it was signed with is used: the forwarder recovers another signer.
    expect_revert(gateway, request, "ERC2771ForwarderInvalidSigner")
    expect_revert(lot["pharmacy_a"], request, "ERC2771ForwarderInvalidSigner")
    assert m.forwarder.functions.nonces(m.address).call() == 1


def test_an_expired_request_is_rejected(lot: DevNetwork, chain: Chain) -> None:
    m, gateway = lot["manufacturer"], lot["wholesaler_a"]
    request = sign_request(m, commission_call(m, ["R1"]), ttl=600)
    chain.time_travel(request.deadline + 1)
    error = expect_revert(gateway, request, "ERC2771ForwarderExpiredRequest")
    assert error.args_by_name["deadline"] == request.deadline
    assert m.pack_state(GTIN, "R1").status == PackStatus.NONE


def test_a_request_signed_for_another_chain_is_rejected(lot: DevNetwork) -> None:
    m, gateway = lot["manufacturer"], lot["wholesaler_a"]
    chain_id = m.w3.eth.chain_id
    request = sign_request(m, commission_call(m, ["R1"]), chain_id=chain_id + 1)
    expect_revert(gateway, request, "ERC2771ForwarderInvalidSigner")
    assert m.pack_state(GTIN, "R1").status == PackStatus.NONE


def test_a_request_for_another_forwarder_is_rejected(lot: DevNetwork) -> None:
    m = lot["manufacturer"]
    request = sign_request(m, commission_call(m, ["R1"]))
    data = typed_data(request, m.w3.eth.chain_id, lot.deployment.registry)
    assert data["domain"]["verifyingContract"] == lot.deployment.registry
    signed = m.account.sign_message(encode_typed_data(full_message=data))
    expect_revert(
        lot["wholesaler_a"],
        replace(request, signature=bytes(signed.signature)),
        "ERC2771ForwarderInvalidSigner",
    )


def test_a_request_signed_by_a_non_member_fails_with_the_registry_error(
    lot: DevNetwork, chain: Chain
) -> None:
    outsider = chain.ledger("outsider")
    m = lot["manufacturer"]
    with pytest.raises(LedgerRevertError) as caught:  # estimating already tells the signer
        sign_request(outsider, commission_call(outsider, ["R1"]))
    assert caught.value.error == "ConsortiumNotMember"
    request = sign_request(outsider, commission_call(outsider, ["R1"]), gas=300_000)
    error = expect_revert(m, request, "ConsortiumNotMember")
    assert error.args_by_name["account"] == outsider.address.lower()
    assert m.forwarder.functions.nonces(outsider.address).call() == 0  # nothing was written


def test_a_relayed_call_that_the_registry_refuses_reports_its_error(lot: DevNetwork) -> None:
    m = lot["manufacturer"]
    m.commission(GTIN, "LOT1", ["R1"])
    request = sign_request(m, commission_call(m, ["R2"]))
    m.commission(GTIN, "LOT1", ["R2"])  # front-run by the member itself
    error = expect_revert(lot["wholesaler_a"], request, "SerialRegistryPackExists")
    assert error.args_by_name["packId"] == pack_id(GTIN, "R2", owner=MAKER)


def test_any_ledger_call_can_be_relayed(lot: DevNetwork) -> None:
    r = lot["regulator"]
    fn = r.registry.functions.setLotStatus(LOT, 2, ZERO_HASH)
    receipt = relay(lot["pharmacy_a"], sign_request(r, fn))
    assert [(e.name, e.args["by"]) for e in receipt.events] == [("LotStatusChanged", r.address)]


def test_a_request_with_too_little_gas_fails_and_says_so(lot: DevNetwork) -> None:
    m = lot["manufacturer"]
    request = sign_request(m, commission_call(m, ["R1"]), gas=30_000)
    error = expect_revert(lot["wholesaler_a"], request, "FailedCall")
    assert error.args_by_name == {"gas": 30_000}
    assert m.pack_state(GTIN, "R1").status == PackStatus.NONE
