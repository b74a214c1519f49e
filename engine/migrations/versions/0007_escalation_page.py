"""Indexes for the escalations page grouped by action and its filters.

The page reads a page of actions in lateness order from ``ix_escalation_by_action`` alone (it
covers the state, level, date and lateness of every entry), or from ``ix_escalation_by_time`` when
a date range narrows the entries (the same columns, the time first); the one-action filter (``?action=REF``)
finds the action by its reference, and the Part filter its actions by section.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_escalation_by_action",
        "escalation",
        ["action_id", "resolved_at", "acknowledged_at", "level", "at", "days_overdue"],
    )
    op.create_index(
        "ix_escalation_by_time",
        "escalation",
        ["at", "action_id", "days_overdue", "level", "resolved_at", "acknowledged_at"],
    )
    op.create_index("ix_action_ref", "action", ["ref"])
    op.create_index("ix_action_section_key", "action", ["section_key"])


def downgrade() -> None:
    op.drop_index("ix_action_section_key", "action")
    op.drop_index("ix_action_ref", "action")
    op.drop_index("ix_escalation_by_time", "escalation")
    op.drop_index("ix_escalation_by_action", "escalation")
