"""Revision 0014 (lot tags) on an index written before it: its packs get a zero tag."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from gateway.db import models as m
from gateway.db.session import migrate
from tests.utils.index_state import index_at_revision


def test_packs_indexed_before_lot_tags_get_a_zero_tag(tmp_path: Path) -> None:
    with index_at_revision(tmp_path / "old.db", "0013") as (engine, conn):
        conn.execute(
            text(
                "INSERT INTO packs (pack_id, lot_id, status, reason, flags, flag_reason, "
                "decommissioned_at) VALUES (:pack, :lot, 1, 0, 0, 0, 0)"
            ),
            {"pack": b"\x01" * 32, "lot": b"\x02" * 32},
        )
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(select(m.Pack.pack_id, m.Pack.lot_tag)).all() == [
            (b"\x01" * 32, bytes(3))
        ]
