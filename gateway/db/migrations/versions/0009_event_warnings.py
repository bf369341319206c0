"""event_warnings: the tolerated flaws of captured events, kept beside the capture job

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_warnings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("capture_id", sa.String(length=40), nullable=False),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["capture_jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_warnings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_warnings_capture_id"), ["capture_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_warnings_event_hash"), ["event_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("event_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_warnings_event_hash"))
        batch_op.drop_index(batch_op.f("ix_event_warnings_capture_id"))
    op.drop_table("event_warnings")
