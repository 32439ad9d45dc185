"""Reads about people that other capabilities ask for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models import Person

# Roles are stored as one comma-separated text; no other role's name contains "admin".
_ACTIVE_ADMINS = (
    select(Person.id)
    .where(Person.roles.like("%admin%"), Person.active.is_(True))
    .order_by(Person.id)
)


async def active_admin_ids(s: AsyncSession) -> list[int]:
    """Everyone who may act for the training team now: the active administrators."""
    return list((await s.scalars(_ACTIVE_ADMINS)).all())
