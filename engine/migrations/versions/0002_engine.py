"""The engine: planning cursors on actions, owners' delegates and digests, outbox,
escalation log, completions and service state.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("next_fire_at", UTC, nullable=True))
        batch.add_column(sa.Column("planned_through", UTC, nullable=True))
        batch.add_column(sa.Column("extended_to", sa.Date(), nullable=True))
        batch.add_column(sa.Column("last_completed", sa.Date(), nullable=True))
        batch.add_column(sa.Column("last_progress_at", UTC, nullable=True))
        batch.add_column(sa.Column("policy", sa.String(), nullable=False, server_default=""))
        batch.create_index("ix_action_next_fire_at", ["next_fire_at"])
    with op.batch_alter_table("owner") as batch:
        batch.add_column(sa.Column("delegate_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("digest", sa.String(), nullable=False, server_default="none"))
        batch.add_column(sa.Column("role", sa.String(), nullable=False, server_default="owner"))
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("plan_id", sa.String(), nullable=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=True),
        sa.Column("occurrence", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("recipient_id", sa.String(), nullable=True),
        sa.Column("template", sa.String(), nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("next_attempt_at", UTC, nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
    )
    op.create_index("ix_outbox_status_due", "outbox", ["status", "due_at"])
    op.create_index("ix_outbox_action_id", "outbox", ["action_id"])
    op.create_index("ix_outbox_recipient_id", "outbox", ["recipient_id"])
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=False),
        sa.Column("occurrence", sa.String(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("policy", sa.String(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=True),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("ack_note", sa.String(), nullable=False),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("resolution", sa.String(), nullable=False),
    )
    op.create_index("ix_escalation_action_id", "escalation", ["action_id"])
    op.create_index("ix_escalation_at", "escalation", ["at"])
    op.create_table(
        "completion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action.id"), nullable=False),
        sa.Column("occurrence", sa.String(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.UniqueConstraint("action_id", "occurrence"),
    )
    op.create_table(
        "service_state",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_state")
    op.drop_table("completion")
    op.drop_table("escalation")
    op.drop_table("outbox")
    with op.batch_alter_table("owner") as batch:
        batch.drop_column("role")
        batch.drop_column("digest")
        batch.drop_column("delegate_id")
    with op.batch_alter_table("action") as batch:
        batch.drop_index("ix_action_next_fire_at")
        for column in ("policy", "last_progress_at", "last_completed", "extended_to", "planned_through", "next_fire_at", "tags"):
            batch.drop_column(column)
