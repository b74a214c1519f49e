"""Calendar feeds: subscriber tokens (stored as hashes) and the registry of published events.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(), nullable=False, unique=True),
        sa.Column("subscriber", sa.String(), nullable=False),
        sa.Column("feed", sa.String(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
    )
    op.create_index("ix_feed_token_subscriber", "feed_token", ["subscriber"])
    op.create_table(
        "feed_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("plan_id", sa.String(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("uid_day", sa.Date(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("modified_at", UTC, nullable=False),
        sa.Column("gone_at", UTC, nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
    )
    op.create_index("ix_feed_event_plan_id", "feed_event", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_feed_event_plan_id", "feed_event")
    op.drop_table("feed_event")
    op.drop_index("ix_feed_token_subscriber", "feed_token")
    op.drop_table("feed_token")
