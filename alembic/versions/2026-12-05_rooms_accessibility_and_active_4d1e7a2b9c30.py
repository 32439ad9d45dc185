"""rooms: accessibility details and an active flag

Revision ID: 4d1e7a2b9c30
Revises: 659b79a069f4
Create Date: 2026-12-05 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "4d1e7a2b9c30"
down_revision: str | None = "659b79a069f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rooms stay valid: no accessibility details yet, and all of them in use.
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accessibility", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("accessibility")
