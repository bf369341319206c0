"""Pass consortium proposals with two of the three demo council members."""

from __future__ import annotations

from typing import Any

from web3.contract import Contract

from ledger_client.devnet import DevNetwork
from ledger_client.types import Receipt

#: The demo council: any two of them pass a proposal (threshold 2).
COUNCIL = ("manufacturer", "wholesaler_a", "regulator")


def encode(net: DevNetwork, function: str, *args: Any) -> bytes:
    """Calldata of governed Consortium ``function(*args)``."""
    consortium = net["manufacturer"].consortium
    return bytes.fromhex(consortium.encode_abi(function, args=list(args))[2:])


def propose(net: DevNetwork, proposer: str, data: bytes) -> tuple[int, Receipt]:
    """Propose ``data`` as ``proposer``; return the proposal id and the receipt."""
    ledger = net[proposer]
    receipt = ledger.transact(ledger.consortium.functions.propose(data))
    created = next(e for e in receipt.events if e.name == "ProposalCreated")
    return int(created.args["id"]), receipt


def approve(net: DevNetwork, approver: str, proposal_id: int) -> Receipt:
    """Approve proposal ``proposal_id`` as ``approver``."""
    ledger = net[approver]
    return ledger.transact(ledger.consortium.functions.approve(proposal_id))


def govern(
    net: DevNetwork,
    function: str,
    *args: Any,
    by: tuple[str, str] = ("manufacturer", "wholesaler_a"),
) -> Receipt:
    """Pass ``function(*args)`` on the consortium: proposed by ``by[0]``, approved by ``by[1]``."""
    proposal_id, _ = propose(net, by[0], encode(net, function, *args))
    return approve(net, by[1], proposal_id)


def calldata(contract: Contract, function: str, *args: Any) -> bytes:
    """Calldata of ``contract.function(*args)``."""
    return bytes.fromhex(contract.encode_abi(function, args=list(args))[2:])


def as_council(
    net: DevNetwork,
    contract: Contract,
    function: str,
    *args: Any,
    by: tuple[str, str] = ("manufacturer", "wholesaler_a"),
) -> Receipt:
    """Call ``contract.function(*args)`` as the council: a passed proposal of ``callAsCouncil``."""
    data = calldata(contract, function, *args)
    return govern(net, "callAsCouncil", contract.address, data, by=by)
