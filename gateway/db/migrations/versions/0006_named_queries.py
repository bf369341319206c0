"""named_queries: EPCIS named queries of the query interface

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "named_queries",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("named_queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_named_queries_owner"), ["owner"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("named_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_named_queries_owner"))
    op.drop_table("named_queries")
