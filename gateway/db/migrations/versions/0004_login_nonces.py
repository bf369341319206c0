"""login_nonces: single-use nonces of Sign-In with Ethereum challenges

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    with op.batch_alter_table("login_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_nonces_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_nonces_expires_at"))
    op.drop_table("login_nonces")
