"""POST /v1/relay on a live gateway run by wholesaler_a: pharmacy_a's signed requests act as
pharmacy_a; tampered, replayed and expired requests are refused with the forwarder's decoded
error; requests signed by non-members, to contracts outside the deployment, over the gas cap
or sending ether are refused by the gateway before it pays for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account
from gateway_helpers import EXPIRY, GTIN, Gateway, World, operator_key, running_gateway

from gateway.schemas import ForwardRequestIn
from ledger_client.chain import dev_account
from ledger_client.contracts import deploy_contract
from ledger_client.ledger import Ledger
from ledger_client.relay import WIRE_FIELDS, ForwardRequest, sign_request
from ledger_client.types import ZERO_HASH, DecommissionReason, PackStatus

SERIALS = ["RL1", "RL2", "RL3", "RL4", "RL5"]


@pytest.fixture(scope="module")
def relayer(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway operated by wholesaler_a, and five packs in pharmacy_a's custody."""
    m, pa = world.net["manufacturer"], world.net["pharmacy_a"]
    m.register_lot(GTIN, "RLY1", EXPIRY)  # a lot of its own: other modules count lot L1
    m.commission(GTIN, "RLY1", SERIALS)
    m.ship(pa.address, packs=[(GTIN, s) for s in SERIALS])
    pa.receive(packs=[(GTIN, s) for s in SERIALS])
    db = tmp_path_factory.mktemp("relay") / "gateway.db"
    with running_gateway(world, db, operator_key=operator_key("wholesaler_a")) as gw:
        yield gw


def forwarder_nonce(ledger: Ledger) -> int:
    return int(ledger.forwarder.functions.nonces(ledger.address).call())


def dispense_request(ledger: Ledger, serial: str, **options: Any) -> ForwardRequest:
    fn = ledger.registry.functions.decommission(
        ledger.pack_ids([(GTIN, serial)]), int(DecommissionReason.DISPENSED), ZERO_HASH
    )
    return sign_request(ledger, fn, **options)


def post(gw: Gateway, body: dict[str, Any] | str, member: str = "pharmacy_a") -> httpx.Response:
    text = body if isinstance(body, str) else json.dumps(body)
    headers = {**gw.auth(member), "content-type": "application/json"}
    return gw.client.post("/v1/relay", content=text, headers=headers)


def refusal(response: httpx.Response, status: int = 400) -> Any:
    """The problem body of a refused request, once its status is checked."""
    assert response.status_code == status, response.text
    return response.json()


def test_pharmacy_dispense_relayed_by_another_members_gateway_acts_as_the_pharmacy(
    relayer: Gateway, world: World
) -> None:
    pa = world.net["pharmacy_a"]
    request = dispense_request(pa, "RL1")
    response = post(relayer, request.to_dict())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sender"] == pa.address
    assert body["relayed_by"] == world.net.address("wholesaler_a")
    assert body["events"] == ["PacksDecommissioned"]
    tx = world.w3.eth.get_transaction(body["tx_hash"])
    assert tx["from"] == world.net.address("wholesaler_a")  # the relayer sent it
    view = pa.pack_state(GTIN, "RL1")
    assert view.status is PackStatus.DECOMMISSIONED
    assert view.reason is DecommissionReason.DISPENSED
    assert view.custodian == pa.address  # the chain saw the pharmacy as the caller

    # the same request again: the forwarder's nonce moved on, so the signature no longer fits
    replay = post(relayer, request.to_dict())
    assert refusal(replay)["error"] == "ERC2771ForwarderInvalidSigner"


def test_tampered_request_is_refused_with_the_forwarder_error(
    relayer: Gateway, world: World
) -> None:
    pa = world.net["pharmacy_a"]
    signed = dispense_request(pa, "RL2").to_dict()
    other = dispense_request(pa, "RL3").to_dict()
    tampered = {**signed, "data": other["data"]}  # RL3's call under RL2's signature
    response = post(relayer, tampered)
    problem = refusal(response)
    assert problem["error"] == "ERC2771ForwarderInvalidSigner"
    assert problem["title"] == "Refused by the forwarder"
    assert pa.pack_state(GTIN, "RL3").status is PackStatus.ACTIVE


def test_expired_request_is_refused(relayer: Gateway, world: World) -> None:
    pa = world.net["pharmacy_a"]
    past = int(world.w3.eth.get_block("latest")["timestamp"]) - 1
    response = post(relayer, dispense_request(pa, "RL4", deadline=past).to_dict())
    assert refusal(response)["error"] == "ERC2771ForwarderExpiredRequest"
    assert pa.pack_state(GTIN, "RL4").status is PackStatus.ACTIVE


def test_request_signed_by_a_non_member_is_refused_before_it_is_sent(
    relayer: Gateway, world: World
) -> None:
    outsider = Ledger(world.w3, world.net.deployment, Account.create())
    request = dispense_request(outsider, "RL5", gas=300_000)
    response = post(relayer, request.to_dict())
    problem = refusal(response)
    assert problem["title"] == "Refused by this gateway"
    assert problem["detail"] == (
        f"forward request signer: {outsider.address} is not a member of this RxLedger network"
    )


def test_request_to_a_contract_of_another_deployment_trusting_the_forwarder_is_refused(
    relayer: Gateway, world: World
) -> None:
    """Anyone can deploy a contract that trusts RxLedger's forwarder; this gateway's operator
    pays only for calls to its own deployment's SerialRegistry, ProductDirectory, Consortium."""
    deployment, pa = world.net.deployment, world.net["pharmacy_a"]
    rogue = deploy_contract(
        world.w3,
        dev_account("pharmacy_b"),
        "ProductDirectory",
        deployment.forwarder,
        deployment.consortium,
    )
    assert rogue.functions.isTrustedForwarder(deployment.forwarder).call()
    fn = rogue.functions.registerProduct(GTIN, ("Rogue", "", "", "", ""))
    request = sign_request(pa, fn, gas=300_000)
    response = post(relayer, request.to_dict())
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("this gateway relays only to RxLedger's contracts (")
    assert f"SerialRegistry {deployment.registry}" in detail
    assert detail.endswith(f"not to {rogue.address}")
    assert forwarder_nonce(pa) == request.nonce  # nothing was sent


def test_request_over_the_gas_cap_is_refused_before_it_is_sent(
    relayer: Gateway, world: World
) -> None:
    pa = world.net["pharmacy_a"]
    cap = relayer.state.settings.relay_max_gas
    request = dispense_request(pa, "RL5", gas=cap + 1)
    response = post(relayer, request.to_dict())
    assert refusal(response)["detail"] == (
        f"forward request asks for {cap + 1} gas, more than this gateway's cap of {cap}"
    )
    assert forwarder_nonce(pa) == request.nonce


def test_request_sending_ether_is_refused(relayer: Gateway, world: World) -> None:
    pa = world.net["pharmacy_a"]
    body = {**dispense_request(pa, "RL5", gas=300_000).to_dict(), "value": 1}
    response = post(relayer, body)
    assert refusal(response)["detail"] == "forward request sends ether: value must be 0"


def test_request_of_another_members_custody_is_refused_with_the_registry_error(
    relayer: Gateway, world: World
) -> None:
    # pharmacy_b signs a dispense of a pack pharmacy_a holds
    pb = world.net["pharmacy_b"]
    response = post(relayer, dispense_request(pb, "RL5", gas=300_000).to_dict(), "pharmacy_b")
    assert refusal(response, 409)["error"] == "SerialRegistryNotCustodian"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"from": "0x1"}', "forward request fields"),
    ],
)
def test_malformed_request_is_refused(relayer: Gateway, body: str, message: str) -> None:
    response = post(relayer, body)
    assert message in refusal(response)["detail"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("from", "0x1", "from is not an address: '0x1'"),
        ("to", 7, "to is not an address: 7"),
        ("gas", True, "gas is not an unsigned integer in range: True"),
        ("nonce", -1, "nonce is not an unsigned integer in range: -1"),
        ("deadline", 2**48, f"deadline is not an unsigned integer in range: {2**48}"),
        ("value", "\u00b2", "value is not an unsigned integer in range: '\u00b2'"),
        ("data", "0xabc", "data is not 0x-prefixed hex: '0xabc'"),
        ("signature", "0xab cd", "signature is not 0x-prefixed hex: '0xab cd'"),
    ],
)
def test_a_bad_field_is_refused_naming_it(
    relayer: Gateway, world: World, field: str, value: Any, message: str
) -> None:
    body = {**dispense_request(world.net["pharmacy_a"], "RL5", gas=300_000).to_dict()}
    response = post(relayer, {**body, field: value})
    problem = refusal(response)
    assert problem["title"] == "Invalid forward request"
    assert problem["detail"] == message


def test_numbers_may_come_as_decimal_strings(relayer: Gateway, world: World) -> None:
    body = dispense_request(world.net["pharmacy_a"], "RL5", gas=300_000).to_dict()
    as_text = {**body, "gas": str(body["gas"]), "value": "1"}
    response = post(relayer, as_text)
    assert response.json()["detail"] == "forward request sends ether: value must be 0"


def test_the_openapi_schema_describes_the_forward_request(relayer: Gateway) -> None:
    operation = relayer.client.get("/openapi.json").json()["paths"]["/v1/relay"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == [
        "from", "to", "value", "gas", "nonce", "deadline", "data", "signature"
    ]  # fmt: skip
    assert schema["additionalProperties"] is False
    assert schema["properties"]["deadline"]["maximum"] == 2**48 - 1


def test_the_openapi_model_has_the_fields_the_parser_reads() -> None:
    # ForwardRequest.from_json parses the body; ForwardRequestIn only describes it
    fields = [f.alias or name for name, f in ForwardRequestIn.model_fields.items()]
    assert fields == list(WIRE_FIELDS)


def test_relay_needs_an_authenticated_member(relayer: Gateway, world: World) -> None:
    request = dispense_request(world.net["pharmacy_a"], "RL5")
    response = relayer.client.post("/v1/relay", json=request.to_dict())
    assert response.status_code == 401
