"""Web pages: sessions, used one-time links, extension requests; indexes for the escalation review.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(), primary_key=True),
        sa.Column("owner_id", sa.String(), sa.ForeignKey("owner.id"), nullable=False),
        sa.Column("csrf", sa.String(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
    )
    op.create_index("ix_web_session_owner_id", "web_session", ["owner_id"])
    op.create_table(
        "used_link",
        sa.Column("digest", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("used_by", sa.String(), nullable=False),
        sa.Column("used_at", UTC, nullable=False),
    )
    op.create_table(
        "extension_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("wanted", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decision_note", sa.String(), nullable=False),
    )
    op.create_index("ix_extension_request_action_id", "extension_request", ["action_id"])
    op.create_index("ix_extension_request_status", "extension_request", ["status"])
    op.create_index("ix_escalation_lateness", "escalation",
                    ["days_overdue", "at", "id", "resolved_at", "acknowledged_at", "level", "action_id"])
    op.create_index("ix_escalation_review", "escalation", ["action_id", "resolved_at", "acknowledged_at", "level", "at"])


def downgrade() -> None:
    op.drop_index("ix_escalation_review", "escalation")
    op.drop_index("ix_escalation_lateness", "escalation")
    op.drop_index("ix_extension_request_status", "extension_request")
    op.drop_index("ix_extension_request_action_id", "extension_request")
    op.drop_table("extension_request")
    op.drop_table("used_link")
    op.drop_index("ix_web_session_owner_id", "web_session")
    op.drop_table("web_session")
