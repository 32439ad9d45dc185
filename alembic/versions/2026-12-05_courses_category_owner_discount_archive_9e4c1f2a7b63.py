"""courses: category, owner, discount price and audience, archived

Revision ID: 9e4c1f2a7b63
Revises: 7b3c9e1d5a42
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "9e4c1f2a7b63"
down_revision: str | None = "7b3c9e1d5a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing course: no category, no owner, no discount, not archived.
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("owner_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("discount_amount", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "discount_audience",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "archived_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_courses_discount_not_negative"),
            "discount_amount IS NULL OR discount_amount >= 0",
        )


def downgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_courses_discount_not_negative"), type_="check")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("discount_audience")
        batch_op.drop_column("discount_amount")
        batch_op.drop_column("owner_email")
        batch_op.drop_column("category")
