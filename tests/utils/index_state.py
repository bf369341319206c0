"""A gateway index's contents, for comparing an index with a fresh one of the same chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from gateway.db import models as m
from gateway.db.session import make_engine, migrate
from gateway.reorg import STATE_TABLES


def fresh_engine(path: Path) -> Engine:
    """A new, migrated SQLite index at ``path``."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


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
