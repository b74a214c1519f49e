"""Follow-up as governing bodies run it, and languages: acceptance and delay causes on actions, closure
reports with evidence and verification, dated progress updates, update campaigns, the due date an extension
was asked from, and the language of plans and owners.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

UTC = sa.DateTime(timezone=True)

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.add_column(sa.Column("acceptance", sa.String(), nullable=False, server_default="accepted"))
        batch.add_column(sa.Column("acceptance_note", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("delay_cause", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("delay_note", sa.String(), nullable=False, server_default=""))
    with op.batch_alter_table("plan") as batch:
        batch.add_column(sa.Column("language", sa.String(), nullable=False, server_default="en"))
    with op.batch_alter_table("owner") as batch:
        batch.add_column(sa.Column("language", sa.String(), nullable=True))
    with op.batch_alter_table("extension_request") as batch:
        batch.add_column(sa.Column("from_due", sa.Date(), nullable=True))
    op.create_table(
        "closure_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=False),
        sa.Column("occurrence", sa.String(), nullable=False),
        sa.Column("reported_at", UTC, nullable=False),
        sa.Column("reported_by", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=True),
        sa.Column("owner_rating", sa.String(), nullable=False),
        sa.Column("verifier_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("verifier_rating", sa.String(), nullable=False),
        sa.Column("comment", sa.String(), nullable=False),
    )
    op.create_index("ix_closure_report_action_id", "closure_report", ["action_id"])
    op.create_index("ix_closure_report_state", "closure_report", ["status", "verifier_id"])
    op.create_table(
        "progress_update",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("occurrence", sa.String(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_progress_update_action_at", "progress_update", ["action_id", "at"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=False),
        sa.Column("closure_id", sa.Integer(), nullable=True),
        sa.Column("update_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("stored_path", sa.String(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("who", sa.String(), nullable=False),
    )
    op.create_index("ix_evidence_action_id", "evidence", ["action_id"])
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.String(), sa.ForeignKey("plan.id"), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("within_days", sa.Integer(), nullable=False),
        sa.Column("include_overdue", sa.Boolean(), nullable=False),
        sa.Column("respond_by", sa.Date(), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("period", sa.String(), nullable=True),
        sa.UniqueConstraint("plan_id", "period"),
    )
    op.create_index("ix_campaign_plan_id", "campaign", ["plan_id"])
    op.create_table(
        "campaign_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaign.id"), nullable=False),
        sa.Column("owner_id", sa.String(), nullable=False),
        sa.Column("action_ids", sa.JSON(), nullable=True),
        sa.Column("queued_at", UTC, nullable=False),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.UniqueConstraint("campaign_id", "owner_id"),
    )
    op.create_index("ix_campaign_request_campaign_id", "campaign_request", ["campaign_id"])


def downgrade() -> None:
    for table in ("campaign_request", "campaign", "evidence", "progress_update", "closure_report"):
        op.drop_table(table)
    with op.batch_alter_table("extension_request") as batch:
        batch.drop_column("from_due")
    with op.batch_alter_table("owner") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("action") as batch:
        for column in ("delay_note", "delay_cause", "acceptance_note", "acceptance"):
            batch.drop_column(column)
