"""dock: receiving sessions at the operator's dock, their scans and their writes on chain

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.LargeBinary(length=32)
_ADDRESS = sa.String(length=42)


def upgrade() -> None:
    op.create_table(
        "dock_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operator", _ADDRESS, nullable=False),
        sa.Column("sender", _ADDRESS, nullable=False),
        sa.Column("shipment_tx", _ID, nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dock_sessions_status", "dock_sessions", ["status"])
    op.create_table(
        "dock_scans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("clear", sa.String(length=64), nullable=False),
        sa.Column("within", _ID, nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("last_holder", _ADDRESS, nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["dock_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "item_id", name="uq_dock_scan_item"),
    )
    op.create_index("ix_dock_scans_session_id", "dock_scans", ["session_id"])
    op.create_index("ix_dock_scans_item_id", "dock_scans", ["item_id"])
    op.create_table(
        "dock_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("counterparty", _ADDRESS, nullable=False),
        sa.Column("items_hash", _ID, nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("tx_hashes", sa.JSON(), nullable=False),
        sa.Column("exception_id", sa.BigInteger(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("evidence_hash", _ID, nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["dock_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "session_id", "kind", "counterparty", "items_hash", name="uq_dock_action"
        ),
    )
    op.create_index("ix_dock_actions_session_id", "dock_actions", ["session_id"])


def downgrade() -> None:
    op.drop_table("dock_actions")
    op.drop_table("dock_scans")
    op.drop_table("dock_sessions")
