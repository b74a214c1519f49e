"""The escalations index also holds each entry's occurrence: the report and the plan page read which
occurrences of each action have an open escalation from the index alone.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BEFORE = ["action_id", "resolved_at", "acknowledged_at", "level", "at", "days_overdue"]


def upgrade() -> None:
    op.drop_index("ix_escalation_by_action", "escalation")
    op.create_index("ix_escalation_by_action", "escalation", [*BEFORE, "occurrence"])


def downgrade() -> None:
    op.drop_index("ix_escalation_by_action", "escalation")
    op.create_index("ix_escalation_by_action", "escalation", BEFORE)
