"""Owners' unit: the name of the unit their actions are counted under in the implementation report.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("owner") as batch:
        batch.add_column(sa.Column("unit", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("owner") as batch:
        batch.drop_column("unit")
