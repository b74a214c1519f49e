"""Owners away: a period (first and last day, in the owner's zone) and the deputy who receives meanwhile.

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
    with op.batch_alter_table("owner") as batch:
        batch.add_column(sa.Column("away_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("away_to", sa.Date(), nullable=True))
        batch.add_column(sa.Column("deputy_id", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("owner") as batch:
        batch.drop_column("deputy_id")
        batch.drop_column("away_to")
        batch.drop_column("away_from")
