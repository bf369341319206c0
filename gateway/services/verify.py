"""Verification: read a scan, decide the status from the index (or the chain), explain it."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass

from gateway.schemas import (
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
from ledger_client.ids import lot_id, pack_id
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
    S.UNKNOWN: "unknown serial number: no pack with this GTIN and serial was ever commissioned",
    S.PRODUCT_MISMATCH: (
        "product mismatch: the pack's lot was registered by a company that does not own this GTIN"
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
}


def verdict_of(status: VerificationStatus) -> Verdict:
    """Return the traffic light of ``status``."""
    if status == S.VERIFIED:
        return "green"
    return "amber" if status in AMBER else "red"


def parse_pack(text: str) -> ScanResult:
    """Read a scanned pack code; raise InvalidCodeError unless it names one pack."""
    scan = parse_code(text)
    if not isinstance(scan.code, PackCode):
        raise InvalidCodeError(
            f"{type(scan.code).__name__} scanned: verification needs a pack (GTIN + serial)"
        )
    return scan


def decide(
    code: PackCode, pack: PackRecord | None, product_owner: str | None, now: int
) -> VerificationStatus:
    """Return the verification status, by the same rules and order as SerialRegistry.verify."""
    if pack is None:
        return S.UNKNOWN
    if product_owner is None or product_owner != pack.lot_owner:
        return S.PRODUCT_MISMATCH
    if code.lot and lot_id(code.gtin, code.lot) != pack.lot_id:
        return S.LOT_MISMATCH
    if code.expiry_yymmdd and int(code.expiry_yymmdd) != pack.lot_expiry:
        return S.EXPIRY_MISMATCH
    if pack.flags & PackFlag.ILLEGITIMATE:
        return S.ILLEGITIMATE
    if pack.flags & PackFlag.SUSPECT:
        return S.SUSPECT
    if pack.lot_status == LotStatus.RECALLED:
        return S.RECALLED
    if pack.lot_status == LotStatus.QUARANTINED:
        return S.QUARANTINED
    if pack.status == PackStatus.DECOMMISSIONED:
        return S.DECOMMISSIONED
    if now > pack.lot_expires_at:
        return S.EXPIRED
    if pack.in_transit:
        return S.IN_TRANSIT
    return S.VERIFIED


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
        self, text: str, source: str = "index"
    ) -> tuple[VerifyResult, PackRecord | None, bytes | None]:
        """Verify one scan; return the result, the pack's state and its id (None if unreadable)."""
        now = time.time()
        try:
            scan = parse_pack(text)
        except InvalidCodeError as exc:
            return self._unreadable(text, str(exc), now), None, None
        code = scan.code
        assert isinstance(code, PackCode)
        pid = pack_id(code.gtin, code.serial)
        if source == "chain" and self.chain is not None:
            status, pack, owner, block = self._from_chain(code, pid)
        else:
            block = self.readmodel.indexed_block()
            self.readmodel.refresh(block)
            pack = self.readmodel.pack(pid)
            owner = self.readmodel.prefix_owner(code.gtin)
            status = decide(code, pack, owner, int(now))
        result = VerifyResult(
            code=text,
            status=status.name,
            verdict=verdict_of(status),
            reasons=self._reasons(status, code, pack),
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
        )
        return result, pack, pid

    def verify_batch(
        self, codes: list[str], source: str = "index"
    ) -> tuple[VerifyBatchResult, list[tuple[VerifyResult, PackRecord | None, bytes | None]]]:
        """Verify a delivery; the batch verdict is its worst member's."""
        answers = [self.verify(c, source) for c in codes]
        results = [a[0] for a in answers]
        verdicts = [r.verdict for r in results]
        worst: Verdict = "red" if "red" in verdicts else "amber" if "amber" in verdicts else "green"
        summary = dict(Counter(r.status for r in results))
        return VerifyBatchResult(results=results, summary=summary, verdict=worst), answers

    # ------------------------------------------------------------------ helpers

    def _from_chain(
        self, code: PackCode, pid: bytes
    ) -> tuple[VerificationStatus, PackRecord | None, str | None, int]:
        assert self.chain is not None
        block = int(self.chain.w3.eth.block_number)
        raw = self.chain.registry.functions.verify(
            code.gtin, code.serial, code.lot or "", int(code.expiry_yymmdd or 0)
        ).call(block_identifier=block)
        v = Verification.from_tuple(raw)
        if v.status == S.UNKNOWN:
            return v.status, None, None, block
        p, lot = v.pack, v.lot
        record = PackRecord(
            pid,
            int(p.status),
            int(p.reason),
            int(p.flags),
            p.flag_reason,
            p.decommissioned_at,
            p.lot_id,
            lot.owner,
            lot.expiry,
            lot.expires_at,
            int(lot.status),
            None,
            p.custodian,
            p.pending_to if p.in_transit else None,
            p.in_transit,
        )
        return v.status, record, v.product_owner, block

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

    def _product(self, gtin: str) -> ProductFacts | None:
        p = self.readmodel.product(gtin)
        if p is None:
            return None
        return ProductFacts(
            gtin=p.gtin,
            name=p.name,
            strength=p.strength,
            dosage_form=p.dosage_form,
            ndc=p.ndc,
            owner=p.owner,
            gateway_url=p.gateway_url,
        )

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
            pending_to=pack.pending_to,
            flags=[f.name for f in PackFlag if pack.flags & f and f.name],
            decommission=decommission,
        )

    def _reasons(
        self, status: VerificationStatus, code: PackCode, pack: PackRecord | None
    ) -> list[str]:
        reason = _REASONS[status]
        if pack is None:
            return [reason]
        if status == S.DECOMMISSIONED:
            by_name, by_gln = self.label(pack.custodian)
            where = by_name or (f"GLN {by_gln}" if by_gln else pack.custodian)
            reason = (
                f"already decommissioned ({DecommissionReason(pack.reason).name.lower()}) on "
                f"{_iso(pack.decommissioned_at)} by {where}"
            )
        elif status == S.EXPIRED:
            reason = f"expired: the lot's expiry {pack.lot_expiry:06d} has passed"
        elif status == S.EXPIRY_MISMATCH:
            reason = f"{reason} (scanned {code.expiry_yymmdd}, registered {pack.lot_expiry:06d})"
        elif status == S.IN_TRANSIT:
            to_name, _ = self.label(pack.pending_to)
            reason = f"{reason} (shipped to {to_name or pack.pending_to})"
        reasons = [reason]
        if status != S.EXPIRED and status != S.VERIFIED and int(time.time()) > pack.lot_expires_at:
            reasons.append(f"also expired: the lot's expiry {pack.lot_expiry:06d} has passed")
        return reasons
