"""A gateway index's contents, for comparing an index with a fresh one of the same chain; an
index at an older revision, for testing an upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, select

from gateway.db import models as m
from gateway.db.session import alembic_config, make_engine, migrate
from gateway.reorg import STATE_TABLES


def fresh_engine(path: Path) -> Engine:
    """A new, migrated SQLite index at ``path``."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


@contextmanager
def index_at_revision(path: Path, revision: str) -> Iterator[tuple[Engine, Connection]]:
    """A SQLite index at ``path`` migrated only to ``revision``, and a connection in a
    transaction on it, to write what a gateway of that revision wrote (then ``migrate``)."""
    engine = make_engine(f"sqlite:///{path}")
    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        yield engine, conn


def index_state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The index's state tables and its events' positions and names, sorted."""
    with engine.connect() as conn:
        state = {
            t.__tablename__: sorted(tuple(r) for r in conn.execute(select(t.__table__)))
            for t in STATE_TABLES
        }
        state["events"] = sorted(
            (bytes(r[0]), r[1], r[2])
            for r in conn.execute(
                select(m.ChainEvent.tx_hash, m.ChainEvent.log_index, m.ChainEvent.name)
            )
        )
    return state
