"""Room and trainer clashes: a room or a trainer cannot be in two sessions at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.catalogue.dates import format_when
from booking.domain.schedule import DateSlot
from booking.kernel.errors import ConflictError
from booking.models import Course, Person, Room, SessionDate, SessionFacilitator
from booking.models import Session as SessionRow


async def refuse_clashes(
    s: AsyncSession,
    session_id: int | None,
    dates: Sequence[DateSlot],
    room_id: int | None,
    facilitators: Sequence[int],
    *,
    override: str | None,
) -> None:
    """A room or a trainer cannot be in two sessions at once; the refusal names the other
    session. An administrator may go ahead anyway with a reason."""
    if not dates or (room_id is None and not facilitators):
        return
    candidates = await _overlapping_sessions(s, session_id, dates)
    if not candidates:
        return
    busy_trainers = await _busy_trainers(s, [c.id for c in candidates], facilitators)
    names = await _names(s, {p for ps in busy_trainers.values() for p in ps})
    room_name = await s.scalar(select(Room.name).where(Room.id == room_id)) if room_id else None
    problems: list[str] = []
    for c in candidates:
        when = format_when(c.start_at, c.end_at, c.timezone)
        if room_id is not None and c.room_id == room_id:
            problems.append(
                f"{room_name} is already booked for {c.title} (session {c.id}) on {when}."
            )
        for pid in sorted(busy_trainers.get(c.id, ())):
            problems.append(
                f"{names.get(pid, 'A trainer')} is already running {c.title} "
                f"(session {c.id}) on {when}."
            )
    if problems and not (override or "").strip():
        raise ConflictError(
            " ".join(dict.fromkeys(problems))
            + " An administrator can schedule it anyway with an override reason."
        )


async def _overlapping_sessions(
    s: AsyncSession, session_id: int | None, dates: Sequence[DateSlot]
) -> Sequence[Any]:
    """The dates of other sessions, not cancelled, that overlap any of these dates."""
    overlapping = or_(
        *[and_(SessionDate.start_at < d.end, SessionDate.end_at > d.start) for d in dates]
    )
    stmt = (
        select(
            SessionRow.id,
            SessionRow.room_id,
            Course.title,
            SessionDate.start_at,
            SessionDate.end_at,
            SessionDate.timezone,
        )
        .join(SessionDate, SessionDate.session_id == SessionRow.id)
        .join(Course, Course.id == SessionRow.course_id)
        .where(
            SessionRow.status != "cancelled",
            SessionDate.removed_at.is_(None),
            overlapping,
        )
    )
    if session_id is not None:
        stmt = stmt.where(SessionRow.id != session_id)
    return (await s.execute(stmt)).all()


async def _busy_trainers(
    s: AsyncSession, session_ids: Sequence[int], facilitators: Sequence[int]
) -> dict[int, set[int]]:
    """Which of these trainers run which of these sessions."""
    busy: dict[int, set[int]] = {}
    if not facilitators:
        return busy
    for sid, pid in await s.execute(
        select(SessionFacilitator.session_id, SessionFacilitator.person_id).where(
            SessionFacilitator.session_id.in_(set(session_ids)),
            SessionFacilitator.person_id.in_(list(facilitators)),
        )
    ):
        busy.setdefault(sid, set()).add(pid)
    return busy


async def _names(s: AsyncSession, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = await s.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids)))
    return dict(rows.all())
