"""My sessions: the sessions a trainer runs, to come and past (a page at a time), and those whose
attendance is still to take. Read in a fixed number of queries, however many there are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.kernel.views import SessionView
from booking.models import Booking, SessionFacilitator
from booking.models import Session as SessionRow
from booking.seats.counts import session_views

PAST_PAGE_SIZE = 20
# Bounds, so the page stays a page: a trainer runs a few sessions a week, not hundreds.
UPCOMING_LIMIT = 50
TO_TAKE_LIMIT = 50
LAST_PAGE = 500


@dataclass(frozen=True, slots=True)
class TrainerSession:
    """One session as its trainer sees it in the list: `unmarked` counts the booked learners
    whose attendance is not yet recorded (0 before the session starts); `can_mark` says
    whether the actor may still record it (trainers until the attendance lock)."""

    session: SessionView
    started: bool
    unmarked: int
    can_mark: bool

    @property
    def attendance_to_take(self) -> bool:
        return self.unmarked > 0 and self.can_mark


@dataclass(frozen=True, slots=True)
class MySessions:
    to_take: list[TrainerSession]
    upcoming: list[TrainerSession]
    more_upcoming: bool
    past: list[TrainerSession]
    past_page: int
    more_past: bool


async def my_sessions(
    db: Database, clock: Clock, actor: Actor, *, past_page: int = 1, lock_days: int = 7
) -> MySessions:
    """The sessions `actor` runs as a facilitator (administrators see the ones they run too):
    those not yet over, soonest first; past ones, latest first, `PAST_PAGE_SIZE` a page; and
    the started ones (not cancelled) with learners still to mark that the actor may mark."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people run sessions.")
    past_page = min(max(past_page, 1), LAST_PAGE)
    async with db.reading() as s:
        now = clock.now()
        mine = _runs(actor)
        upcoming = await _rows(
            s,
            mine.where(SessionRow.ends_at > now).order_by(SessionRow.starts_at, SessionRow.id),
            limit=UPCOMING_LIMIT + 1,
        )
        past = await _rows(
            s,
            mine.where(SessionRow.ends_at <= now)
            .order_by(SessionRow.starts_at.desc(), SessionRow.id.desc())
            .offset((past_page - 1) * PAST_PAGE_SIZE),
            limit=PAST_PAGE_SIZE + 1,
        )
        # Latest first, so the sessions still open to marking come before old ones left unmarked.
        unmarked = await _rows(
            s,
            mine.where(
                SessionRow.starts_at <= now, SessionRow.status != "cancelled", _has_booked()
            ).order_by(SessionRow.starts_at.desc(), SessionRow.id.desc()),
            limit=TO_TAKE_LIMIT,
        )
        every = {r.id: r for r in [*upcoming, *past, *unmarked]}
        views = {v.id: v for v in await session_views(s, list(every.values()), now=now)}

    def listed(rows: Sequence[SessionRow]) -> list[TrainerSession]:
        return [_trainer_session(r, views[r.id], actor, now=now, lock_days=lock_days) for r in rows]

    return MySessions(
        to_take=[t for t in listed(unmarked) if t.attendance_to_take],
        upcoming=listed(upcoming[:UPCOMING_LIMIT]),
        more_upcoming=len(upcoming) > UPCOMING_LIMIT,
        past=listed(past[:PAST_PAGE_SIZE]),
        past_page=past_page,
        more_past=len(past) > PAST_PAGE_SIZE,
    )


def _runs(actor: Actor) -> Select[SessionRow]:
    return (
        select(SessionRow)
        .join(SessionFacilitator, SessionFacilitator.session_id == SessionRow.id)
        .where(SessionFacilitator.person_id == actor.person_id)
    )


def _has_booked() -> ColumnElement[bool]:
    return exists().where(Booking.session_id == SessionRow.id, Booking.state == BookingState.BOOKED)


async def _rows(s: AsyncSession, query: Select[SessionRow], *, limit: int) -> list[SessionRow]:
    return list((await s.scalars(query.limit(limit))).all())


def _trainer_session(
    row: SessionRow, view: SessionView, actor: Actor, *, now: datetime, lock_days: int
) -> TrainerSession:
    started = row.starts_at <= now and row.status != "cancelled"
    return TrainerSession(
        session=view,
        started=started,
        # Attendance is taken for booked learners: once started, each one still booked is unmarked.
        unmarked=view.booked if started else 0,
        can_mark=started
        and policy.can_mark_attendance(actor, ends_at=row.ends_at, now=now, lock_days=lock_days),
    )
