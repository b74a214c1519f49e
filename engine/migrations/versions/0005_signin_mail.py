"""Sign-in mails: the links e-mailed lately, so the public sign-in form cannot flood an inbox.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_mail",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.String(), sa.ForeignKey("owner.id"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_signin_mail_owner_sent", "signin_mail", ["owner_id", "sent_at"])
    op.create_index("ix_signin_mail_sent_at", "signin_mail", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_signin_mail_sent_at", "signin_mail")
    op.drop_index("ix_signin_mail_owner_sent", "signin_mail")
    op.drop_table("signin_mail")
