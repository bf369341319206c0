"""An observer holding every log of the chain and nothing else, and the attacks docs/privacy.md
describes: reversing product, lot and pack ids by brute force over public data, counting
volumes and flows, and looking for clear codes in what the chain stores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from web3 import Web3

from ledger_client.contracts import Deployment
from ledger_client.events import (
    ItemsShipped,
    LotRegistered,
    MemberAdded,
    PacksCommissioned,
    ProductRegistered,
    decode,
)
from ledger_client.ids import lot_hash, pack_hash, record_id
from ledger_client.logs import fetch_logs


@dataclass(frozen=True)
class ChainView:
    """What every member node (and anyone it leaks to) holds: the decoded logs, and the raw
    bytes of every log and transaction input of the deployment's contracts."""

    events: list[object]
    raw: list[bytes]

    @classmethod
    def read(cls, w3: Web3, deployment: Deployment) -> ChainView:
        logs = fetch_logs(w3, deployment)
        raw = [log.data + b"".join(log.topics) for log in logs]
        for tx_hash in {log.tx_hash for log in logs}:
            raw.append(bytes(w3.eth.get_transaction(tx_hash)["input"]))
        return cls(list(decode(logs)), raw)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def member_index(self) -> dict[str, int]:
        return {e.account: e.index for e in self.of(MemberAdded)}

    def public_gtins(self) -> dict[str, str]:
        """GTIN → owner account, as the product directory lists them."""
        return {e.gtin14: e.owner for e in self.of(ProductRegistered)}


def reverse_lots(view: ChainView, guesses: Iterable[str]) -> dict[bytes, tuple[str, str]]:
    """Lot id → (GTIN, lot number) for every registered lot whose number is among
    ``guesses``, trying each guess under every GTIN of the directory."""
    index = view.member_index()
    wanted = {e.lot_id for e in view.of(LotRegistered)}
    found: dict[bytes, tuple[str, str]] = {}
    candidates = list(guesses)
    for gtin, owner in view.public_gtins().items():
        for lot in candidates:
            lid = record_id(index[owner], lot_hash(gtin, lot))
            if lid in wanted:
                found[lid] = (gtin, lot)
    return found


def reverse_packs(view: ChainView, guesses: Iterable[str]) -> dict[bytes, tuple[str, str]]:
    """Pack id → (GTIN, serial) for every commissioned pack whose serial is among
    ``guesses``, trying each guess under every GTIN of the directory."""
    index = view.member_index()
    wanted = {pid for e in view.of(PacksCommissioned) for pid in e.pack_ids}
    found: dict[bytes, tuple[str, str]] = {}
    candidates = list(guesses)
    for gtin, owner in view.public_gtins().items():
        for serial in candidates:
            pid = record_id(index[owner], pack_hash(gtin, serial))
            if pid in wanted:
                found[pid] = (gtin, serial)
    return found


def lot_volumes(view: ChainView) -> Counter[bytes]:
    """Packs commissioned per lot id."""
    out: Counter[bytes] = Counter()
    for e in view.of(PacksCommissioned):
        out[e.lot_id] += len(e.pack_ids)
    return out


def flows(view: ChainView) -> Counter[tuple[str, str]]:
    """Packs shipped per (sender, recipient) account pair."""
    out: Counter[tuple[str, str]] = Counter()
    for e in view.of(ItemsShipped):
        out[(e.from_, e.to)] += len(e.pack_ids) + len(e.unit_ids)
    return out


def clear_codes_on_chain(view: ChainView, codes: Sequence[str]) -> list[str]:
    """The ``codes`` whose ASCII text appears in any log or transaction input."""
    return [c for c in codes if any(c.encode("ascii") in blob for blob in view.raw)]
