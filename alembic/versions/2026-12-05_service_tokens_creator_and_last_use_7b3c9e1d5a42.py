"""api tokens: who created a service token, and when it was last used

Revision ID: 7b3c9e1d5a42
Revises: 4d1e7a2b9c30
Create Date: 2026-12-05 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa

from alembic import op

revision: str = "7b3c9e1d5a42"
down_revision: str | None = "4d1e7a2b9c30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing tokens were made on the command line: no creator, never seen used.
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "last_used_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_created_by_id_people"),
            "people",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_tokens_created_by_id_people"), type_="foreignkey"
        )
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("created_by_id")
