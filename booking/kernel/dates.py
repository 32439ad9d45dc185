"""Session dates: local times, their views and the slots the domain's clash rules read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.domain.schedule import DateSlot
from booking.kernel.views import SessionDateView
from booking.models import SessionDate

_ACTIVE_DATES = (
    select(SessionDate)
    .where(
        SessionDate.session_id.in_(bindparam("session_ids", expanding=True)),
        SessionDate.removed_at.is_(None),
    )
    .order_by(SessionDate.start_at)
)


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def date_views(dates: Iterable[SessionDate]) -> list[SessionDateView]:
    return [
        SessionDateView(
            d.id, local(d.start_at, d.timezone), local(d.end_at, d.timezone), d.timezone
        )
        for d in sorted(dates, key=lambda d: d.start_at)
        if d.removed_at is None
    ]


def slots(dates: Iterable[SessionDate]) -> list[DateSlot]:
    return [DateSlot(d.start_at, d.end_at, d.timezone) for d in dates if d.removed_at is None]


async def active_dates(s: AsyncSession, session_ids: Sequence[int]) -> dict[int, list[SessionDate]]:
    by_session: dict[int, list[SessionDate]] = defaultdict(list)
    if not session_ids:
        return by_session
    for d in await s.scalars(_ACTIVE_DATES, {"session_ids": list(session_ids)}):
        by_session[d.session_id].append(d)
    return by_session
