"""exceptions: exceptions between trading partners, from the ExceptionRegistry contract

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INDEXED = ("opener", "counterparty", "status")


def upgrade() -> None:
    op.create_table(
        "exceptions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("opener", sa.String(length=42), nullable=False),
        sa.Column("counterparty", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("resolved_by", sa.Integer(), nullable=False),
        sa.Column("items_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("evidence_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("answer_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("resolution_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("answered_at", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        for column in _INDEXED:
            batch_op.create_index(batch_op.f(f"ix_exceptions_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        for column in _INDEXED:
            batch_op.drop_index(batch_op.f(f"ix_exceptions_{column}"))
    op.drop_table("exceptions")
