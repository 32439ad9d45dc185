"""requirements: people.start_date and the requirements table (issue 18)

Revision ID: e3a7c19b5d42
Revises: 8b2e5d1c7f46
Create Date: 2026-12-05 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa

from alembic import op

revision: str = "e3a7c19b5d42"
down_revision: str | None = "8b2e5d1c7f46"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_date", sa.Date(), nullable=True))
    # Filled by the worker's first requirements sweep.
    op.create_table(
        "requirements",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("person_id", BIG_ID, nullable=False),
        sa.Column("course_id", BIG_ID, nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", UTC_TIME, nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=True),
        sa.Column("closed_at", UTC_TIME, nullable=True),
        sa.Column("reminded_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalated_at", UTC_TIME, nullable=True),
        sa.CheckConstraint(
            "via IN ('course', 'renewal', 'program')", name=op.f("ck_requirements_via")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_requirements_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_requirements_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requirements")),
    )
    op.create_index(
        "uq_requirements_open",
        "requirements",
        ["person_id", "course_id", "via", sa.text("coalesce(program_id, 0)")],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL"),
        sqlite_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_requirements_person_course", "requirements", ["person_id", "course_id"], unique=False
    )
    op.create_index(
        "ix_requirements_course_reminded",
        "requirements",
        ["course_id", "reminded_day", "applied_at"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL"),
        sqlite_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_requirements_course_unescalated",
        "requirements",
        ["course_id", "applied_at"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL AND escalated_at IS NULL"),
        sqlite_where=sa.text("closed_at IS NULL AND escalated_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_requirements_course_unescalated", table_name="requirements")
    op.drop_index("ix_requirements_course_reminded", table_name="requirements")
    op.drop_index("ix_requirements_person_course", table_name="requirements")
    op.drop_index("uq_requirements_open", table_name="requirements")
    op.drop_table("requirements")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("start_date")
