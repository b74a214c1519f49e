"""The plan store: plans, sections, owners, actions and their change history.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("ref_date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("fy_start", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_format", sa.String(), nullable=False),
        sa.Column("imported_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_table(
        "section",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.String(), sa.ForeignKey("plan.id"), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("parent_key", sa.String(), nullable=True),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("context", sa.String(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.UniqueConstraint("plan_id", "key"),
    )
    op.create_index("ix_section_plan_id", "section", ["plan_id"])
    op.create_table(
        "owner",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("supervisor_id", sa.String(), sa.ForeignKey("owner.id"), nullable=True),
    )
    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.String(), sa.ForeignKey("plan.id"), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("section_key", sa.String(), nullable=False),
        sa.Column("subheading", sa.String(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("timeframe", sa.String(), nullable=False),
        sa.Column("timeframe_proposed", sa.String(), nullable=True),
        sa.Column("owner_id", sa.String(), sa.ForeignKey("owner.id"), nullable=True),
        sa.Column("owner_source", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_note", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("rrule", sa.String(), nullable=True),
        sa.Column("milestones", sa.JSON(), nullable=True),
        sa.Column("event", sa.String(), nullable=True),
        sa.Column("after_ref", sa.String(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("override", sa.JSON(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("removed_at", UTC, nullable=True),
        sa.UniqueConstraint("plan_id", "ref"),
    )
    op.create_index("ix_action_plan_ordinal", "action", ["plan_id", "ordinal"])
    op.create_index("ix_action_owner_id", "action", ["owner_id"])
    op.create_table(
        "action_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("old", sa.String(), nullable=True),
        sa.Column("new", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
    )
    op.create_index("ix_action_change_action_id", "action_change", ["action_id"])


def downgrade() -> None:
    op.drop_table("action_change")
    op.drop_table("action")
    op.drop_table("owner")
    op.drop_table("section")
    op.drop_table("plan")
