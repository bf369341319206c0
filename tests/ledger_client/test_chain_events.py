"""The typed events: their fields follow the compiled ABI, and the fast decoder equals web3's."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

from ledger_client.contracts import Role, artifact
from ledger_client.devnet import DevNetwork
from ledger_client.events import EVENT_TYPES, ChainEvent, LotRegistered, RawLog, actor, decode
from ledger_client.events.schema import META_FIELDS, abi_name, field_name
from ledger_client.logs import fetch_logs
from tests.utils.audit_scenario import Scenario
from tests.utils.governance import govern
from tests.utils.web3_events import plain, web3_decode

#: Python type of each ABI type RxLedger's events use.
PYTHON_TYPES: dict[str, Any] = {
    "address": str,
    "string": str,
    "bytes": bytes,
    "bytes32": bytes,
    "bool": bool,
    "bytes32[]": tuple[bytes, ...],
}


def _python_type(abi_type: str) -> Any:
    return int if abi_type.startswith("uint") else PYTHON_TYPES[abi_type]


def _abi_events(contract: str) -> dict[str, list[dict[str, Any]]]:
    return {
        item["name"]: item["inputs"]
        for item in artifact(contract)["abi"]
        if item["type"] == "event"
    }


def _expected_source(contract: str, name: str, inputs: list[dict[str, Any]]) -> str:
    """The class the ABI asks for, to paste into ledger_client/events/schema.py."""
    bases = {
        "Consortium": "ConsortiumEvent",
        "ProductDirectory": "DirectoryEvent",
        "AccessGrants": "GrantsEvent",
        "ExceptionRegistry": "ExceptionEvent",
    }
    base = bases.get(contract, "RegistryEvent")
    lines = [f"class {name}({base}):"]
    for p in inputs:
        kind = _python_type(p["type"])
        shown = "Ids" if kind == tuple[bytes, ...] else kind.__name__
        lines.append(f"    {field_name(p['name'])}: {shown}")
    return "\n".join(lines)


@pytest.mark.parametrize("contract", sorted(EVENT_TYPES))
def test_event_classes_follow_the_compiled_abi(contract: str) -> None:
    abi = _abi_events(contract)
    classes = {cls.name: cls for cls in EVENT_TYPES[contract]}
    missing = sorted(set(abi) - set(classes))
    assert not missing, "\n\n".join(_expected_source(contract, n, abi[n]) for n in missing)
    assert set(classes) <= set(abi), "a class for an event the ABI no longer has"
    for name, inputs in abi.items():
        cls = classes[name]
        hints = typing.get_type_hints(cls)
        mine = [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]
        wanted = [(m, hints[m]) for m in META_FIELDS]
        wanted += [(field_name(p["name"]), _python_type(p["type"])) for p in inputs]
        assert mine == wanted, _expected_source(contract, name, inputs)
        assert cls.contract == contract
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_field_and_abi_names_convert_both_ways() -> None:
    names = {p["name"] for c in EVENT_TYPES for ins in _abi_events(c).values() for p in ins}
    assert {"packIds", "from", "gtin14", "licenceExpiry"} <= names
    for name in names:
        assert abi_name(field_name(name)) == name
    assert field_name("from") == "from_" and field_name("packIds") == "pack_ids"


@pytest.mark.parametrize("contract", sorted(EVENT_TYPES))
def test_every_event_naming_a_member_says_which_field_names_it(contract: str) -> None:
    """``actor`` reads the field each class names: an event with an address argument (a
    ``by``, a sender, an owner, an account...) never answers None for want of the field's
    name, and an event with none answers None."""
    abi = _abi_events(contract)
    for cls in EVENT_TYPES[contract]:
        addresses = {field_name(p["name"]) for p in abi[cls.name] if p["type"] == "address"}
        if addresses:
            assert cls.actor_field in addresses, (cls.name, cls.actor_field, addresses)
        else:
            assert cls.actor_field is None, cls.name
    lot = {f.name: 0 for f in dataclasses.fields(LotRegistered)} | {"owner": "0xowner"}
    assert actor(LotRegistered(**lot)) == "0xowner"


def test_fast_decoder_matches_web3_decoder(scenario: Scenario) -> None:
    w3 = scenario.w3
    events = decode(fetch_logs(w3, scenario.net.deployment))
    reference = [plain(d) for d in web3_decode(w3, w3.eth.get_logs({"fromBlock": 0}))]
    assert len(events) == len(reference) > 40
    registry = {cls.name for cls in EVENT_TYPES["SerialRegistry"]}
    assert registry <= {e.name for e in events}, "the history has every registry event"
    for mine, theirs in zip(events, reference, strict=True):
        assert isinstance(mine, ChainEvent)
        assert {
            "name": mine.name,
            "block_number": mine.block_number,
            "tx_hash": mine.tx_hash,
            "log_index": mine.log_index,
            "args": mine.args,
        } == theirs
        for value in mine.args.values():
            items = value if isinstance(value, tuple) else (value,)
            assert all(type(v) in (str, int, bool, bytes) for v in items)
    stamps = {b: w3.eth.get_block(b)["timestamp"] for b in {e.block_number for e in events}}
    assert all(e.timestamp == stamps[e.block_number] for e in events)


def test_fast_decoder_matches_web3_decoder_on_governance(net: DevNetwork) -> None:
    w3 = net["manufacturer"].w3
    start = w3.eth.block_number + 1
    govern(net, "setMemberRoles", net.address("wholesaler_b"), int(Role.WHOLESALER))
    raw = w3.eth.get_logs({"fromBlock": start, "toBlock": "latest"})
    events = decode(fetch_logs(w3, net.deployment, from_block=start))
    assert {"ProposalCreated", "ProposalApproved", "ProposalExecuted"} <= {e.name for e in events}
    assert [
        {
            "name": e.name,
            "block_number": e.block_number,
            "tx_hash": e.tx_hash,
            "log_index": e.log_index,
            "args": e.args,
        }
        for e in events
    ] == [plain(d) for d in web3_decode(w3, raw)]


def test_events_are_frozen_and_skip_foreign_logs() -> None:
    unknown = RawLog("0x" + "00" * 20, (b"\x01" * 32,), b"", 1, 2, b"\x03" * 32, 0)
    anonymous = RawLog("0x" + "00" * 20, (), b"", 1, 2, b"\x03" * 32, 1)
    assert decode([unknown, anonymous]) == []
    event = EVENT_TYPES["SerialRegistry"][0]
    fields = {f.name: 0 for f in dataclasses.fields(event)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        event(**fields).block_number = 1  # type: ignore[misc]
