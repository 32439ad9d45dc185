"""learning programs: programs, their sets of courses, and who each applies to

Revision ID: 8c3e5a1f7d24
Revises: 5397064f2977
Create Date: 2026-12-05 03:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "8c3e5a1f7d24"
down_revision: str | None = "5397064f2977"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _when(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name, advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "programs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("audience", JSON, nullable=True),
        sa.Column("due_within_days", sa.Integer(), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        _when("archived_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("code", name=op.f("uq_programs_code")),
    )
    op.create_table(
        "program_sets",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("program_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=10), nullable=False),
        sa.Column("course_codes", JSON, nullable=False),
        sa.CheckConstraint("rule IN ('all', 'any', 'optional')", name=op.f("ck_program_sets_rule")),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_sets_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_sets")),
        sa.UniqueConstraint("program_id", "position", name="uq_program_sets_program_position"),
    )
    op.create_index(
        op.f("ix_program_sets_program_id"), "program_sets", ["program_id"], unique=False
    )
    op.create_table(
        "program_assignments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("program_id", BIG_ID, nullable=False),
        sa.Column("person_id", BIG_ID, nullable=False),
        _when("applied_at"),
        _when("closed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_program_assignments_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_assignments_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_assignments")),
        sa.UniqueConstraint(
            "program_id", "person_id", name="uq_program_assignments_program_person"
        ),
    )
    op.create_index(
        op.f("ix_program_assignments_person_id"),
        "program_assignments",
        ["person_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_program_assignments_person_id"), table_name="program_assignments")
    op.drop_table("program_assignments")
    op.drop_index(op.f("ix_program_sets_program_id"), table_name="program_sets")
    op.drop_table("program_sets")
    op.drop_table("programs")
