"""received_ti: DSCSA transaction information fetched from sellers' gateways on receipt

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_ti",
        sa.Column("shipment_tx", sa.LargeBinary(length=32), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("shipped_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("fetched_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("shipment_tx"),
    )
    with op.batch_alter_table("received_ti", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_ti_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("received_ti", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_ti_status"))
    op.drop_table("received_ti")
