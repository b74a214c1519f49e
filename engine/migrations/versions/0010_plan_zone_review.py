"""A plan whose date line names a place with no known time zone keeps that place until its zone is chosen:
the plan is in review (``planwatch review``, the plan page) instead of silently in UTC.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan") as batch:
        batch.add_column(sa.Column("zone_review", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("zone_review")
