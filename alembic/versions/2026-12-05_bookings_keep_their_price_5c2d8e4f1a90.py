"""bookings keep their price: what the place cost its learner when booked (discount prices)

Revision ID: 5c2d8e4f1a90
Revises: 9e4c1f2a7b63
Create Date: 2026-12-05 03:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "5c2d8e4f1a90"
down_revision: str | None = "9e4c1f2a7b63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Bookings made before this keep NULL: the course's price applies to them, as it did.
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price_amount", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("price_amount")
