"""The consortium admits at most ``MAX_MEMBERS`` members, so that every member index fits the
24 bits a pack's state keeps it in: the last index admitted holds, ships and receives packs
like any other, and the member after it is refused with ``ConsortiumFull``.

Adding 16.7 million members is out of reach of a test: anvil's ``anvil_setStorageAt`` sets the
length of the consortium's account list instead, as if they had joined.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger_client.chain import dev_account
from ledger_client.contracts import Role
from ledger_client.ids import with_check_digit
from ledger_client.ledger import Ledger
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import PackStatus
from tests.utils.anvil_chain import AnvilChain, anvil_chain
from tests.utils.factories import EXPIRY
from tests.utils.governance import govern

pytestmark = pytest.mark.anvil

MAX_MEMBERS = 2**24 - 1
PREFIX = "0812345"
GTIN = with_check_digit(f"0{PREFIX}00001")
LICENCE = 4_102_444_800  # 2100-01-01


@pytest.fixture(scope="module")
def chain() -> Iterator[AnvilChain]:
    with anvil_chain() as chain:
        yield chain


def _member(chain: AnvilChain, name: str) -> Ledger:
    """A funded ledger of dev account ``name``."""
    ledger = Ledger(chain.w3, chain.net.deployment, dev_account(name))
    chain.rpc("anvil_setBalance", ledger.address, hex(10**21))
    return ledger


def _set_member_count(chain: AnvilChain, count: int) -> None:
    """Make the consortium believe ``count`` members were ever added: the storage slot holding
    its account list's length (the count + 1, index 0 being unused) is found by its value."""
    consortium = chain.net["manufacturer"].consortium
    length = consortium.functions.memberCount().call() + 1
    address = consortium.address
    slots = [
        s
        for s in range(32)
        if int(chain.rpc("eth_getStorageAt", address, hex(s), "latest"), 16) == length
    ]
    assert len(slots) == 1, slots
    chain.rpc("anvil_setStorageAt", address, hex(slots[0]), "0x" + (count + 1).to_bytes(32).hex())
    assert consortium.functions.memberCount().call() == count


def test_the_limit_is_the_largest_24_bit_index(chain: AnvilChain) -> None:
    assert chain.net["manufacturer"].consortium.functions.MAX_MEMBERS().call() == MAX_MEMBERS


def test_the_last_admitted_index_keeps_its_packs_and_the_next_member_is_refused(
    chain: AnvilChain,
) -> None:
    net = chain.net
    _set_member_count(chain, MAX_MEMBERS - 1)
    last = _member(chain, "logistics")
    govern(net, "addMember", last.address, 4012355000018, int(Role.MANUFACTURER), LICENCE)
    assert last.member_index == MAX_MEMBERS
    govern(net, "assignPrefix", PREFIX, last.address)
    last.register_lot(GTIN, "L1", EXPIRY)
    last.commission(GTIN, "L1", ["S1"])
    assert last.pack_state(GTIN, "S1").custodian == last.address
    wholesaler = net["wholesaler_a"]
    last.ship(wholesaler.address, packs=[(GTIN, "S1")])
    assert last.pack_state(GTIN, "S1").pending_to == wholesaler.address
    wholesaler.receive(packs=[(GTIN, "S1")])
    wholesaler.ship(last.address, packs=[(GTIN, "S1")])
    assert wholesaler.pack_state(GTIN, "S1").pending_to == last.address  # index 2^24 - 1
    last.receive(packs=[(GTIN, "S1")])
    state = last.pack_state(GTIN, "S1")
    assert (state.status, state.custodian) == (PackStatus.ACTIVE, last.address)
    assert last.verify(GTIN, "S1", "L1", EXPIRY).status.name == "VERIFIED"

    outsider = _member(chain, "outsider")
    with pytest.raises(LedgerRevertError) as caught:
        govern(net, "addMember", outsider.address, 4012356000017, int(Role.WHOLESALER), LICENCE)
    assert caught.value.error == "ConsortiumFull"
    refused = {"account": outsider.address.lower(), "maxMembers": MAX_MEMBERS}
    assert caught.value.args_by_name == refused
    assert net["manufacturer"].consortium.functions.memberCount().call() == MAX_MEMBERS
