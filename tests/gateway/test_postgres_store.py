"""The gateway's store on a real PostgreSQL server (Debian's, ``make postgres``): migrations up
and down, and the same index as on SQLite, read back by verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from gateway_helpers import CONSOLE, World, dm, running_gateway
from sqlalchemy import inspect

from gateway.db.models import Base
from gateway.db.session import alembic_config, is_migrated, make_engine, migrate
from gateway.indexer import Indexer
from gateway.services.chain import Chain
from ledger_client.dev.postgres import PostgresCluster, postgres_bindir
from ledger_client.errors import ConfigurationError
from tests.utils.index_state import fresh_engine, index_state

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    """A throwaway cluster; the tests skip only where the server is not installed."""
    try:
        postgres_bindir()
    except ConfigurationError as exc:
        pytest.skip(str(exc))
    with PostgresCluster() as cluster:
        yield cluster


def test_migrations_run_up_to_the_models_and_down_to_nothing(cluster: PostgresCluster) -> None:
    url = cluster.create_database("migrations")
    engine = make_engine(url)
    migrate(engine)
    assert is_migrated(engine)
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
    command.downgrade(alembic_config(url), "base")
    inspect(engine).clear_cache()
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate(engine)
    assert is_migrated(engine)
    engine.dispose()


def test_the_index_on_postgresql_equals_sqlites_and_answers_verifications(
    cluster: PostgresCluster, world: World, tmp_path: Path
) -> None:
    chain = Chain(world.w3, world.net.deployment)
    start = world.net.deployment.block
    on_pg = make_engine(cluster.create_database("index"))
    migrate(on_pg)
    on_sqlite = fresh_engine(tmp_path / "index.db")
    for engine in (on_pg, on_sqlite):
        Indexer(chain, engine, 0, chunk_blocks=7, start_block=start).catch_up()
    assert index_state(on_pg) == index_state(on_sqlite)
    on_pg.dispose()

    url = cluster.create_database("gateway")
    store = tmp_path / "epcis.sqlite"
    with running_gateway(world, tmp_path / "unused.db", database_url=url, epcis_store=store) as gw:
        statuses = {
            serial: gw.client.get(
                "/v1/verify", params={"code": dm(serial)}, headers=CONSOLE
            ).json()["status"]
            for serial in ("S13", "S20", "NOPE")
        }
    assert statuses == {"S13": "VERIFIED", "S20": "IN_TRANSIT", "NOPE": "UNKNOWN"}
