"""Random lifecycles (hypothesis stateful testing): whatever members try, in any order, the
contracts and the auditor's independent model agree.

Each sequence starts from the deployed demo network (with a second regulator) on an anvil node
of its own and mixes, at random: the manufacturer commissioning packs, loose or into cases; a
squatting producer (the repackager) commissioning the manufacturer's serials into a copy of its
lot and pre-creating its next case, after which the manufacturer's own commissions must still
succeed; packing into pallets, unpacking, shipping, receiving, cancelling a shipment, refusing
it (and receiving it back), reporting it lost and found, decommissioning and undoing; flags
raised and cleared by holders, owners, regulators and the council; lot quarantine, recall and
release by owners, regulators and the council, a regulator's recall request and a second
regulator's confirmation; exceptions opened between trading partners (the same claim again
too), answered and resolved by their parties, the council, and two regulators (a closure requested
by one, closed by the other); proposals made,
approved (counted when they run), cancelled or left to expire, changing the undo window,
members' status and licences and a company prefix's owner, or calling the registry or the
exception registry as the council; and time passing. Most steps are tried by the member the
chain says may act, some by anyone, to be refused.

After every step the contracts' state equals the model replayed from the chain's events:
every pack (``packStates``), unit, lot and exception record, ``verify`` of every serial (with
a lot and an expiry that match or not), every proposal with its counted approvals; and the
model found no impossible event. A refused step emits no event, so the model does not change
and the same comparison shows that the chain did not either.

Profiles (environment variable ``RXLEDGER_STATEFUL``): ``ci``, the default, runs 1,000
sequences of 25 steps (under five minutes on two shared cores); ``long`` runs 10,000 sequences
of 50 steps (about an hour and a half): ``RXLEDGER_STATEFUL=long pytest -p no:xdist -s
tests/contracts/test_stateful.py``. The test prints the sequences, steps, transactions and
events it ran.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import decode
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger_client import events as ev
from ledger_client.audit import RegistryModel, compare_with_chain
from ledger_client.audit.state import U_ACTIVE, U_DISSOLVED, Pack, Unit
from ledger_client.audit.views import PACK_FIELDS, UNIT_FIELDS, call_data, verification
from ledger_client.chain import dev_account
from ledger_client.contracts import MemberStatus, Role, artifact
from ledger_client.devnet import FIVE_YEARS, gln
from ledger_client.events import ChainEvent
from ledger_client.ids import items_hash, lot_hash, pack_hash, record_id, unit_hash
from ledger_client.logs import fetch_logs
from ledger_client.types import (
    ZERO_HASH,
    DecommissionReason,
    ExceptionKind,
    ExceptionStatus,
    LotStatus,
    PackStatus,
    UnitStatus,
)
from tests.utils.anvil_chain import AnvilChain, anvil_chain
from tests.utils.factories import FOREIGN_GTIN, make_sscc, yymmdd_of
from tests.utils.governance import govern

pytestmark = pytest.mark.anvil

#: (sequences, steps per sequence) of each profile.
PROFILES = {"ci": (1_000, 25), "long": (10_000, 50)}
DAY = 86_400
GTIN = "09506000134352"  # the manufacturer's prefix 9506000
PREFIX = "9506000"
LOT, SOON = "STATE1", "STATE2"  # expiring in 2030, and three weeks after deployment
EXPIRY = 301231
MAKER, SQUATTER = "manufacturer", "repackager"
SUPPLY_CHAIN = (MAKER, SQUATTER, "wholesaler_a", "wholesaler_b", "pharmacy_a")
REGULATORS = ("regulator", "regulator_b")
MEMBERS = (*SUPPLY_CHAIN, *REGULATORS, "auditor")
COUNCIL = ("manufacturer", "wholesaler_a", "regulator")
#: The GS1 company prefix of the units each member creates (the others borrow the maker's).
UNIT_PREFIX = {MAKER: "0614141", "wholesaler_a": "4012345", "wholesaler_b": "4012346"}
REASONS = tuple(DecommissionReason)[1:]
FLAGS = (0, 1, 2, 3)
#: Lot statuses to set: releases as often as quarantines and recalls together.
STATUSES = (LotStatus.ACTIVE, LotStatus.ACTIVE, LotStatus.QUARANTINED, LotStatus.RECALLED)
#: What a scan says besides the serial: a lot and an expiry, cycled over the serials.
SCANS = [(lot, expiry) for lot in ("", LOT, SOON) for expiry in (0, EXPIRY, 301200, 250101)]
PROPOSALS = ("member_status", "licence", "lot_status", "flag", "cancel", "prefix", "exception")
KINDS = tuple(ExceptionKind)[1:]
#: What may follow an exception's opening at once.
EXCEPTION_ENDS = ("wait", "answer", "accept")
#: What may follow a shipment at once (received as often as all the rest).
SHIPMENT_ENDS = ("wait", "receive", "receive", "receive", "refuse", "cancelShipment", "reportLost")


@dataclass
class Network:
    """What every sequence starts from: the chain, member addresses and indices, and the
    events of the deployment (each sequence's model replays them first)."""

    chain: AnvilChain
    address: dict[str, str]
    index: dict[str, int]
    events: list[ChainEvent]

    @property
    def registry(self) -> str:
        return self.chain.net.deployment.registry

    @property
    def consortium(self) -> str:
        return self.chain.net.deployment.consortium

    @property
    def exceptions(self) -> str:
        return self.chain.net.deployment.exceptions


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    """The demo network with a second regulator and the manufacturer's two lots."""
    with anvil_chain() as chain:
        net = chain.net
        second = dev_account("regulator_b").address
        chain.rpc("anvil_setBalance", second, hex(10**21))
        licence = chain.now() + FIVE_YEARS
        govern(net, "addMember", second, gln("401235100001"), int(Role.REGULATOR), licence)
        net[MAKER].register_lot(GTIN, LOT, EXPIRY)
        net[MAKER].register_lot(GTIN, SOON, yymmdd_of(chain.now() + 21 * DAY))
        address = {n: net.address(n) for n in MEMBERS if n != "regulator_b"}
        address["regulator_b"] = second
        members = net[MAKER].consortium.functions
        index = {n: int(members.member(a).call()[1]) for n, a in address.items()}
        events = list(ev.decode(fetch_logs(chain.w3, net.deployment)))
        chain.snapshot()
        yield Network(chain, address, index, events)


class Calls:
    """Calldata of a contract's functions by name, their signatures read from its ABI."""

    def __init__(self, contract: str) -> None:
        functions = [f for f in artifact(contract)["abi"] if f["type"] == "function"]
        self.signatures = {
            f["name"]: f"{f['name']}({','.join(i['type'] for i in f['inputs'])})" for f in functions
        }

    def encode(self, name: str, *args: Any) -> bytes:
        return call_data(self.signatures[name], *args)


REGISTRY, CONSORTIUM = Calls("SerialRegistry"), Calls("Consortium")
EXCEPTIONS = Calls("ExceptionRegistry")


def _eth_call(to: str, calls: Calls, name: str, *args: Any) -> tuple[str, list[Any]]:
    return ("eth_call", [{"to": to, "data": "0x" + calls.encode(name, *args).hex()}, "latest"])


def lifecycle_machine(network: Network, stats: Counter[str]) -> type[RuleBasedStateMachine]:
    """A state machine driving ``network`` from its deployed snapshot; ``stats`` counts the
    sequences, steps, transactions (sent, refused) and events it ran."""
    chain, address, index = network.chain, network.address, network.index
    name_of = {a: n for n, a in address.items()}

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            chain.reset()
            self.model = RegistryModel(network.consortium)
            self.model.apply_all(network.events)
            self.serials: list[str] = []  # the maker's serials, commissioned or tried
            self.squatted: list[str] = []  # the maker's serials the squatter commissioned
            self.ssccs: dict[bytes, str] = {}  # unit id -> SSCC, of the units the steps made
            self.cases = 0  # the maker's cases so far: the squatter copies the next one
            stats["sequences"] += 1

        # ------------------------------------------------------------ sending

        def _send(self, member: str, to: str, data: bytes) -> bool:
            """Send as ``member`` and feed the model the events; False when refused."""
            stats["transactions"] += 1
            events = chain.send(address[member], to, data)
            if events is None:
                stats["refused"] += 1
                return False
            self.model.apply_all(events)
            stats.update(e.name for e in events)
            return True

        def _registry(self, member: str, name: str, *args: Any) -> bool:
            return self._send(member, network.registry, REGISTRY.encode(name, *args))

        def _consortium(self, member: str, name: str, *args: Any) -> bool:
            return self._send(member, network.consortium, CONSORTIUM.encode(name, *args))

        def _exceptions(self, member: str, name: str, *args: Any) -> bool:
            return self._send(member, network.exceptions, EXCEPTIONS.encode(name, *args))

        def _actor(self, data: st.DataObject, expected: str | None) -> str:
            """Mostly the member the chain says may act; sometimes anyone (to be refused)."""
            if expected in name_of and data.draw(st.integers(0, 3)) > 0:
                return name_of[expected]
            return data.draw(st.sampled_from(MEMBERS))

        # ------------------------------------------------------------ what the model holds

        def _item(
            self, data: st.DataObject, likely: list[bytes], packs_only: bool = False
        ) -> bytes:
            """Mostly one of ``likely``; sometimes any pack (or unit)."""
            if likely and data.draw(st.integers(0, 3)) > 0:
                return data.draw(st.sampled_from(likely))
            m = self.model
            return data.draw(st.sampled_from([*m.packs] if packs_only else [*m.packs, *m.units]))

        def _loose(self) -> list[bytes]:
            """ACTIVE packs and units in no live unit: what their holder may ship or pack."""
            m = self.model

            def free(x: Pack | Unit) -> bool:
                return x.parent is None or x.parent.status == U_DISSOLVED

            packs = [p for p, x in m.packs.items() if x.status == PackStatus.ACTIVE and free(x)]
            return packs + [u for u, x in m.units.items() if x.status == U_ACTIVE and free(x)]

        def _holder(self, item: bytes) -> tuple[str, str]:
            """(custodian, recipient in transit) of pack or unit ``item``."""
            m = self.model
            if item in m.packs:
                view = m.pack_view(m.packs[item])
                return view[PACK_FIELDS.index("custodian")], view[PACK_FIELDS.index("pending_to")]
            view = m.unit_view(m.units[item])
            return view[UNIT_FIELDS.index("custodian")], view[UNIT_FIELDS.index("pending_to")]

        def _split(self, items: list[bytes]) -> tuple[list[bytes], list[bytes]]:
            units = [i for i in items if i in self.model.units]
            return [i for i in items if i not in units], units

        def _council(self) -> list[str]:
            """The council members whose approvals count now."""
            m, now = self.model, chain.now()
            return [
                n
                for n in COUNCIL
                if (x := m.members[address[n]]).status == MemberStatus.ACTIVE
                and x.roles & Role.COUNCIL
                and x.licence_expiry > now
            ]

        def _unit_code(self, member: str, sscc: str) -> bytes:
            """The unit hash of ``sscc``, remembering the id it has for ``member``."""
            code = unit_hash(sscc)
            self.ssccs[record_id(index[member], code)] = sscc
            return code

        # ------------------------------------------------------------ commissioning

        @rule(count=st.integers(1, 3), lot=st.sampled_from((LOT, SOON)), data=st.data())
        def commission(self, count: int, lot: str, data: st.DataObject) -> None:
            """The maker commissions new serials loose, into its next case or into a case it
            has; the squatter's copies of the same codes never stand in its way."""
            serials = [f"Q{len(self.serials) + i}" for i in range(count)]
            self.serials += serials
            into = data.draw(st.sampled_from(("loose", "new", "existing")))
            unit, fresh = ZERO_HASH, True
            if into != "loose" and (into == "new" or not self.cases):
                unit = self._unit_code(MAKER, make_sscc(UNIT_PREFIX[MAKER], self.cases))
                self.cases += 1
            elif into == "existing":
                case = make_sscc(UNIT_PREFIX[MAKER], data.draw(st.integers(0, self.cases - 1)))
                unit, fresh = self._unit_code(MAKER, case), False
            genuine = self.model.lots[record_id(index[MAKER], lot_hash(GTIN, lot))]
            hashes = [pack_hash(GTIN, s) for s in serials]
            ok = self._registry(MAKER, "commission", lot_hash(GTIN, lot), unit, hashes, ZERO_HASH)
            if fresh and genuine.status == LotStatus.ACTIVE:
                assert ok, "the maker's commission of new codes was refused"

        @rule(count=st.integers(1, 3), pre_case=st.booleans(), data=st.data())
        def squat(self, count: int, pre_case: bool, data: st.DataObject) -> None:
            """The squatter commissions the maker's next serials (and maybe one it has) in its
            copy of the maker's lot, maybe into a copy of the maker's next case."""
            lot = lot_hash(GTIN, LOT)
            if record_id(index[SQUATTER], lot) not in self.model.lots:
                self._registry(SQUATTER, "registerLot", lot, EXPIRY, ZERO_HASH)
            serials = [f"Q{len(self.serials) + i}" for i in range(count)]
            if self.serials and data.draw(st.booleans()):
                serials.append(data.draw(st.sampled_from(self.serials)))
            serials = [s for s in dict.fromkeys(serials) if s not in self.squatted]
            case = make_sscc(UNIT_PREFIX[MAKER], self.cases)
            unit = self._unit_code(SQUATTER, case) if pre_case else ZERO_HASH
            hashes = [pack_hash(GTIN, s) for s in serials]
            if self._registry(SQUATTER, "commission", lot, unit, hashes, ZERO_HASH):
                self.squatted += serials

        # ------------------------------------------------------------ custody

        @precondition(lambda self: self.model.packs)
        @rule(data=st.data())
        def pack(self, data: st.DataObject) -> None:
            """A holder packs loose packs and units into a pallet of its own: a new one, or
            one it made."""
            first = self._item(data, self._loose())
            holder = self._holder(first)[0]
            member = self._actor(data, holder)
            same = [i for i in self._loose() if i != first and self._holder(i)[0] == holder]
            more = (
                data.draw(st.lists(st.sampled_from(same), max_size=2, unique=True)) if same else []
            )
            packs, units = self._split([first, *more])
            mine = [
                u
                for u in self.ssccs
                if u in self.model.units and self.model.units[u].owner == address[member]
            ]
            if mine and data.draw(st.booleans()):
                sscc = self.ssccs[data.draw(st.sampled_from(mine))]
            else:
                prefix = UNIT_PREFIX.get(member, UNIT_PREFIX[MAKER])
                sscc = make_sscc(prefix, 10_000 + len(self.ssccs))
            code = self._unit_code(member, sscc)
            self._registry(member, "pack", code, packs, units, ZERO_HASH)

        @precondition(lambda self: self.model.packs)
        @rule(then=st.sampled_from(SHIPMENT_ENDS), data=st.data())
        def ship(self, then: str, data: st.DataObject) -> None:
            """A holder ships a pack or a unit; at once, the recipient may receive or refuse
            it, or the sender cancel it or report it lost (its own rules do it later too)."""
            item = self._item(data, self._loose())
            sender = self._actor(data, self._holder(item)[0])
            receivers = [n for n in (*SUPPLY_CHAIN, "pharmacy_a") if n != sender]
            receiver = data.draw(st.sampled_from(receivers))  # the pharmacy twice: it dispenses
            packs, units = self._split([item])
            to = address[receiver]
            if not self._registry(sender, "ship", packs, units, to, ZERO_HASH):
                return
            if then == "receive":
                self._registry(receiver, "receiveItems", packs, units, ZERO_HASH)
            elif then == "refuse":
                self._registry(receiver, "refuseItems", address[sender], packs, units, ZERO_HASH)
            elif then in ("cancelShipment", "reportLost"):
                self._registry(sender, then, to, packs, units, ZERO_HASH)

        def _moving(self) -> list[bytes]:
            m = self.model
            moving = [p for p, x in m.packs.items() if x.status == PackStatus.IN_TRANSIT]
            return moving + [u for u, x in m.units.items() if x.status == UnitStatus.IN_TRANSIT]

        @precondition(lambda self: self._moving())
        @rule(data=st.data())
        def receive(self, data: st.DataObject) -> None:
            """The recipient (or anyone) receives a pack or unit in transit."""
            item = self._item(data, self._moving())
            member = self._actor(data, self._holder(item)[1])
            packs, units = self._split([item])
            self._registry(member, "receiveItems", packs, units, ZERO_HASH)

        def _lost(self) -> list[bytes]:
            m = self.model
            lost = [p for p, x in m.packs.items() if x.status == PackStatus.LOST]
            return lost + [u for u, x in m.units.items() if x.status == UnitStatus.LOST]

        def _party(self, data: st.DataObject, expected: str) -> str:
            """Mostly the member ``expected``; sometimes any supply-chain member (refused)."""
            if expected in name_of and data.draw(st.integers(0, 4)) > 0:
                return address[name_of[expected]]
            return address[data.draw(st.sampled_from(SUPPLY_CHAIN))]

        @precondition(lambda self: self._moving())
        @rule(data=st.data())
        def cancel_shipment(self, data: st.DataObject) -> None:
            """The sender (or anyone) cancels a shipment naming its recipient (or another)."""
            item = self._item(data, self._moving())
            sender, recipient = self._holder(item)
            member = self._actor(data, sender)
            packs, units = self._split([item])
            to = self._party(data, recipient)
            self._registry(member, "cancelShipment", to, packs, units, ZERO_HASH)

        @precondition(lambda self: self._moving())
        @rule(back=st.booleans(), data=st.data())
        def refuse(self, back: bool, data: st.DataObject) -> None:
            """The recipient (or anyone) refuses items naming their sender (or another); the
            sender may receive them back at once."""
            item = self._item(data, self._moving())
            sender, recipient = self._holder(item)
            member = self._actor(data, recipient)
            packs, units = self._split([item])
            named = self._party(data, sender)
            refused = self._registry(member, "refuseItems", named, packs, units, ZERO_HASH)
            if refused and back:
                self._registry(name_of[named], "receiveItems", packs, units, ZERO_HASH)

        @precondition(lambda self: self._moving())
        @rule(data=st.data())
        def report_lost(self, data: st.DataObject) -> None:
            """The sender (or anyone) reports items in transit lost."""
            item = self._item(data, self._moving())
            sender, recipient = self._holder(item)
            packs, units = self._split([item])
            to = self._party(data, recipient)
            self._registry(self._actor(data, sender), "reportLost", to, packs, units, ZERO_HASH)

        @precondition(lambda self: self._lost())
        @rule(data=st.data())
        def report_found(self, data: st.DataObject) -> None:
            """The sender (or anyone) reports lost items found (or items that are not lost)."""
            item = self._item(data, self._lost())
            m = self.model
            record = m.packs[item] if item in m.packs else m.units[item]
            packs, units = self._split([item])
            to = self._party(data, record.pending_to)
            member = self._actor(data, record.custodian)
            self._registry(member, "reportFound", to, packs, units, ZERO_HASH)

        @precondition(lambda self: self.model.units)
        @rule(data=st.data())
        def unpack(self, data: st.DataObject) -> None:
            """A holder dissolves a unit: what it held stays with the holder."""
            unit = data.draw(st.sampled_from(list(self.model.units)))
            member = self._actor(data, self._holder(unit)[0])
            self._registry(member, "unpack", [unit], ZERO_HASH)

        @precondition(lambda self: any(u.packs or u.units for u in self.model.units.values()))
        @rule(data=st.data())
        def unpack_items(self, data: st.DataObject) -> None:
            """A holder takes some packs or units out of a unit that stays."""
            unit = self.model.units[
                data.draw(
                    st.sampled_from([u for u, x in self.model.units.items() if x.packs or x.units])
                )
            ]
            inside = [*unit.packs, *unit.units]
            items = data.draw(
                st.lists(st.sampled_from(inside), min_size=1, max_size=2, unique=True)
            )
            member = self._actor(data, self._holder(unit.id)[0])
            packs, units = self._split(items)
            self._registry(
                member,
                "unpackItems",
                unit.id,
                packs,
                units,
                ZERO_HASH,
            )

        @precondition(lambda self: self.model.packs)
        @rule(reason=st.sampled_from(REASONS), data=st.data())
        def decommission(self, reason: DecommissionReason, data: st.DataObject) -> None:
            """A holder (or anyone) decommissions a pack for any reason."""
            m = self.model
            pid = self._item(data, [p for p, x in m.packs.items() if x.status == PackStatus.ACTIVE])
            member = self._actor(data, self._holder(pid)[0])
            self._registry(member, "decommission", [pid], int(reason), ZERO_HASH)

        @precondition(lambda self: self.model.packs)
        @rule(wait=st.sampled_from((0, 2 * 3_600, 2 * DAY)), data=st.data())
        def undo(self, wait: int, data: st.DataObject) -> None:
            """The decommissioner (or anyone) undoes a decommission, maybe some time later."""
            m = self.model
            done = [p for p, x in m.packs.items() if x.status == PackStatus.DECOMMISSIONED]
            pid = self._item(data, done)
            member = self._actor(data, self._holder(pid)[0])
            if wait:
                chain.advance(wait)
            self._registry(member, "undoDecommission", [pid], ZERO_HASH)

        # ------------------------------------------------------------ authority

        def _held(self, by: str | None = None) -> list[bytes]:
            """ACTIVE packs held by member ``by``, or by anyone but their lot's owner."""
            m = self.model
            return [
                p
                for p, x in m.packs.items()
                if x.status == PackStatus.ACTIVE
                and (self._holder(p)[0] == by if by else self._holder(p)[0] != x.lot.owner)
            ]

        @precondition(lambda self: self._held(address["pharmacy_a"]))
        @rule(data=st.data())
        def dispense(self, data: st.DataObject) -> None:
            """The pharmacy dispenses a pack it holds (refused when it is flagged, its lot
            blocked or expired)."""
            pid = data.draw(st.sampled_from(self._held(address["pharmacy_a"])))
            dispensed = int(DecommissionReason.DISPENSED)
            self._registry("pharmacy_a", "decommission", [pid], dispensed, ZERO_HASH)

        def _authority(self, data: st.DataObject, owner: str) -> str:
            """A member to act on a record: its owner, a regulator, or anyone."""
            who = data.draw(st.sampled_from(("owner", *REGULATORS, "anyone")))
            if who == "owner":
                return name_of[owner]
            return who if who in REGULATORS else data.draw(st.sampled_from(MEMBERS))

        @precondition(lambda self: self.model.packs)
        @rule(flags=st.sampled_from(FLAGS), code=st.integers(0, 9), data=st.data())
        def flag(self, flags: int, code: int, data: st.DataObject) -> None:
            """The lot's owner, a regulator or anyone raises or clears a pack's flags."""
            pid = data.draw(st.sampled_from(list(self.model.packs)))
            member = self._authority(data, self.model.packs[pid].lot.owner)
            self._registry(member, "flagPacks", [pid], flags, code, ZERO_HASH)

        @precondition(lambda self: self._held())
        @rule(flags=st.sampled_from((1, 1, 0, 2)), data=st.data())
        def suspect(self, flags: int, data: st.DataObject) -> None:
            """A holder that does not own the lot raises SUSPECT (or tries to do more)."""
            pid = data.draw(st.sampled_from(self._held()))
            member = self._actor(data, self._holder(pid)[0])
            self._registry(member, "flagPacks", [pid], flags, 5, ZERO_HASH)

        @rule(status=st.sampled_from(STATUSES), data=st.data())
        def set_lot_status(self, status: LotStatus, data: st.DataObject) -> None:
            """The owner, a regulator or anyone quarantines, recalls or releases a lot."""
            lot = self.model.lots[data.draw(st.sampled_from(list(self.model.lots)))]
            member = self._authority(data, lot.owner)
            self._registry(member, "setLotStatus", lot.id, int(status), ZERO_HASH)

        # ------------------------------------------------------------ exceptions

        @precondition(lambda self: self.model.packs)
        @rule(kind=st.sampled_from(KINDS), then=st.sampled_from(EXCEPTION_ENDS), data=st.data())
        def open_exception(self, kind: ExceptionKind, then: str, data: st.DataObject) -> None:
            """A trading partner (or anyone) opens an exception against another (or itself,
            or a regulator) about one or two packs, which its counterparty may answer and its
            opener accept at once; sometimes a claim already open."""
            m = self.model
            if m.exceptions and data.draw(st.integers(0, 4)) == 0:
                case = m.exceptions[data.draw(st.sampled_from(list(m.exceptions)))]
                opener, other = m.member_accounts[case.opener], m.member_accounts[case.counterparty]
                args = (other, case.kind, case.items_hash, ZERO_HASH)
                self._exceptions(name_of[opener], "openException", *args)
                return
            opener = data.draw(st.sampled_from(MEMBERS))
            other = data.draw(st.sampled_from(MEMBERS))
            packs = data.draw(st.lists(st.sampled_from(list(m.packs)), min_size=1, max_size=2))
            items = items_hash(list(dict.fromkeys(packs)))
            args = (address[other], int(kind), items, items)  # the items as their own evidence
            if not self._exceptions(opener, "openException", *args) or then == "wait":
                return
            case_id = len(m.exceptions)
            if self._exceptions(other, "answerException", case_id, ZERO_HASH) and then == "accept":
                self._exceptions(opener, "resolveException", case_id, ZERO_HASH)

        def _cases(self, status: ExceptionStatus | None = None) -> list[int]:
            m = self.model
            return [c.id for c in m.exceptions.values() if status is None or c.status == status]

        @precondition(lambda self: self.model.exceptions)
        @rule(data=st.data())
        def answer_exception(self, data: st.DataObject) -> None:
            """The counterparty (or anyone) answers an open exception (or another)."""
            m = self.model
            open_ = self._cases(ExceptionStatus.OPEN)
            case = m.exceptions[data.draw(st.sampled_from(open_ or self._cases()))]
            member = self._actor(data, m.member_accounts[case.counterparty])
            self._exceptions(member, "answerException", case.id, ZERO_HASH)

        @precondition(lambda self: self.model.exceptions)
        @rule(who=st.sampled_from(("opener", "regulator", "anyone")), data=st.data())
        def resolve_exception(self, who: str, data: st.DataObject) -> None:
            """The opener, a regulator or anyone resolves an unresolved exception (or another)."""
            m = self.model
            pending = [
                i for i in self._cases() if m.exceptions[i].status != ExceptionStatus.RESOLVED
            ]
            case = m.exceptions[data.draw(st.sampled_from(pending or self._cases()))]
            if who == "opener":
                member = self._actor(data, m.member_accounts[case.opener])
            else:
                member = data.draw(st.sampled_from(REGULATORS if who == "regulator" else MEMBERS))
            self._exceptions(member, "resolveException", case.id, ZERO_HASH)

        # ------------------------------------------------------------ governance

        def _proposal(self, action: str, data: st.DataObject) -> bytes:
            """A call on the consortium of kind ``action``, its arguments drawn."""
            m = self.model
            if action == "member_status":
                who = data.draw(st.sampled_from(("regulator", "regulator_b", "wholesaler_b")))
                status = data.draw(st.sampled_from((MemberStatus.ACTIVE, MemberStatus.SUSPENDED)))
                return CONSORTIUM.encode("setMemberStatus", address[who], int(status))
            if action == "licence":
                who = data.draw(st.sampled_from(("regulator", "wholesaler_a", "regulator_b")))
                until = chain.now() + data.draw(st.sampled_from((2 * DAY, FIVE_YEARS)))
                return CONSORTIUM.encode("setLicenceExpiry", address[who], until)
            if action == "lot_status":
                lot = data.draw(st.sampled_from(list(m.lots)))
                status = data.draw(st.sampled_from(STATUSES))
                call = REGISTRY.encode("setLotStatus", lot, int(status), ZERO_HASH)
                return CONSORTIUM.encode("callAsCouncil", network.registry, call)
            if action == "flag" and m.packs:
                pid = data.draw(st.sampled_from(list(m.packs)))
                flags = data.draw(st.sampled_from(FLAGS))
                call = REGISTRY.encode("flagPacks", [pid], flags, 4, ZERO_HASH)
                return CONSORTIUM.encode("callAsCouncil", network.registry, call)
            if action == "cancel" and m.proposals:
                return CONSORTIUM.encode("cancel", data.draw(st.sampled_from(list(m.proposals))))
            if action == "exception" and m.exceptions:
                case = data.draw(st.sampled_from(list(m.exceptions)))
                call = EXCEPTIONS.encode("resolveException", case, ZERO_HASH)
                return CONSORTIUM.encode("callAsCouncil", network.exceptions, call)
            if PREFIX in m.prefixes:
                return CONSORTIUM.encode("revokePrefix", PREFIX)
            to = data.draw(st.sampled_from((MAKER, SQUATTER)))
            return CONSORTIUM.encode("assignPrefix", PREFIX, address[to])

        @rule(action=st.sampled_from(PROPOSALS), at_once=st.booleans(), data=st.data())
        def propose(self, action: str, at_once: bool, data: st.DataObject) -> None:
            """A council member (or anyone) proposes; another may approve it at once."""
            council = self._council()
            proposer = self._actor(
                data, address[data.draw(st.sampled_from(council))] if council else None
            )
            proposal = len(self.model.proposals)
            if not self._consortium(proposer, "propose", self._proposal(action, data)):
                return
            others = [n for n in council if n != proposer]
            if at_once and others:
                self._consortium(data.draw(st.sampled_from(others)), "approve", proposal)

        @precondition(lambda self: len(self._council()) >= 2)
        @rule(window=st.sampled_from((3_600, DAY, 10 * DAY)), data=st.data())
        def set_undo_window(self, window: int, data: st.DataObject) -> None:
            """Two council members set UNDO_WINDOW: decommissions made before keep theirs."""
            proposer, approver = data.draw(st.permutations(self._council()))[:2]
            key = b"UNDO_WINDOW".ljust(32, b"\0")
            call = CONSORTIUM.encode("setParameter", key, window)
            proposal = len(self.model.proposals)
            if self._consortium(proposer, "propose", call):
                self._consortium(approver, "approve", proposal)

        @precondition(lambda self: self.model.proposals)
        @rule(data=st.data())
        def approve(self, data: st.DataObject) -> None:
            """A council member that has not approved a proposal yet (or anyone) approves it."""
            proposals = list(self.model.proposals.values())
            open_ = [p for p in proposals if not (p.executed or p.cancelled)]
            p = data.draw(st.sampled_from(open_ or proposals))
            due = [address[n] for n in self._council() if address[n] not in p.approvers]
            member = self._actor(data, data.draw(st.sampled_from(due)) if due else None)
            self._consortium(member, "approve", p.id)

        @precondition(lambda self: self.model.proposals)
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            """The proposer (or anyone) cancels a proposal."""
            p = self.model.proposals[data.draw(st.sampled_from(list(self.model.proposals)))]
            self._consortium(self._actor(data, p.proposer), "cancel", p.id)

        @rule(seconds=st.sampled_from((3_600, DAY, 3 * DAY, 11 * DAY)))
        def advance_time(self, seconds: int) -> None:
            chain.advance(seconds)

        # ------------------------------------------------------------ the invariant

        @invariant()
        def contracts_and_independent_model_agree(self) -> None:
            stats["steps"] += 1
            m = self.model
            found, _ = compare_with_chain(m, chain.w3, chain.net.deployment)
            assert m.violations == [], m.violations[:3]
            assert found == [], found[:3]
            codes = [*dict.fromkeys(self.serials + self.squatted)]
            scans = [(GTIN, s, *SCANS[k % len(SCANS)]) for k, s in enumerate(codes)]
            scans.append((FOREIGN_GTIN, "Q0", "", 0))
            proposals = list(m.proposals.values())
            at = network.consortium
            requests: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", ["latest", False])]
            requests += [_eth_call(network.registry, REGISTRY, "verify", *s) for s in scans]
            requests += [_eth_call(at, CONSORTIUM, "proposal", p.id) for p in proposals]
            requests += [_eth_call(at, CONSORTIUM, "countedApprovals", p.id) for p in proposals]
            block, *out = chain.batch(requests)
            now, n = int(block["timestamp"], 16), len(scans)
            for scan, raw in zip(scans, out[:n], strict=True):
                assert verification(bytes.fromhex(raw[2:])) == m.verify(*scan, now=now), scan
            for p, raw, counted in zip(
                proposals, out[n : n + len(proposals)], out[n + len(proposals) :], strict=True
            ):
                ((proposer, deadline, approvals, executed, cancelled, call),) = decode(
                    ["(address,uint40,uint16,bool,bool,bytes)"], bytes.fromhex(raw[2:])
                )
                mine = (p.proposer.lower(), p.deadline, len(p.approvers), p.executed, p.cancelled)
                theirs = (proposer.lower(), deadline, approvals, executed, cancelled)
                assert theirs == mine, p.id
                assert call == p.data and int(counted, 16) == m.counted_approvals(p, now), p.id

    return Lifecycle


def test_random_lifecycles_keep_contracts_and_auditor_model_in_agreement(network: Network) -> None:
    sequences, steps = PROFILES[os.environ.get("RXLEDGER_STATEFUL", "ci")]
    stats: Counter[str] = Counter()
    started = time.perf_counter()
    run_state_machine_as_test(
        lifecycle_machine(network, stats),
        settings=settings(
            max_examples=sequences,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    stats["steps"] -= stats["sequences"]  # the invariant also runs before the first step
    print(f"\nstateful, {time.perf_counter() - started:.0f} s: {dict(sorted(stats.items()))}")
    assert stats["sequences"] >= sequences
