"""Owners' country (ISO 3166 alpha-2): the holidays they keep when the rules name that country's.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("owner") as batch:
        batch.add_column(sa.Column("country", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("owner") as batch:
        batch.drop_column("country")
