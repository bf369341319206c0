"""Events built by hand, for models replayed from crafted histories, and one such history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger_client.audit.model import RegistryModel
from ledger_client.events import EVENT_TYPES, ChainEvent, RegistryEvent
from ledger_client.events.schema import PacksCommissioned, field_name
from ledger_client.ids import LOT_TAG_BYTES, lot_id, pack_id

CLASSES = {cls.name: cls for classes in EVENT_TYPES.values() for cls in classes}


def crafted(name: str, ts: int, n: int, tx: int | None = None, **args: object) -> ChainEvent:
    """Event ``name`` with ``args`` under their ABI names, in block ``n`` at time ``ts``, in
    transaction ``tx`` (default: one of its own, numbered ``n``). A commissioning given no
    ``lotTags`` carries a zero tag per pack."""
    cls = CLASSES[name]
    fields = {field_name(k): tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    if issubclass(cls, RegistryEvent):
        fields.setdefault("event_hash", bytes(32))
    if cls is PacksCommissioned:
        fields.setdefault("lot_tags", bytes(LOT_TAG_BYTES * len(args["packIds"])))  # type: ignore[arg-type]
    tx_hash = (n if tx is None else tx).to_bytes(32, "big")
    return cls(block_number=n, timestamp=ts, tx_hash=tx_hash, log_index=0, **fields)


#: The members of :func:`regular_history` (indices 1, 2, 3): its records are all A's.
A, B, C = ("0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40)
A_INDEX = 1
#: GTIN of :func:`regular_history`'s lot "L", under A's records.
GTIN_L = "00614141000012"
DAY = 86_400
#: Midnight UTC of the first day of the crafted histories.
BASE = 1_700_000_000 - 1_700_000_000 % DAY


class History:
    """A crafted history fed to a model in time order: members, a lot per owner, packs
    commissioned, shipped and received one by one."""

    def __init__(self) -> None:
        self.model = RegistryModel()
        self.n = 0
        self.lots: dict[str, bytes] = {}
        self._pending: list[tuple[int, str, dict[str, Any]]] = []
        self._serial = 0
        self._index: dict[str, int] = {}

    def add(self, name: str, ts: int, **args: object) -> None:
        """Queue event ``name`` at time ``ts`` (:meth:`done` applies them in time order)."""
        self._pending.append((ts, name, args))

    def member(self, account: str, index: int, roles: int) -> None:
        """Member ``account`` (index ``index``) with ``roles``, and a lot of its own."""
        fields = {"account": account, "index": index, "gln": index, "roles": roles}
        self.add("MemberAdded", BASE, **fields, licenceExpiry=2**40)
        lid = lot_id(GTIN_L, f"L{index}", owner=index)
        self.lots[account], self._index[account] = lid, index
        self.add("LotRegistered", BASE + 14 * 3600, lotId=lid, owner=account, expiry=301231)

    def pack(self, owner: str, ts: int) -> bytes:
        """A new pack of ``owner``'s lot, commissioned at ``ts``."""
        self._serial += 1
        pid = pack_id(GTIN_L, f"S{self._serial}", owner=self._index[owner])
        lid = self.lots[owner]
        self.add("PacksCommissioned", ts, lotId=lid, by=owner, unitId=bytes(32), packIds=[pid])
        return pid

    def ship(self, sender: str, to: str, pid: bytes, ts: int, received: int | None) -> None:
        """Ship ``pid`` at ``ts``; received at ``received`` (None: never)."""
        self.add("ItemsShipped", ts, **{"from": sender}, to=to, packIds=[pid], unitIds=[])
        if received is not None:
            self.add("ItemsReceived", received, by=to, packIds=[pid], unitIds=[])

    def done(self) -> RegistryModel:
        """Apply the queued events in time order; return the model."""
        for k, (ts, name, args) in enumerate(sorted(self._pending, key=lambda r: r[0])):
            self.model.apply(crafted(name, ts, self.n + k + 1, **args))
        self.n += len(self._pending)
        self._pending = []
        return self.model


def regular_history(
    extra: Sequence[tuple[str, int, dict[str, Any]]] = (),
    roles: tuple[int, int, int] = (0x1F, 0x1F, 0x1F),
) -> RegistryModel:
    """Three members (with ``roles``); 30 days of A->B shipments received ~1 day later,
    9:00-17:00 UTC; then the ``extra`` events (name, time, ABI arguments)."""
    m = RegistryModel()
    n = 0

    def add(name: str, ts: int, **args: object) -> None:
        nonlocal n
        n += 1
        m.apply(crafted(name, ts, n, **args))

    base = BASE
    for i, (acc, r) in enumerate(zip((A, B, C), roles, strict=True), 1):
        add("MemberAdded", base, account=acc, index=i, gln=i, roles=r, licenceExpiry=2**40)
    lid_ = lot_id(GTIN_L, "L", owner=A_INDEX)
    add("LotRegistered", base + 9 * 3600, lotId=lid_, owner=A, expiry=301231)
    k = 0
    for day in range(30):
        for j in range(10):
            ts = base + day * DAY + 9 * 3600 + j * 1800
            ids = [pack_id(GTIN_L, f"S{k}", owner=A_INDEX)]
            k += 1
            add("PacksCommissioned", ts, lotId=lid_, by=A, unitId=bytes(32), packIds=ids)
            add("ItemsShipped", ts + 60, **{"from": A}, to=B, packIds=ids, unitIds=[])
            add("ItemsReceived", ts + DAY + (j % 3) * 600, by=B, packIds=ids, unitIds=[])
    for name, ts, args in extra:
        add(name, ts, **args)
    return m
