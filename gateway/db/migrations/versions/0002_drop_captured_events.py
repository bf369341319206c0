"""drop captured_events: the EPCIS executor's anchor index says what is already on chain

Revision ID: 0002
Revises: 0001
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("captured_events")


def downgrade() -> None:
    """Recreate the table exactly as revision 0001 created it (its own, frozen definition)."""
    path = Path(__file__).with_name("0001_initial_schema.py")
    spec = importlib.util.spec_from_file_location("rxledger_revision_0001", path)
    assert spec is not None and spec.loader is not None
    initial = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(initial)
    initial.create_captured_events()
