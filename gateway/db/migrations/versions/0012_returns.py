"""returns: returned packs the operator quarantined instead of receiving them back

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returns_quarantine",
        sa.Column("pack_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=True),
        sa.Column("first_at", sa.Float(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pack_id"),
    )
    with op.batch_alter_table("returns_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_returns_quarantine_last_at"), ["last_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("returns_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_quarantine_last_at"))
    op.drop_table("returns_quarantine")
