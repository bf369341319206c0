"""verification scans: the lot and expiry a verified code printed, for the live anomaly rules

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lot", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("expiry", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_column("expiry")
        batch_op.drop_column("lot")
