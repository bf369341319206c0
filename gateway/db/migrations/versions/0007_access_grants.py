"""access_grants: grants of read access to a lot's events, from the AccessGrants contract

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_grants",
        sa.Column("lot_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("grantee", sa.String(length=42), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("granted_by", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint("lot_id", "grantee"),
    )
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_grants_grantee"), ["grantee"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_grants_grantee"))
    op.drop_table("access_grants")
