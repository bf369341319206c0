"""The lifecycle API: one member writing to and reading from an RxLedger network.

One module (about 500 lines) because it is one class, the Python API the README documents:
codes become ids through :mod:`ledger_client.owners`, batches are written through
:mod:`ledger_client.pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction

from ledger_client.confirm import confirm
from ledger_client.contracts import Deployment
from ledger_client.errors import (
    ConfigurationError,
    DuplicateInBatchError,
    InvalidInputError,
    UnknownPrefixError,
)
from ledger_client.events import ExceptionOpened
from ledger_client.gs1.dates import expiry_yymmdd
from ledger_client.gs1.serial_entropy import warn_if_weak
from ledger_client.ids import (
    check_lot_key,
    items_hash,
    lot_hash,
    pack_hash,
    pack_word,
    record_id,
    split_pack_word,
    unit_hash,
)
from ledger_client.owners import PrefixOwners
from ledger_client.pipeline import (
    DEFAULT_WINDOW,
    RECEIPT_POLL_SECONDS,
    REVERT_ERRORS,
    Chunk,
    Pipeline,
    ProgressCallback,
    gas_with_margin,
    revert_of,
    to_receipt,
)
from ledger_client.reverts import LedgerRevertError
from ledger_client.types import (
    ZERO_HASH,
    AccessGrant,
    DecommissionReason,
    ExceptionKind,
    ExceptionRecord,
    LotStatus,
    LotView,
    PackFlag,
    PackStatus,
    PackView,
    Receipt,
    UnitView,
    Verification,
)

PackRef = tuple[str, str]
"""A pack as (GTIN-14, serial)."""
PackItem = PackRef | bytes
"""A pack as (GTIN-14, serial), or by its on-chain id."""
UnitItem = str | bytes
"""A case or pallet as its SSCC-18, or by its on-chain id."""

DEFAULT_BATCH_SIZE = 500


def _chunks(items: Sequence[bytes], size: int) -> Iterable[list[bytes]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _require_unique(ids: Sequence[bytes], what: str) -> None:
    seen: set[bytes] = set()
    for i in ids:
        if i in seen:
            raise DuplicateInBatchError(what, i)
        seen.add(i)


class Ledger:
    """One member's handle on a deployment: typed writes signed with its own key, and reads.

    Codes are turned into on-chain ids under the member owning their GS1 company prefix
    (:class:`PrefixOwners`); this member creates lots, packs and units under its own prefix
    only. Batches of any size are split into transactions of ``batch_size`` items, sent through
    a :class:`~ledger_client.pipeline.Pipeline` with up to ``window`` unconfirmed at once. A
    transport failure (node restart, timeout) is retried ``retries`` times, through the
    ``fallback`` nodes too when given; transactions not on chain are resent as signed, at their
    nonce, so nothing is written twice. A chunk that reverts is reported after the others are
    written (:class:`~ledger_client.pipeline.BatchRevertError`). Batch writes that take
    ``progress`` call it with each chunk's size when the chunk is done.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        account: LocalAccount | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        retries: int = 3,
        retry_delay: float = 1.0,
        *,
        window: int = DEFAULT_WINDOW,
        fallback: Sequence[Web3] = (),
        lot_key: bytes | None = None,
        lot_keys: Mapping[int, bytes] | None = None,
    ) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.account = account
        self.batch_size = batch_size
        self.retries = retries
        self.retry_delay = retry_delay
        self.window = window
        self.fallback = list(fallback)
        self._pipeline: Pipeline | None = None
        self.registry = deployment.contract(w3, "SerialRegistry")
        self.consortium = deployment.contract(w3, "Consortium")
        self.directory = deployment.contract(w3, "ProductDirectory")
        self.forwarder = deployment.contract(w3, "RxForwarder")
        self.grants = deployment.contract(w3, "AccessGrants")
        self.exceptions = deployment.contract(w3, "ExceptionRegistry")
        self.lot_key = None if lot_key is None else check_lot_key(lot_key)
        own = None if self.lot_key is None or account is None else (account.address, self.lot_key)
        self.owners = PrefixOwners(self.consortium, lot_keys, own_lot_key=own)
        self._index: int | None = None

    @property
    def address(self) -> str:
        """This member's account address."""
        return str(self._signer().address)

    @property
    def member_index(self) -> int:
        """This member's index in the consortium (0 when it is not a member)."""
        if self._index is None:
            self._index = int(self.consortium.functions.member(self.address).call()[1])
        return self._index

    def _own(self, code: str) -> str:
        """Return ``code`` if this member owns its company prefix; raise otherwise."""
        owner = self.owners.index(code)
        if owner != self.member_index:
            raise UnknownPrefixError(
                f"{code} carries a GS1 company prefix of member #{owner}, not this member's"
                f" (#{self.member_index}): create lots, packs and units under your own prefix"
            )
        return code

    def lot_of_pack(self, gtin: str, serial: str) -> bytes:
        """The id of the lot pack ``gtin`` + ``serial`` was commissioned in: how a member
        without the owner's lot key finds a lot (a regulator holding a recalled pack)."""
        lot = self.pack_state(gtin, serial).lot_id
        if not any(lot):
            raise InvalidInputError(f"no pack {gtin} {serial} is on the ledger")
        return lot

    def _lot_hash(self, gtin: str, lot: str) -> bytes:
        """The code hash of this member's own lot ``lot`` of ``gtin``, keyed with its lot key."""
        return lot_hash(self._own(gtin), lot, self.lot_key)

    def pack_ids(self, packs: Sequence[PackItem]) -> list[bytes]:
        """The on-chain ids of packs given as ``(gtin, serial)`` or as ids."""
        return [p if isinstance(p, bytes) else self.owners.pack_id(*p) for p in packs]

    def unit_ids(self, units: Sequence[UnitItem]) -> list[bytes]:
        """The on-chain ids of units given as SSCCs or as ids."""
        return [u if isinstance(u, bytes) else self.owners.unit_id(u) for u in units]

    def _signer(self) -> LocalAccount:
        if self.account is None:
            raise ConfigurationError(
                "this Ledger is read-only: give it the member's account to write"
            )
        return self.account

    # ------------------------------------------------------------ transactions

    def transact(self, fn: ContractFunction) -> Receipt:
        """Sign and send ``fn`` from this member; raise :class:`LedgerRevertError` on revert."""
        signer = self._signer()
        sender = signer.address
        try:
            gas = fn.estimate_gas({"from": sender})
        except REVERT_ERRORS as exc:
            error = revert_of(exc)
            if error is None:
                raise
            raise error from None
        tx = fn.build_transaction(
            {
                "from": sender,
                "nonce": self.w3.eth.get_transaction_count(sender, "pending"),
                "gas": gas_with_margin(gas, self.w3.eth.get_block("latest")["gasLimit"]),
            }
        )
        signed = signer.sign_transaction(dict(tx))  # type: ignore[arg-type]
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            tx_hash, timeout=120, poll_latency=RECEIPT_POLL_SECONDS
        )
        if receipt["status"] != 1:
            raise LedgerRevertError("TransactionFailed", {"tx": bytes(tx_hash)}, b"")
        return to_receipt(self.w3, receipt)

    def _pipe(self) -> Pipeline:
        """This member's pipeline (one per Ledger: it counts the account's nonces)."""
        if self._pipeline is None:
            self._pipeline = Pipeline([self.w3, *self.fallback], self._signer(), self.window)
        pipe = self._pipeline
        pipe.window, pipe.retries, pipe.retry_delay = self.window, self.retries, self.retry_delay
        return pipe

    def _batched(
        self,
        ids: Sequence[bytes],
        send: Callable[[list[bytes]], ContractFunction],
        done: Callable[[list[bytes]], list[bool]],
        skip_done: bool,
        progress: ProgressCallback | None = None,
    ) -> list[Receipt]:
        chunks = [Chunk(c, len(c), send) for c in _chunks(ids, self.batch_size)]
        return self._pipe().run(chunks, done, skip_done, progress)

    # ------------------------------------------------------------ lots and products

    def register_lot(
        self, gtin: str, lot: str, expiry: str | int | date, event_hash: bytes = ZERO_HASH
    ) -> Receipt:
        """Register lot ``lot`` of ``gtin`` expiring ``expiry`` (GS1 YYMMDD, day 00 = month end)."""
        return self.transact(
            self.registry.functions.registerLot(
                self._lot_hash(gtin, lot), expiry_yymmdd(expiry), event_hash
            )
        )

    def set_lot_status(
        self, gtin: str, lot: str, status: LotStatus, event_hash: bytes = ZERO_HASH
    ) -> Receipt:
        """Quarantine, recall or release a lot (its owner, a regulator; see the authority rules
        in docs/threat-model.md)."""
        return self.set_lot_status_by_id(self.owners.lot_id(gtin, lot), status, event_hash)

    def set_lot_status_by_id(
        self, lot: bytes, status: LotStatus, event_hash: bytes = ZERO_HASH
    ) -> Receipt:
        """Like :meth:`set_lot_status` for a lot known only by its on-chain id."""
        return self.transact(self.registry.functions.setLotStatus(lot, int(status), event_hash))

    def register_product(
        self,
        gtin: str,
        name: str,
        strength: str = "",
        dosage_form: str = "",
        ndc: str = "",
        gateway_url: str = "",
    ) -> Receipt:
        """Publish a product's master data in the directory (owner of its company prefix only)."""
        info = (name, strength, dosage_form, ndc, gateway_url)
        return self.transact(self.directory.functions.registerProduct(gtin, info))

    def set_gateway_url(self, url: str) -> Receipt:
        """Publish this member's gateway URL in the consortium, where partners find it."""
        return self.transact(self.consortium.functions.setGatewayUrl(url))

    def gateway_url(self, account: str | None = None) -> str:
        """The gateway URL member ``account`` (default: this one) published, or ""."""
        who = Web3.to_checksum_address(account) if account else self.address
        return str(self.consortium.functions.gatewayUrl(who).call())

    # ------------------------------------------------------------ access grants

    def grant_access(self, lot: bytes, grantee: str, expires_at: int = 0) -> Receipt:
        """Grant auditor ``grantee`` read access to the events of lot ``lot`` (its on-chain id,
        ``owners.lot_id(gtin, lot)``) until ``expires_at`` (0: until revoked), or change the
        expiry of the grant; the lot's owner only (the council: a proposal of callAsCouncil)."""
        return self.transact(self.grants.functions.grant(lot, grantee, expires_at))

    def revoke_access(self, lot: bytes, grantee: str) -> Receipt:
        """Revoke ``grantee``'s grant on lot ``lot`` (the owner: only grants it made)."""
        return self.transact(self.grants.functions.revoke(lot, grantee))

    def access_grant(self, lot: bytes, grantee: str) -> AccessGrant:
        """Return ``grantee``'s grant on lot ``lot`` (authority NONE when it has none)."""
        return AccessGrant.from_tuple(self.grants.functions.grantOf(lot, grantee).call())

    # ------------------------------------------------------------ packs and units

    def commission(
        self,
        gtin: str,
        lot: str,
        serials: Sequence[str],
        into_sscc: str | None = None,
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Receipt]:
        """Commission ``serials`` of ``gtin`` in ``lot``, into case ``into_sscc`` if given.

        Warns with :class:`~ledger_client.errors.WeakSerialsWarning` when the serials follow a
        counter or have little entropy (:mod:`ledger_client.gs1.serial_entropy`): their pack
        ids are then no secret from anyone reading the chain."""
        lot_of = self._lot_hash(gtin, lot)
        unit = unit_hash(self._own(into_sscc)) if into_sscc else ZERO_HASH
        words = [pack_word(gtin, s, lot) for s in serials]
        warn_if_weak(gtin, serials)
        return self.commission_words(lot_of, words, unit, event_hash, skip_done, progress=progress)

    def commission_words(
        self,
        lot: bytes,
        words: Sequence[bytes],
        unit: bytes = ZERO_HASH,
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Receipt]:
        """Commission this member's packs known by their pack words (code hash and lot tag,
        see :func:`ledger_client.ids.pack_word`) into its lot of code hash ``lot``, straight
        into its unit of code hash ``unit``."""
        hashes = [split_pack_word(w)[0] for w in words]
        _require_unique(hashes, "pack ids")
        me = self.member_index
        lot_id = record_id(me, lot)
        ids = {record_id(me, h): w for h, w in zip(hashes, words, strict=True)}
        fn = self.registry.functions.commission
        return self._batched_packs(
            list(ids),
            lambda c: fn(lot, unit, [ids[i] for i in c], event_hash),
            lambda v: v.status != PackStatus.NONE and v.lot_id == lot_id,
            skip_done,
            progress,
        )

    def pack(
        self,
        unit: str | PackRef,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
    ) -> Receipt:
        """Pack loose packs and units into case or pallet ``unit``, new or this member's own:
        its SSCC, or the (GTIN, serial) of a case labelled with an SGTIN."""
        if isinstance(unit, str):
            container = unit_hash(self._own(unit))
        else:
            container = pack_hash(self._own(unit[0]), unit[1])
        fn = self.registry.functions.pack
        return self.transact(fn(container, self.pack_ids(packs), self.unit_ids(units), event_hash))

    def unpack(self, units: Sequence[UnitItem], event_hash: bytes = ZERO_HASH) -> Receipt:
        """Unpack whole cases or pallets: their contents stay with this member."""
        return self.transact(self.registry.functions.unpack(self.unit_ids(units), event_hash))

    def unpack_items(
        self,
        unit: UnitItem,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
    ) -> Receipt:
        """Take some packs or units out of case or pallet ``unit``; the unit stays."""
        (unit_id,) = self.unit_ids([unit])
        fn = self.registry.functions.unpackItems
        return self.transact(fn(unit_id, self.pack_ids(packs), self.unit_ids(units), event_hash))

    def ship(
        self,
        to: str,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
    ) -> list[Receipt]:
        """Ship loose packs and top-level units to member ``to``."""
        to = Web3.to_checksum_address(to)
        fn = self.registry.functions.ship
        return self._batched_items(
            self.pack_ids(packs),
            self.unit_ids(units),
            lambda p, u: fn(p, u, to, event_hash),
            lambda v: v.in_transit and v.pending_to == to,
            skip_done,
        )

    def receive(
        self,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
    ) -> list[Receipt]:
        """Receive packs and units shipped to this member."""
        fn = self.registry.functions.receiveItems
        me = self.address
        return self._batched_items(
            self.pack_ids(packs),
            self.unit_ids(units),
            lambda p, u: fn(p, u, event_hash),
            lambda v: v.custodian == me and not v.in_transit,
            skip_done,
        )

    def cancel_shipment(
        self,
        to: str,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
    ) -> list[Receipt]:
        """Cancel this member's shipment of packs and units to ``to`` before ``to`` receives
        them: they are back in this member's custody."""
        to = Web3.to_checksum_address(to)
        fn = self.registry.functions.cancelShipment
        me = self.address
        return self._batched_items(
            self.pack_ids(packs),
            self.unit_ids(units),
            lambda p, u: fn(to, p, u, event_hash),
            lambda v: v.custodian == me and not v.in_transit and not v.lost,
            skip_done,
        )

    def refuse(
        self,
        sender: str,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
    ) -> list[Receipt]:
        """Refuse packs and units ``sender`` shipped to this member: they travel back to
        ``sender``, who receives them with :meth:`receive`."""
        sender = Web3.to_checksum_address(sender)
        fn = self.registry.functions.refuseItems
        me = self.address
        return self._batched_items(
            self.pack_ids(packs),
            self.unit_ids(units),
            lambda p, u: fn(sender, p, u, event_hash),
            lambda v: v.in_transit and v.pending_to == sender and v.custodian == me,
            skip_done,
        )

    def report_lost(
        self,
        to: str,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
    ) -> list[Receipt]:
        """Report packs and units this member shipped to ``to`` lost in transit (they verify
        LOST until :meth:`report_found`)."""
        to = Web3.to_checksum_address(to)
        fn = self.registry.functions.reportLost
        return self._batched_items(
            self.pack_ids(packs),
            self.unit_ids(units),
            lambda p, u: fn(to, p, u, event_hash),
            lambda v: v.lost and v.pending_to == to,
            skip_done,
        )

    def report_found(
        self,
        to: str,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
    ) -> list[Receipt]:
        """Undo this member's report of packs and units lost on their way to ``to``: they are
        in transit to ``to`` again."""
        to = Web3.to_checksum_address(to)
        fn = self.registry.functions.reportFound
        return self._batched_items(
            self.pack_ids(packs),
            self.unit_ids(units),
            lambda p, u: fn(to, p, u, event_hash),
            lambda v: v.in_transit and v.pending_to == to,
            skip_done,
        )

    def decommission(
        self,
        packs: Sequence[PackItem],
        reason: DecommissionReason,
        event_hash: bytes = ZERO_HASH,
        skip_done: bool = False,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Receipt]:
        """Decommission packs (dispensed, destroyed, exported, ...)."""
        fn = self.registry.functions.decommission
        me = self.address
        return self._batched_packs(
            self.pack_ids(packs),
            lambda c: fn(c, int(reason), event_hash),
            lambda v: (
                v.status == PackStatus.DECOMMISSIONED and v.reason == reason and v.custodian == me
            ),
            skip_done,
            progress,
        )

    def undo_decommission(
        self, packs: Sequence[PackItem], event_hash: bytes = ZERO_HASH
    ) -> list[Receipt]:
        """Undo this member's decommissions within their undo deadline."""
        fn = self.registry.functions.undoDecommission
        return self._batched_packs(
            self.pack_ids(packs),
            lambda c: fn(c, event_hash),
            lambda v: v.status == PackStatus.ACTIVE,
            False,
        )

    def flag(
        self,
        packs: Sequence[PackItem],
        flags: PackFlag,
        reason_code: int = 0,
        event_hash: bytes = ZERO_HASH,
    ) -> list[Receipt]:
        """Set pack flags (suspect, illegitimate); ``PackFlag(0)`` clears them."""
        fn = self.registry.functions.flagPacks
        return self._batched_packs(
            self.pack_ids(packs),
            lambda c: fn(c, int(flags), reason_code, event_hash),
            lambda v: v.flags == flags,
            False,
        )

    # ------------------------------------------------------------ exceptions

    def open_exception(
        self,
        counterparty: str,
        kind: ExceptionKind,
        packs: Sequence[PackItem] = (),
        units: Sequence[UnitItem] = (),
        evidence_hash: bytes = ZERO_HASH,
    ) -> tuple[int, Receipt]:
        """Open an exception of ``kind`` against trading partner ``counterparty`` about
        ``packs`` and ``units`` (the chain keeps their :func:`~ledger_client.ids.items_hash`),
        with evidence hashing to ``evidence_hash``; return its id and the receipt."""
        items = items_hash(self.pack_ids(packs) + self.unit_ids(units))
        fn = self.exceptions.functions.openException
        receipt = self.transact(
            fn(Web3.to_checksum_address(counterparty), int(kind), items, evidence_hash)
        )
        (opened,) = [e for e in receipt.events if isinstance(e, ExceptionOpened)]
        return opened.id, receipt

    def answer_exception(self, exception_id: int, evidence_hash: bytes = ZERO_HASH) -> Receipt:
        """Answer exception ``exception_id`` as its counterparty (once)."""
        fn = self.exceptions.functions.answerException
        return self.transact(fn(exception_id, evidence_hash))

    def resolve_exception(self, exception_id: int, evidence_hash: bytes = ZERO_HASH) -> Receipt:
        """Resolve exception ``exception_id``: as its opener (accepting the answer, or
        withdrawing the exception before one), or as a regulator: the first regulator's call
        asks for the closure (``ExceptionClosureRequested``), a second regulator's closes it."""
        fn = self.exceptions.functions.resolveException
        return self.transact(fn(exception_id, evidence_hash))

    def exception(self, exception_id: int) -> ExceptionRecord:
        """Return exception ``exception_id`` (status NONE when unknown)."""
        raw = self.exceptions.functions.exceptionRecord(exception_id).call()
        return ExceptionRecord.from_tuple(raw)

    # ------------------------------------------------------------ reads

    def verify(
        self, gtin: str, serial: str, lot: str | None = None, expiry: str | int | date | None = None
    ) -> Verification:
        """Verify a scanned pack: one status, with the pack's and lot's details."""
        result = self.registry.functions.verify(
            gtin, serial, lot or "", expiry_yymmdd(expiry) if expiry is not None else 0
        ).call()
        return Verification.from_tuple(result)

    def pack_state(self, gtin: str, serial: str) -> PackView:
        """Return a pack's state (status NONE when unknown)."""
        return self.pack_states([(gtin, serial)])[0]

    def pack_states(self, packs: Sequence[PackItem]) -> list[PackView]:
        """Return the states of packs, in order."""
        ids = self.pack_ids(packs)
        return [PackView.from_tuple(t) for t in self.registry.functions.packStates(ids).call()]

    def lot_state(self, gtin: str, lot: str) -> LotView:
        """Return a lot's state (status NONE when unknown)."""
        return self.lot_state_by_id(self.owners.lot_id(gtin, lot))

    def lot_state_by_id(self, lot: bytes) -> LotView:
        """Like :meth:`lot_state` for a lot known only by its on-chain id."""
        return LotView.from_tuple(self.registry.functions.lotState(lot).call())

    def unit_state(self, unit: UnitItem) -> UnitView:
        """Return a case's or pallet's state (status NONE when unknown)."""
        (unit_id,) = self.unit_ids([unit])
        return UnitView.from_tuple(self.registry.functions.unitState(unit_id).call())

    def product(self, gtin: str) -> dict[str, Any]:
        """Return a product's directory entry (owner and master data)."""
        owner, info = self.directory.functions.product(gtin).call()
        keys = ("name", "strength", "dosage_form", "ndc", "gateway_url")
        return {"owner": owner, **dict(zip(keys, info, strict=True))}

    # ------------------------------------------------------------ helpers

    def _batched_packs(
        self,
        ids: Sequence[bytes],
        send: Callable[[list[bytes]], ContractFunction],
        done: Callable[[PackView], bool],
        skip_done: bool,
        progress: ProgressCallback | None = None,
    ) -> list[Receipt]:
        """Batch packs by ledger id, each distinct: ``send`` builds a chunk's call, ``done``
        says a pack's state already shows the change."""
        _require_unique(ids, "pack ids")

        def chunk_done(chunk: list[bytes]) -> list[bool]:
            return [done(v) for v in self.pack_states(chunk)]

        return self._batched(ids, send, chunk_done, skip_done, progress)

    def _batched_items(
        self,
        packs: Sequence[bytes],
        units: Sequence[bytes],
        send: Callable[[list[bytes], list[bytes]], ContractFunction],
        done: Callable[[PackView | UnitView], bool],
        skip_done: bool,
    ) -> list[Receipt]:
        """Batch packs and units by ledger id, each distinct: ``send(pack ids, unit ids)``
        builds a chunk's call, ``done`` says an item's state already shows the change."""
        pack_ids, unit_ids = list(packs), list(units)
        _require_unique(pack_ids + unit_ids, "pack and unit ids")

        def chunk_done(chunk: list[bytes]) -> list[bool]:
            return [done(v) for v in self._item_states(chunk, unit_ids)]

        def chunk_send(chunk: list[bytes]) -> ContractFunction:
            return send(*self._split(chunk, unit_ids))

        return self._batched(pack_ids + unit_ids, chunk_send, chunk_done, skip_done)

    def _split(self, chunk: list[bytes], unit_ids: list[bytes]) -> tuple[list[bytes], list[bytes]]:
        units = set(unit_ids)
        return [i for i in chunk if i not in units], [i for i in chunk if i in units]

    def _item_states(self, chunk: list[bytes], unit_ids: list[bytes]) -> list[PackView | UnitView]:
        units = set(unit_ids)
        packs = iter(self.pack_states([i for i in chunk if i not in units]))
        return [self.unit_state(i) if i in units else next(packs) for i in chunk]

    # ------------------------------------------------------------ confirmation

    def confirm(self, receipts: Receipt | Sequence[Receipt], depth: int) -> list[Receipt]:
        """Wait until each write is ``depth`` blocks deep on the chain; return their receipts
        there. Raise :class:`~ledger_client.confirm.WriteUndoneError` for the first one a
        reorg undid: send it again (``skip_done`` resends only what did not land)."""
        items = [receipts] if isinstance(receipts, Receipt) else list(receipts)
        return [confirm(self.w3, r, depth) for r in items]
