"""Verification: read a scan, decide the status from the index (or the chain), explain it."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass

from gateway.schemas import (
    Custody,
    Decommission,
    PackFacts,
    ProductFacts,
    Verdict,
    VerifyBatchResult,
    VerifyResult,
)
from gateway.services.chain import Chain
from gateway.services.readmodel import PackRecord, ReadModel
from ledger_client.errors import InvalidCodeError
from ledger_client.gs1 import PackCode, ScanResult, parse_code
from ledger_client.ids import pack_id
from ledger_client.rules import verdict
from ledger_client.types import (
    UNDOABLE,
    DecommissionReason,
    LotStatus,
    PackFlag,
    PackStatus,
    Verification,
    VerificationStatus,
)

S = VerificationStatus
#: Amber: not to be dispensed now, but nothing says the pack is fake or gone.
AMBER = frozenset({S.IN_TRANSIT, S.QUARANTINED})

_REASONS: dict[VerificationStatus, str] = {
    S.VERIFIED: "genuine and saleable",
    S.UNKNOWN: (
        "unknown serial number: the owner of this GTIN never commissioned a pack with this serial"
    ),
    S.PRODUCT_MISMATCH: (
        "product mismatch: no member of the network owns this GTIN's company prefix"
    ),
    S.LOT_MISMATCH: (
        "lot mismatch: the lot on the pack is not the lot this serial was commissioned in"
    ),
    S.EXPIRY_MISMATCH: (
        "expiry mismatch: the expiry on the pack differs from the lot's registered expiry"
    ),
    S.ILLEGITIMATE: "flagged illegitimate: quarantine the pack and notify the regulator",
    S.SUSPECT: "flagged suspect: do not dispense, quarantine and investigate",
    S.RECALLED: "the lot is recalled",
    S.QUARANTINED: "the lot is quarantined: hold the pack until it is released",
    S.DECOMMISSIONED: "already decommissioned",
    S.EXPIRED: "expired",
    S.IN_TRANSIT: "in transit: receive the shipment before dispensing",
    S.LOST: (
        "reported lost in transit by its sender: do not dispense, quarantine it and tell the sender"
    ),
}


#: The caller's custody explains these statuses entirely: its reason replaces theirs.
CUSTODY_EXPLAINS = frozenset({S.VERIFIED, S.IN_TRANSIT})


def verdict_of(status: VerificationStatus, custody: Custody | None = None) -> Verdict:
    """Return the traffic light of ``status`` for a caller whose custody of the pack is
    ``custody`` (None: a caller that does not dispense). A dispenser gets green only for a
    pack it holds, and red for a pack another member holds or receives."""
    if custody == "elsewhere":
        return "red"
    if status == S.VERIFIED:
        return "green" if custody in (None, "held") else "amber"
    return "amber" if status in AMBER else "red"


def custody_of(pack: PackRecord | None, viewer: str | None) -> Custody | None:
    """Return where ``pack`` (its top unit's custody) is relative to dispenser ``viewer``."""
    if viewer is None or pack is None:
        return None
    if pack.in_transit:
        if pack.pending_to == viewer:
            return "incoming"
        return "outgoing" if pack.custodian == viewer else "elsewhere"
    return "held" if pack.custodian == viewer else "elsewhere"


def parse_pack(text: str) -> ScanResult:
    """Read a scanned pack code; raise InvalidCodeError unless it names one pack."""
    scan = parse_code(text)
    if not isinstance(scan.code, PackCode):
        raise InvalidCodeError(
            f"{type(scan.code).__name__} scanned: verification needs a pack (GTIN + serial)"
        )
    return scan


def _iso(ts: int | float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Verifier:
    """Answers verifications from the SQL index (fast) or straight from the chain
    (``Ledger.verify``)."""

    readmodel: ReadModel
    chain: Chain | None
    names: dict[str, str]
    undo_window_seconds: int = 10 * 24 * 3600

    def verify(
        self, text: str, source: str = "index", viewer: str | None = None
    ) -> tuple[VerifyResult, PackRecord | None, bytes | None]:
        """Verify one scan; return the result, the pack's state and its id (None if unreadable).

        ``viewer`` is the address of a caller with the DISPENSER role: the verdict then also
        says whether that caller holds the pack (see :func:`verdict_of`).
        """
        now = time.time()
        try:
            scan = parse_pack(text)
        except InvalidCodeError as exc:
            return self._unreadable(text, str(exc), now), None, None
        code = scan.code
        assert isinstance(code, PackCode)
        if source == "chain" and self.chain is not None:
            status, pack, pid, block = self._from_chain(code)
        else:
            block = self.readmodel.indexed_block()
            self.readmodel.refresh(block)
            owner = self.readmodel.owners.index(code.gtin)
            pid = pack_id(code.gtin, code.serial, owner=owner)
            pack = self.readmodel.pack(pid)
            status = verdict(code, pack, owner, int(now))
        custody = custody_of(pack, viewer)
        result = VerifyResult(
            code=text,
            status=status.name,
            verdict=verdict_of(status, custody),
            reasons=self._reasons(status, code, pack, custody),
            gtin=code.gtin,
            serial=code.serial,
            lot=code.lot,
            expiry=code.expiry.isoformat() if code.expiry else None,
            source_format=scan.source_format,
            warnings=list(scan.warnings),
            product=self._product(code.gtin),
            pack=self._pack_facts(pid, pack),
            source="chain" if source == "chain" and self.chain is not None else "index",
            as_of_block=block,
            verified_at=_iso(now),
            custody=custody,
            dispensable=status == S.VERIFIED and custody == "held",
        )
        return result, pack, pid

    def verify_batch(
        self, codes: list[str], source: str = "index", viewer: str | None = None
    ) -> tuple[VerifyBatchResult, list[tuple[VerifyResult, PackRecord | None, bytes | None]]]:
        """Verify a delivery as :meth:`verify` does; the batch verdict is its worst member's."""
        answers = [self.verify(c, source, viewer) for c in codes]
        results = [a[0] for a in answers]
        verdicts = [r.verdict for r in results]
        worst: Verdict = "red" if "red" in verdicts else "amber" if "amber" in verdicts else "green"
        summary = dict(Counter(r.status for r in results))
        return VerifyBatchResult(results=results, summary=summary, verdict=worst), answers

    # ------------------------------------------------------------------ helpers

    def _from_chain(
        self, code: PackCode
    ) -> tuple[VerificationStatus, PackRecord | None, bytes, int]:
        """The registry's own answer at the head block: status, the pack found under the GTIN's
        prefix owner (None when there is none), its id and the block."""
        assert self.chain is not None
        block = int(self.chain.w3.eth.block_number)
        raw = self.chain.registry.functions.verify(
            code.gtin, code.serial, code.lot or "", int(code.expiry_yymmdd or 0)
        ).call(block_identifier=block)
        v = Verification.from_tuple(raw)
        if v.status == S.PRODUCT_MISMATCH:  # looked up under nobody, as the index does
            return v.status, None, pack_id(code.gtin, code.serial, owner=0), block
        if v.status == S.UNKNOWN:
            return v.status, None, v.pack_id, block
        p, lot = v.pack, v.lot
        record = PackRecord(
            v.pack_id,
            int(p.status),
            int(p.reason),
            int(p.flags),
            p.flag_reason,
            p.decommissioned_at,
            p.lot_id,
            p.lot_tag,
            lot.owner,
            lot.expiry,
            lot.expires_at,
            int(lot.status),
            None,
            p.custodian,
            p.pending_to if p.in_transit or p.lost else None,
            p.in_transit,
            p.lost,
        )
        return v.status, record, v.pack_id, block

    def _unreadable(self, text: str, message: str, now: float) -> VerifyResult:
        return VerifyResult(
            code=text,
            status="UNREADABLE",
            verdict="red",
            expiry=None,
            reasons=[f"the scan could not be read: {message}"],
            as_of_block=-1,
            verified_at=_iso(now),
        )

    def label(self, address: str | None) -> tuple[str | None, str | None]:
        """Return a member's display name and GLN."""
        if not address:
            return None, None
        member = self.readmodel.member(address)
        return self.names.get(address), member.gln if member else None

    def _who(self, address: str | None) -> str:
        """Name a member for a reason: its name and GLN, whichever are known, else its address."""
        name, gln = self.label(address)
        if name and gln:
            return f"{name} (GLN {gln})"
        return name or (f"GLN {gln}" if gln else address or "an unknown holder")

    def _product(self, gtin: str) -> ProductFacts | None:
        p = self.readmodel.product(gtin)
        return None if p is None else ProductFacts.model_validate(p, from_attributes=True)

    def _pack_facts(self, pid: bytes, pack: PackRecord | None) -> PackFacts | None:
        if pack is None:
            return None
        name, gln = self.label(pack.custodian)
        decommission = None
        if pack.status == PackStatus.DECOMMISSIONED:
            reason = DecommissionReason(pack.reason)
            by_name, by_gln = self.label(pack.custodian)
            undo = pack.decommissioned_at + self.undo_window_seconds if reason in UNDOABLE else None
            decommission = Decommission(
                reason=reason.name,
                at=_iso(pack.decommissioned_at),
                by=pack.custodian or "",
                by_name=by_name,
                by_gln=by_gln,
                undo_until=_iso(undo) if undo else None,
            )
        return PackFacts(
            pack_id="0x" + pid.hex(),
            status=PackStatus(pack.status).name,
            lot_status=LotStatus(pack.lot_status).name,
            lot_expiry=f"{pack.lot_expiry:06d}",
            lot_owner=pack.lot_owner,
            custodian=pack.custodian,
            custodian_name=name,
            custodian_gln=gln,
            in_transit=pack.in_transit,
            lost=pack.lost,
            pending_to=pack.pending_to,
            flags=[f.name for f in PackFlag if pack.flags & f and f.name],
            decommission=decommission,
        )

    def _reasons(
        self,
        status: VerificationStatus,
        code: PackCode,
        pack: PackRecord | None,
        custody: Custody | None = None,
    ) -> list[str]:
        reason = _REASONS[status]
        if pack is None:
            return [reason]
        if status == S.DECOMMISSIONED:
            reason = (
                f"already decommissioned ({DecommissionReason(pack.reason).name.lower()}) on "
                f"{_iso(pack.decommissioned_at)} by {self._who(pack.custodian)}"
            )
        elif status == S.EXPIRED:
            reason = f"expired: the lot's expiry {pack.lot_expiry:06d} has passed"
        elif status == S.EXPIRY_MISMATCH:
            reason = f"{reason} (scanned {code.expiry_yymmdd}, registered {pack.lot_expiry:06d})"
        elif status in (S.IN_TRANSIT, S.LOST):
            to_name, _ = self.label(pack.pending_to)
            reason = f"{reason} (shipped to {to_name or pack.pending_to})"
        reasons = [reason]
        where = self._custody_reason(pack, custody) if status != S.DECOMMISSIONED else None
        if where:
            reasons = [where] if status in CUSTODY_EXPLAINS else [reason, where]
        if status != S.EXPIRED and status != S.VERIFIED and int(time.time()) > pack.lot_expires_at:
            reasons.append(f"also expired: the lot's expiry {pack.lot_expiry:06d} has passed")
        return reasons

    def _custody_reason(self, pack: PackRecord, custody: Custody | None) -> str | None:
        """Say why a dispenser that does not hold ``pack`` must not dispense it."""
        holder = self._who(pack.custodian)
        if custody == "incoming":
            return f"not yet received: in transit to you from {holder}; receive the shipment first"
        if custody == "outgoing":
            to = self._who(pack.pending_to)
            return f"shipped by you to {to} and not yet received there: not yours to dispense"
        if custody != "elsewhere":
            return None
        where = (
            f"in transit from {holder} to {self._who(pack.pending_to)}, not to you"
            if pack.in_transit
            else f"held by {holder}, not shipped to you"
        )
        return f"{where}: possible diversion, do not dispense, quarantine and report"
