"""exemption requests: exemptions and extensions of required learning

Revision ID: 8b2e5d1c7f46
Revises: 8c3e5a1f7d24
Create Date: 2026-12-05 03:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa

from alembic import op

revision: str = "8b2e5d1c7f46"
down_revision: str | None = "8c3e5a1f7d24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _moment(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "exemption_requests",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("learner_id", ID, nullable=False),
        sa.Column("course_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        _moment("due_at"),
        sa.Column("requested_by_id", ID, nullable=True),
        sa.Column("decided_by_id", ID, nullable=True),
        _moment("decided_at"),
        sa.Column("comment", sa.Text(), nullable=True),
        _moment("created_at", nullable=False),
        sa.CheckConstraint(
            "kind IN ('exemption', 'extension')", name=op.f("ck_exemption_requests_kind")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'declined')",
            name=op.f("ck_exemption_requests_state"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_exemption_requests_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["people.id"],
            name=op.f("fk_exemption_requests_learner_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["people.id"],
            name=op.f("fk_exemption_requests_requested_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["people.id"],
            name=op.f("fk_exemption_requests_decided_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exemption_requests")),
    )
    with op.batch_alter_table("exemption_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exemption_requests_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exemption_requests_requested_by_id"), ["requested_by_id"], unique=False
        )
        batch_op.create_index(
            "ix_exemption_requests_learner_state", ["learner_id", "state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exemption_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_exemption_requests_learner_state")
        batch_op.drop_index(batch_op.f("ix_exemption_requests_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_exemption_requests_course_id"))
    op.drop_table("exemption_requests")
