"""lot tags: each pack keeps the 3-byte lot tag it was commissioned with, checked at verification

Revision ID: 0014
Revises: 0013

Packs indexed before this revision get a zero tag: their events carried none, as registries
deployed before lot tags emit none. Such an index belongs to an older deployment; a gateway of a
registry with lot tags indexes its packs' tags from the first block.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TAG = sa.LargeBinary(length=3)


def upgrade() -> None:
    with op.batch_alter_table("packs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lot_tag", _TAG, nullable=True))
    op.execute(sa.text("UPDATE packs SET lot_tag = :zero").bindparams(zero=bytes(3)))
    with op.batch_alter_table("packs", schema=None) as batch_op:
        batch_op.alter_column("lot_tag", existing_type=_TAG, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("packs", schema=None) as batch_op:
        batch_op.drop_column("lot_tag")
