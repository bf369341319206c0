"""Forks undone on a real anvil node: the blocks the index applied are reverted and other
blocks mined at their heights. The index rolls back to the fork point and equals a fresh
index of the final chain, the alert an orphaned block raised is withdrawn (listed so, a
notice to the webhook that got it, a withdrawal event on the alert stream that sent it), and
the client is told its write is not done."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_helpers import CONSOLE, WebhookReceiver, World, running_gateway
from sqlalchemy import Connection, func, select
from web3 import Web3

from gateway.db import models as m
from gateway.indexer import Indexer
from gateway.services.alerts import list_alerts, on_indexed, withdraw_orphaned
from gateway.services.chain import Chain
from gateway.services.subscriptions import add_subscription
from gateway.services.webhooks import WebhookDispatcher
from ledger_client.chain import connect
from ledger_client.confirm import WriteUndoneError, confirm
from ledger_client.dev.anvil import Anvil
from ledger_client.devnet import DevNetwork, deploy_devnet
from ledger_client.types import LotStatus, PackFlag, Receipt
from tests.utils.anvil import rpc
from tests.utils.index_state import fresh_engine, index_state
from tests.utils.ports import free_port

pytestmark = pytest.mark.anvil
GTIN, LOT, EXPIRY = "09506000134352", "FORK1", "301231"
SERIALS = [f"F{i}" for i in range(6)]


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Web3, DevNetwork]]:
    """A demo network on anvil; wholesaler_a holds packs of lot ``LOT``."""
    with Anvil(port=free_port()) as node:
        w3 = connect(node.url)
        rpc(w3, "anvil_setBalance", w3.eth.accounts[0], hex(10**24))
        net = deploy_devnet(w3)
        m_, wa = net["manufacturer"], net["wholesaler_a"]
        m_.register_lot(GTIN, LOT, EXPIRY)
        m_.commission(GTIN, LOT, SERIALS)
        packs = [(GTIN, s) for s in SERIALS[:4]]
        m_.ship(wa.address, packs=packs)
        wa.receive(packs=packs)
        yield w3, net


@pytest.fixture
def chain(deployed: tuple[Web3, DevNetwork]) -> Iterator[tuple[Web3, DevNetwork]]:
    w3 = deployed[0]
    snap = rpc(w3, "evm_snapshot")
    yield deployed
    assert rpc(w3, "evm_revert", snap)


def _indexer(w3: Web3, net: DevNetwork, db: Path, **kw: Any) -> Indexer:
    kw.setdefault("rollback_hooks", [withdraw_orphaned])
    return Indexer(
        Chain(w3, net.deployment),
        fresh_engine(db),
        0,  # depth 0: it indexes the blocks that the reorg then orphans
        chunk_blocks=3,
        start_block=net.deployment.block,
        hooks=[on_indexed],
        **kw,
    )


def _losing_side(net: DevNetwork) -> Any:
    """What the orphaned blocks hold: a recall (it alerts wholesaler_a), a shipment."""
    m_ = net["manufacturer"]
    recall = m_.set_lot_status(GTIN, LOT, LotStatus.RECALLED)
    m_.ship(net["pharmacy_a"].address, packs=[(GTIN, SERIALS[4])])
    return recall


def _winning_side(w3: Web3, net: DevNetwork) -> None:
    """Other blocks at the same heights, and more: a longer chain."""
    net["manufacturer"].ship(net["wholesaler_b"].address, packs=[(GTIN, SERIALS[5])])
    rpc(w3, "anvil_mine", hex(4))


def test_a_reorg_rolls_the_index_back_and_it_equals_a_fresh_index_of_the_final_chain(
    chain: tuple[Web3, DevNetwork], tmp_path: Path
) -> None:
    w3, net = chain
    indexer = _indexer(w3, net, tmp_path / "follower.db")
    indexer.catch_up()
    fork = rpc(w3, "evm_snapshot")
    fork_block = w3.eth.block_number
    recall = _losing_side(net)
    indexer.catch_up()
    holders = list_alerts(indexer.engine, net["wholesaler_a"].address, False, 1)
    assert [a.kind.value for a in holders] == ["lot_recalled"]
    receiver = WebhookReceiver()
    add_subscription(indexer.engine, receiver.url, [], net["wholesaler_a"].address, False)
    dispatcher = WebhookDispatcher(indexer.engine, 5, 1, allow_loopback=True)
    # an alert raised now, delivered, then orphaned
    net["regulator"].flag([(GTIN, SERIALS[0])], PackFlag.SUSPECT)
    indexer.catch_up()
    with httpx.Client(trust_env=False) as client:
        assert dispatcher.deliver(client) == 1
        assert rpc(w3, "evm_revert", fork)
        _winning_side(w3, net)
        assert indexer.catch_up() == w3.eth.block_number
        assert dispatcher.deliver(client) == 1  # the withdrawal notice

    reference = _indexer(w3, net, tmp_path / "fresh.db")
    reference.catch_up()
    assert index_state(indexer.engine) == index_state(reference.engine)
    alerts = list_alerts(indexer.engine, net["wholesaler_a"].address, False, 1)
    assert {a.kind.value for a in alerts} == {"lot_recalled", "pack_suspect"}
    assert all(a.withdrawn_at and f"back to block {fork_block}" in (a.withdrawn_reason or "")
               for a in alerts)  # fmt: skip
    sent, notice = receiver.received
    assert sent["kind"] == notice["kind"] == "pack_suspect"
    assert sent["withdrawn_at"] is None and notice["withdrawn_at"] is not None
    with pytest.raises(WriteUndoneError, match="left the chain"):
        confirm(w3, recall, 0, timeout=5)


def test_the_same_event_on_the_final_chain_raises_its_alert_again(
    chain: tuple[Web3, DevNetwork], tmp_path: Path
) -> None:
    w3, net = chain
    indexer = _indexer(w3, net, tmp_path / "again.db")
    fork = rpc(w3, "evm_snapshot")
    _losing_side(net)
    indexer.catch_up()
    assert rpc(w3, "evm_revert", fork)
    _winning_side(w3, net)
    net["manufacturer"].set_lot_status(GTIN, LOT, LotStatus.RECALLED)  # sent again, lands
    indexer.catch_up()
    alerts = list_alerts(indexer.engine, net["wholesaler_a"].address, False, 1)
    assert sorted((a.kind.value, a.withdrawn_at is None) for a in alerts) == [
        ("lot_recalled", False),
        ("lot_recalled", True),
    ]


def _sse(lines: Iterable[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The server-sent events of a stream's lines: id, event name, data."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line and "data" in fields:
            yield fields["id"], fields["event"], json.loads(fields["data"])
        if not line:
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value


def test_the_alert_stream_sends_the_withdrawal_of_an_alert_it_sent_also_on_resuming(
    chain: tuple[Web3, DevNetwork], tmp_path: Path
) -> None:
    w3, net = chain
    net.deployment.save(tmp_path / "deployment.json")
    fork = rpc(w3, "evm_snapshot")
    stream_args: dict[str, Any] = {"params": {"timeout": 30}, "headers": CONSOLE}
    with running_gateway(World(w3, net, tmp_path / "deployment.json"), tmp_path / "gw.db") as gw:
        with gw.client.stream("GET", "/v1/alerts/stream", **stream_args) as stream:
            events = _sse(stream.iter_lines())
            net["regulator"].flag([(GTIN, SERIALS[0])], PackFlag.SUSPECT)
            position, kind, raised = next(events)
            assert (kind, raised["kind"], raised["withdrawn_at"]) == ("alert", "pack_suspect", None)
            assert rpc(w3, "evm_revert", fork)
            _winning_side(w3, net)
            _, kind, withdrawn = next(events)
        assert (kind, withdrawn["id"]) == ("withdrawal", raised["id"])
        assert withdrawn["withdrawn_at"] and "left the chain" in withdrawn["withdrawn_reason"]
        # a client whose connection dropped after the alert is sent the withdrawal on resuming
        stream_args["headers"] = {**CONSOLE, "Last-Event-ID": position}
        with gw.client.stream("GET", "/v1/alerts/stream", **stream_args) as stream:
            _, kind, again = next(_sse(stream.iter_lines()))
        assert (kind, again["id"], again["withdrawn_at"]) == (
            "withdrawal",
            raised["id"],
            withdrawn["withdrawn_at"],
        )


class Crash(RuntimeError):
    pass


def test_a_crash_mid_rollback_leaves_the_index_as_it_was_and_the_next_run_rolls_back(
    chain: tuple[Web3, DevNetwork], tmp_path: Path
) -> None:
    w3, net = chain
    db = tmp_path / "crash.db"
    fork = rpc(w3, "evm_snapshot")
    _losing_side(net)
    first = _indexer(w3, net, db)
    first.catch_up()
    before, cursor = index_state(first.engine), first.cursor()
    assert rpc(w3, "evm_revert", fork)
    _winning_side(w3, net)

    def power_cut(_conn: Connection, _fork: int) -> None:
        raise Crash("power cut mid-rollback")

    crashy = _indexer(w3, net, db, rollback_hooks=[withdraw_orphaned, power_cut])
    with pytest.raises(Crash):
        crashy.step()
    assert index_state(crashy.engine) == before and crashy.cursor() == cursor
    with crashy.engine.connect() as conn:
        assert conn.execute(
            select(func.count()).where(m.Alert.withdrawn_at.is_not(None))
        ).scalar_one() == 0  # fmt: skip
    restarted = _indexer(w3, net, db)
    restarted.catch_up()
    reference = _indexer(w3, net, tmp_path / "fresh.db")
    reference.catch_up()
    assert index_state(restarted.engine) == index_state(reference.engine)


def test_confirm_follows_a_write_a_reorg_moved_to_another_block(
    chain: tuple[Web3, DevNetwork],
) -> None:
    w3, net = chain
    m_ = net["manufacturer"]
    fn = m_.registry.functions.setLotStatus(
        m_.owners.lot_id(GTIN, LOT), int(LotStatus.QUARANTINED), b"\0" * 32
    )
    tx = fn.build_transaction(
        {"from": m_.address, "nonce": w3.eth.get_transaction_count(m_.address), "gas": 200_000}
    )
    raw = m_.account.sign_transaction(dict(tx)).raw_transaction  # type: ignore[union-attr, arg-type]
    fork = rpc(w3, "evm_snapshot")
    tx_hash = w3.eth.send_raw_transaction(raw)
    first = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert rpc(w3, "evm_revert", fork)
    rpc(w3, "anvil_mine", hex(3))
    w3.eth.send_raw_transaction(raw)  # a node re-injects an orphaned block's transactions
    acknowledged = Receipt(bytes(tx_hash), first["blockNumber"], first["gasUsed"], ())
    rpc(w3, "anvil_mine", hex(2))
    final = confirm(w3, acknowledged, 2, timeout=5)
    assert final.block_number == first["blockNumber"] + 3
    assert [e.name for e in final.events] == ["LotStatusChanged"]
    with pytest.raises(WriteUndoneError, match="not 5 block"):
        confirm(w3, acknowledged, 5, timeout=0)
