"""drop captured_events: the EPCIS executor's anchor index says what is already on chain

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("captured_events")


def downgrade() -> None:
    op.create_table(
        "captured_events",
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("tx_hashes", sa.JSON(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("event_hash"),
    )
