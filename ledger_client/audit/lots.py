"""The lots of the auditor's model: registration and status as SerialRegistry.sol keeps them.

Who may quarantine, recall or release a lot (the council, a regulator, the lot's owner), the
authority that set its status (lowering needs it or a higher one; only the council changes a
recalled lot), and a regulator's recall of another member's lot, a request that quarantines
the lot until a second regulator confirms it. :class:`LotModel` sits between
:class:`~ledger_client.audit.consortium.ConsortiumModel` (who may act) and
:class:`~ledger_client.audit.model.RegistryModel` (the packs in the lots), which dispatches
the events to its handlers.
"""

from __future__ import annotations

from typing import Any

from ledger_client import events as ev
from ledger_client.audit.consortium import ConsortiumModel
from ledger_client.audit.state import ALL_ROLES, PRODUCERS, REGULATOR, ZERO32, Lot
from ledger_client.contracts import MemberStatus
from ledger_client.events import handles
from ledger_client.gs1.dates import end_of_day
from ledger_client.ids import lot_hash, record_id
from ledger_client.types import ZERO_ADDRESS, Authority, LotStatus

NO_LOT = (ZERO32, ZERO_ADDRESS, 0, 0, 0, 0, ZERO_ADDRESS)
_QUARANTINED, _RECALLED = int(LotStatus.QUARANTINED), int(LotStatus.RECALLED)


class LotModel(ConsortiumModel):
    """Lots and their statuses rebuilt from the registry's lot events."""

    def __init__(self, council: str = ZERO_ADDRESS) -> None:
        super().__init__(council)
        self.lots: dict[bytes, Lot] = {}
        #: (tx, lot, regulator) of a recall request whose quarantine the next event states.
        self._quarantine_due: tuple[bytes, bytes, str] | None = None

    @handles(ev.LotRegistered)
    def _lot_registered(self, i: int, e: ev.LotRegistered) -> None:
        lot_id, owner = e.lot_id, e.owner
        self._require_member(i, owner, PRODUCERS, e.timestamp)
        if lot_id in self.lots:
            self._violation(i, "LotExists", lot_id)
            return
        expires_at = end_of_day(e.expiry)
        if expires_at == 0:
            self._violation(i, "InvalidExpiry", lot_id)
        lot = Lot(lot_id, len(self.lots) + 1, owner, e.expiry, expires_at, int(LotStatus.ACTIVE), i)
        lot.history.append(i)
        self.lots[lot_id] = lot

    def _lot(self, i: int, lot_id: bytes) -> Lot | None:
        lot = self.lots.get(lot_id)
        if lot is None:
            self._violation(i, "UnknownLot", lot_id)
        return lot

    def _lot_authority(self, i: int, by: str, lot: Lot, now: int) -> Authority:
        """The authority of ``by`` over ``lot``'s status (as ``SerialRegistry._lotAuthority``)."""
        if by == self.council:
            self._by_proposal(i, lot.id)
            return Authority.COUNCIL
        self._require_member(i, by, ALL_ROLES, now)
        m = self.members.get(by)
        if m is not None and m.roles & REGULATOR:
            return Authority.REGULATOR
        if m is not None and by == lot.owner and m.roles & PRODUCERS:
            return Authority.OWNER
        self._violation(i, "NotAuthorised", lot.id)
        return Authority.NONE

    def _standing_request(self, lot: Lot, now: int) -> bool:
        """True when ``lot`` has a recall request whose regulator still is an active, licensed
        regulator (a request of one who is no longer counts for nothing)."""
        m = self.members.get(lot.recall_requested_by)
        return (
            m is not None
            and m.status == MemberStatus.ACTIVE
            and bool(m.roles & REGULATOR)
            and m.licence_expiry > now
        )

    @handles(ev.LotRecallRequested)
    def _recall_requested(self, i: int, e: ev.LotRecallRequested) -> None:
        lot = self._lot(i, e.lot_id)
        if lot is None:
            return
        authority = self._lot_authority(i, e.by, lot, e.timestamp)
        if lot.status == _RECALLED:
            self._violation(i, "InvalidLotStatus", lot.id)
        elif lot.recall_requested_by == e.by:
            self._violation(i, "RecallAlreadyRequested", lot.id)
        elif authority != Authority.NONE and (
            authority != Authority.REGULATOR
            or e.by == lot.owner
            or self._standing_request(lot, e.timestamp)
        ):
            self._violation(i, "NotRecallRequest", lot.id)  # a recall at once, or a confirmation
        lot.recall_requested_by = e.by
        if lot.status != _QUARANTINED or lot.status_authority < Authority.REGULATOR:
            self._quarantine_due = (e.tx_hash, lot.id, e.by)
        lot.history.append(i)

    @handles(ev.LotStatusChanged)
    def _lot_status_changed(self, i: int, e: ev.LotStatusChanged) -> None:
        due, self._quarantine_due = self._quarantine_due, None
        lot = self._lot(i, e.lot_id)
        if lot is None:
            return
        lot.history.append(i)
        status, before, held = e.status, lot.status, lot.status_authority
        if due == (e.tx_hash, lot.id, e.by):  # the quarantine of a recall request
            if status != _QUARANTINED:
                self._violation(i, "InvalidLotStatus", lot.id)
            lot.status, lot.status_authority = status, int(Authority.REGULATOR)
            return
        authority = self._lot_authority(i, e.by, lot, e.timestamp)
        takes_over = status == before == _QUARANTINED and authority > held
        unchanged = status == before and not takes_over
        if status == 0 or unchanged or (before == _RECALLED and authority != Authority.COUNCIL):
            self._violation(i, "InvalidLotStatus", lot.id)
        elif status < before and authority < held:
            self._violation(i, "AuthorityTooLow", lot.id)
        elif status == _RECALLED and authority == Authority.REGULATOR and e.by != lot.owner:
            if lot.recall_requested_by == e.by:
                self._violation(i, "RecallAlreadyRequested", lot.id)
            elif not self._standing_request(lot, e.timestamp):
                self._violation(i, "RecallNeedsSecondRegulator", lot.id)
        if status != _QUARANTINED:
            lot.recall_requested_by = ZERO_ADDRESS
        lot.status = status
        if status == LotStatus.ACTIVE:
            lot.status_authority = int(Authority.NONE)
        elif status > before or authority > held:
            lot.status_authority = int(authority)

    # ------------------------------------------------------------ views

    def lots_of_code(self, gtin14: str, lot: str) -> list[bytes]:
        """The ids of every lot registered as ``lot`` of ``gtin14``: the genuine one (under
        the GTIN's prefix owner) first, then those other members registered under the code."""
        code = lot_hash(gtin14, lot)
        ids = [self.lot_id(gtin14, lot)]
        ids += [record_id(index, code) for index in range(1, len(self.member_accounts))]
        return [i for i in dict.fromkeys(ids) if i in self.lots]

    def lot_view(self, lot: Lot | None) -> tuple[Any, ...]:
        """The lot as the contract's ``lotState`` returns it (a ``LotView`` tuple)."""
        if lot is None:
            return NO_LOT
        return (
            lot.id,
            lot.owner,
            lot.expiry,
            lot.expires_at,
            lot.status,
            lot.status_authority,
            lot.recall_requested_by,
        )
