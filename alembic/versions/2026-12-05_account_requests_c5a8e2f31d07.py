"""account requests: the public form's requests and the administrators' decisions

Revision ID: c5a8e2f31d07
Revises: 5c2d8e4f1a90
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa

from alembic import op

revision: str = "c5a8e2f31d07"
down_revision: str | None = "5c2d8e4f1a90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column(
            "org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("org_unit_text", sa.String(length=200), nullable=True),
        sa.Column("job_role", sa.String(length=200), nullable=False),
        sa.Column("staff_type", sa.String(length=20), nullable=False),
        sa.Column("manager_email", sa.String(length=320), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="unconfirmed", nullable=False),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "confirmed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column(
            "decided_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("decline_reason", sa.String(length=500), nullable=True),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "staff_type IN ('payroll', 'casual', 'associate', 'external')",
            name=op.f("ck_account_requests_staff_type"),
        ),
        sa.CheckConstraint(
            "state IN ('unconfirmed', 'waiting', 'approved', 'declined')",
            name=op.f("ck_account_requests_state"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["people.id"],
            name=op.f("fk_account_requests_decided_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_account_requests_org_unit_id_org_units"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_account_requests_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_requests")),
    )
    with op.batch_alter_table("account_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_requests_state_created", ["state", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_account_requests_open_email",
            ["email"],
            unique=True,
            postgresql_where=sa.text("state IN ('unconfirmed', 'waiting')"),
            sqlite_where=sa.text("state IN ('unconfirmed', 'waiting')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("account_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_account_requests_open_email",
            postgresql_where=sa.text("state IN ('unconfirmed', 'waiting')"),
            sqlite_where=sa.text("state IN ('unconfirmed', 'waiting')"),
        )
        batch_op.drop_index("ix_account_requests_state_created")

    op.drop_table("account_requests")
