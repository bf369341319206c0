"""Random lifecycles (hypothesis stateful testing): whatever members try, in any order, the
contracts and the auditor's independent model agree, and a refused step changes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ledger_client.audit import audit
from ledger_client.ids import pack_id, unit_id
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import DecommissionReason
from tests.utils.chain import Chain
from tests.utils.factories import make_sscc

GTIN = "09506000134352"
LOT = "STATE1"
MEMBERS = ("manufacturer", "wholesaler_a", "wholesaler_b", "pharmacy_a")
REASONS = (DecommissionReason.DISPENSED, DecommissionReason.DESTROYED, DecommissionReason.EXPORTED)


def lifecycle_machine(chain: Chain) -> type[RuleBasedStateMachine]:
    """A state machine driving the demo network of ``chain`` from its deployed snapshot."""

    class Lifecycle(RuleBasedStateMachine):
        @initialize()
        def fresh_network(self) -> None:
            chain.revert(chain.deployed)
            self.serials: list[str] = []
            self.units: list[str] = []
            chain.net["manufacturer"].register_lot(GTIN, LOT, "301231")

        def _try(self, member: str, step: str, ids: list[bytes], *args: object) -> bool:
            """Run one step; when the contract refuses it, the touched state must be unchanged."""
            ledger = chain.net[member]
            packs = [i for i in ids if i in {pack_id(GTIN, s) for s in self.serials}]
            units = [i for i in ids if i not in packs]
            before = (ledger.pack_states(packs), [ledger.unit_state_by_id(u) for u in units])
            try:
                getattr(ledger, step)(*args)
            except LedgerRevertError:
                after = (ledger.pack_states(packs), [ledger.unit_state_by_id(u) for u in units])
                assert after == before, f"{member}.{step} reverted but changed state"
                return False
            return True

        @rule(count=st.integers(1, 4), into_case=st.booleans())
        def commission(self, count: int, into_case: bool) -> None:
            serials = [f"Q{len(self.serials) + i}" for i in range(count)]
            case = make_sscc("0614141", 1000 + len(self.units)) if into_case else None
            chain.net["manufacturer"].commission(GTIN, LOT, serials, into_sscc=case)
            self.serials += serials
            if case:
                self.units.append(case)

        def _actor(self, data: st.DataObject, holder: str) -> str:
            """Mostly the member the chain says may act; sometimes anyone (to be refused)."""
            names = {chain.net.address(n): n for n in MEMBERS}
            if holder in names and data.draw(st.integers(0, 3)) > 0:
                return names[holder]
            return data.draw(st.sampled_from(MEMBERS))

        def _unit(self, data: st.DataObject) -> str:
            return data.draw(st.sampled_from(self.units))

        def _serial(self, data: st.DataObject) -> str:
            return data.draw(st.sampled_from(self.serials))

        @rule(data=st.data())
        def pack_into_new_pallet(self, data: st.DataObject) -> None:
            if not self.units:
                return
            children = data.draw(
                st.lists(st.sampled_from(self.units), min_size=1, max_size=2, unique=True)
            )
            holder = chain.net["auditor"].unit_state(children[0]).custodian
            pallet = make_sscc("0614141", 5000 + len(self.units))
            member = self._actor(data, holder)
            if self._try(member, "pack", [unit_id(u) for u in children], pallet, (), children):
                self.units.append(pallet)

        @rule(receiver=st.sampled_from(MEMBERS), data=st.data())
        def ship_unit(self, receiver: str, data: st.DataObject) -> None:
            if not self.units:
                return
            unit = self._unit(data)
            sender = self._actor(data, chain.net["auditor"].unit_state(unit).custodian)
            self._try(sender, "ship", [unit_id(unit)], chain.net.address(receiver), (), [unit])

        @rule(receiver=st.sampled_from(MEMBERS), data=st.data())
        def ship_pack(self, receiver: str, data: st.DataObject) -> None:
            if not self.serials:
                return
            serial = self._serial(data)
            sender = self._actor(data, chain.net["auditor"].pack_state(GTIN, serial).custodian)
            to = chain.net.address(receiver)
            self._try(sender, "ship", [pack_id(GTIN, serial)], to, [(GTIN, serial)])

        @rule(data=st.data())
        def receive(self, data: st.DataObject) -> None:
            if not self.units:
                return
            unit = self._unit(data)
            member = self._actor(data, chain.net["auditor"].unit_state(unit).pending_to)
            self._try(member, "receive", [unit_id(unit)], (), [unit])

        @rule(data=st.data())
        def receive_pack(self, data: st.DataObject) -> None:
            if not self.serials:
                return
            serial = self._serial(data)
            member = self._actor(data, chain.net["auditor"].pack_state(GTIN, serial).pending_to)
            self._try(member, "receive", [pack_id(GTIN, serial)], [(GTIN, serial)])

        @rule(data=st.data())
        def unpack(self, data: st.DataObject) -> None:
            if not self.units:
                return
            unit = self._unit(data)
            member = self._actor(data, chain.net["auditor"].unit_state(unit).custodian)
            self._try(member, "unpack", [unit_id(unit)], [unit])

        @rule(reason=st.sampled_from(REASONS), data=st.data())
        def decommission(self, reason: DecommissionReason, data: st.DataObject) -> None:
            if not self.serials:
                return
            serial = self._serial(data)
            member = self._actor(data, chain.net["auditor"].pack_state(GTIN, serial).custodian)
            self._try(member, "decommission", [pack_id(GTIN, serial)], [(GTIN, serial)], reason)

        @rule(data=st.data())
        def undo(self, data: st.DataObject) -> None:
            if not self.serials:
                return
            serial = self._serial(data)
            member = self._actor(data, chain.net["auditor"].pack_state(GTIN, serial).custodian)
            self._try(member, "undo_decommission", [pack_id(GTIN, serial)], [(GTIN, serial)])

        @invariant()
        def contracts_and_independent_model_agree(self) -> None:
            result = audit(chain.w3, chain.net.deployment)
            assert result.divergences == [], result.divergences[:3]

    return Lifecycle


def test_random_lifecycles_keep_contracts_and_auditor_model_in_agreement(chain: Chain) -> None:
    run_state_machine_as_test(
        lifecycle_machine(chain),
        settings=settings(
            max_examples=12,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
