"""record rules: reminder days, escalation, accepted courses and the certificate

Revision ID: 2f7a9c4e8b15
Revises: c5a8e2f31d07
Create Date: 2026-12-05 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "2f7a9c4e8b15"
down_revision: str | None = "c5a8e2f31d07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rules keep the defaults: reminders on days 1, 7, 14 and 21 (NULL), the line
    # manager told after 28 days, no accepted courses, no certificate.
    with op.batch_alter_table("course_record_rules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminder_days",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("escalate_after_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "accepted_courses",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("certificate", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.execute("UPDATE course_record_rules SET escalate_after_days = 28")


def downgrade() -> None:
    with op.batch_alter_table("course_record_rules", schema=None) as batch_op:
        batch_op.drop_column("certificate")
        batch_op.drop_column("accepted_courses")
        batch_op.drop_column("escalate_after_days")
        batch_op.drop_column("reminder_days")
