"""The indexer: crash and resume, duplicate delivery, confirmation depth (real chain, real
SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gateway_helpers import GTIN, LOT, World
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from gateway.db import models as m
from gateway.indexer import Indexer
from gateway.services.chain import Chain
from ledger_client.chain import connect
from ledger_client.devnet import deploy_devnet
from ledger_client.events import PacksCommissioned, decode
from ledger_client.ids import lot_tag, pack_id, split_lot_tags
from ledger_client.logs import raw_logs
from tests.utils.index_state import fresh_engine, index_state


class Crash(RuntimeError):
    pass


def test_crash_mid_step_rolls_back_and_restart_resumes_without_gaps_or_duplicates(
    world: World, tmp_path: Path
) -> None:
    chain = Chain(world.w3, world.net.deployment)
    start = world.net.deployment.block
    reference = fresh_engine(tmp_path / "reference.db")
    Indexer(chain, reference, 0, chunk_blocks=4, start_block=start).catch_up()

    engine = fresh_engine(tmp_path / "crashy.db")
    steps = {"n": 0}

    def crash_on_third_step(_conn: object, _applied: object) -> None:
        steps["n"] += 1
        if steps["n"] == 3:
            raise Crash("power cut")

    crashy = Indexer(
        chain, engine, 0, chunk_blocks=4, start_block=start, hooks=[crash_on_third_step]
    )
    crashy.step()
    crashy.step()
    before = crashy.cursor()
    with pytest.raises(Crash):
        crashy.step()
    assert crashy.cursor() == before, "a failed step must not move the cursor"
    restarted = Indexer(chain, engine, 0, chunk_blocks=4, start_block=start)
    assert restarted.catch_up() == world.w3.eth.block_number
    assert index_state(engine) == index_state(reference)
    logs = world.w3.eth.get_logs(
        {"fromBlock": start, "toBlock": "latest", "address": chain.contract_addresses}
    )
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(m.ChainEvent)).scalar_one()
    assert stored == len(decode(raw_logs(world.w3, logs)))


def test_duplicate_delivery_changes_nothing(world: World, tmp_path: Path) -> None:
    chain = Chain(world.w3, world.net.deployment)
    engine = fresh_engine(tmp_path / "dup.db")
    indexer = Indexer(chain, engine, 0, chunk_blocks=1000, start_block=world.net.deployment.block)
    head = indexer.catch_up()
    before = index_state(engine)
    logs = world.w3.eth.get_logs(
        {"fromBlock": 0, "toBlock": head, "address": chain.contract_addresses}
    )
    events = decode(raw_logs(world.w3, logs))
    # the node delivers the whole range again, e.g. after a cursor was restored from a backup
    with engine.begin() as conn:
        conn.execute(
            m.IndexerCursor.__table__.update().values(last_block=world.net.deployment.block - 1)
        )
    assert indexer.apply(events, world.net.deployment.block, head, head) == 0
    assert index_state(engine) == before
    assert indexer.cursor() == head


def test_confirmation_depth_holds_back_recent_blocks(tmp_path: Path) -> None:
    w3 = connect("eth-tester")
    net = deploy_devnet(w3)
    chain = Chain(w3, net.deployment)
    engine = fresh_engine(tmp_path / "depth.db")
    indexer = Indexer(chain, engine, confirmation_depth=3, start_block=net.deployment.block)
    net["manufacturer"].register_lot(GTIN, "D1", "301231")
    lot_block = w3.eth.block_number
    indexer.catch_up()
    assert indexer.cursor() == lot_block - 3
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Lot)).scalar_one() == 0
    w3.provider.ethereum_tester.mine_blocks(2)  # type: ignore[attr-defined]
    indexer.catch_up()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Lot)).scalar_one() == 0
    w3.provider.ethereum_tester.mine_blocks(1)  # type: ignore[attr-defined]
    assert indexer.catch_up() == lot_block
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Lot)).scalar_one() == 1


@pytest.mark.parametrize(
    ("error", "lost_race"),
    [
        (IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")), True),
        (OperationalError("INSERT", {}, Exception("disk I/O error")), False),
    ],
)
def test_only_a_unique_key_conflict_is_taken_for_a_lost_race(
    world: World, tmp_path: Path, error: Exception, lost_race: bool
) -> None:
    def fail(_conn: object, _applied: object) -> None:
        raise error

    chain = Chain(world.w3, world.net.deployment)
    engine = fresh_engine(tmp_path / "race.db")
    indexer = Indexer(chain, engine, 0, start_block=world.net.deployment.block, hooks=[fail])
    before = indexer.cursor()
    if lost_race:
        indexer.step()  # logged as lost; the next step starts again from the cursor
    else:
        with pytest.raises(OperationalError):
            indexer.step()
    assert indexer.cursor() == before


def test_each_pack_is_indexed_with_the_lot_tag_its_commissioning_carried(
    world: World, tmp_path: Path
) -> None:
    chain = Chain(world.w3, world.net.deployment)
    engine = fresh_engine(tmp_path / "tags.db")
    head = Indexer(chain, engine, 0, start_block=world.net.deployment.block).catch_up()
    with engine.connect() as conn:
        indexed = {
            bytes(p): bytes(t) for p, t in conn.execute(select(m.Pack.pack_id, m.Pack.lot_tag))
        }
    owner = world.net["auditor"].owners.index(GTIN)
    assert indexed[pack_id(GTIN, "S1", owner=owner)] == lot_tag(GTIN, "S1", LOT)
    logs = world.w3.eth.get_logs(
        {
            "fromBlock": world.net.deployment.block,
            "toBlock": head,
            "address": chain.contract_addresses,
        }
    )
    carried = {
        pid: tag
        for e in decode(raw_logs(world.w3, logs))
        if isinstance(e, PacksCommissioned)
        for pid, tag in zip(e.pack_ids, split_lot_tags(e.lot_tags), strict=True)
    }
    assert indexed == carried
