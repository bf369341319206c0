"""alerts.restricted and alert_audience: who may read an alert with clear pack codes

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # alerts written before this revision named a pack's codes to every member: restrict them
    # (regulators and auditors still read them; they have no audience to add)
    alerts = sa.table("alerts", sa.column("kind", sa.String), sa.column("restricted", sa.Boolean))
    op.execute(
        alerts.update()
        .where(alerts.c.kind.in_(["dispensed_pack_verified", "verified_at_two_places"]))
        .values(restricted=True)
    )
    op.create_table(
        "alert_audience",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_audience_address", "alert_audience", ["address", "alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_audience_address", table_name="alert_audience")
    op.drop_table("alert_audience")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("restricted")
