"""The administrators' list of every session: upcoming, past, cancelled or drafts, filtered by
course, trainer, room, status and dates, searched by course code or title, a page at a time.

A fixed number of queries whatever the page's size: the filters' choices (three), the page's
sessions (one), and their views with seat counts (`seats.counts.session_views`, one per source).
The date range is in whole UTC days on the session's start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError
from booking.kernel.views import SessionView
from booking.models import Course, Person, Room, SessionFacilitator
from booking.models import Session as SessionRow
from booking.seats.counts import session_views

# Which sessions: those not over yet, those over, or all of them.
WHEN = ("upcoming", "past", "all")
# The status filter: the stored ones, and "full" (open with no seat free).
STATUSES = ("open", "full", "draft", "cancelled")
ONLINE = "online"
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class SessionFilter:
    when: str = "upcoming"
    status: str | None = None
    course_id: int | None = None
    trainer_id: int | None = None
    # A room's id, or ONLINE for sessions with no room.
    room: int | str | None = None
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""
    page: int = 1


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True, slots=True)
class SessionListPage:
    wanted: SessionFilter
    sessions: list[SessionView]
    has_next: bool
    courses: list[Choice]
    trainers: list[Choice]
    rooms: list[Choice]


async def list_sessions(
    db: Database, clock: Clock, actor: Actor, wanted: SessionFilter
) -> SessionListPage:
    """One page of sessions (upcoming soonest first; past and all latest first)."""
    if not policy.can_list_all_sessions(actor):
        raise ForbiddenError("Only administrators can list every session.")
    now = clock.now()
    async with db.reading() as s:
        stmt = _filtered(select(SessionRow), wanted, now=now)
        newest_first = wanted.when != "upcoming"
        order = SessionRow.starts_at.desc() if newest_first else SessionRow.starts_at.asc()
        page = max(1, wanted.page)
        rows = list(
            await s.scalars(
                stmt.order_by(order, SessionRow.id)
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1)
            )
        )
        views = await session_views(s, rows[:PAGE_SIZE], now=now)
        courses, trainers, rooms = await _choices(s)
    return SessionListPage(
        wanted=wanted,
        sessions=views,
        has_next=len(rows) > PAGE_SIZE,
        courses=courses,
        trainers=trainers,
        rooms=rooms,
    )


def _filtered(stmt: Select[Any], wanted: SessionFilter, *, now: datetime) -> Select[Any]:
    if wanted.when == "upcoming":
        stmt = stmt.where(SessionRow.ends_at > now)
    elif wanted.when == "past":
        stmt = stmt.where(SessionRow.ends_at <= now)
    stmt = _by_status(stmt, wanted.status)
    if wanted.course_id is not None:
        stmt = stmt.where(SessionRow.course_id == wanted.course_id)
    if wanted.trainer_id is not None:
        stmt = stmt.where(
            exists().where(
                SessionFacilitator.session_id == SessionRow.id,
                SessionFacilitator.person_id == wanted.trainer_id,
            )
        )
    if wanted.room == ONLINE:
        stmt = stmt.where(SessionRow.room_id.is_(None))
    elif isinstance(wanted.room, int):
        stmt = stmt.where(SessionRow.room_id == wanted.room)
    if wanted.date_from is not None:
        stmt = stmt.where(SessionRow.starts_at >= _midnight(wanted.date_from))
    if wanted.date_to is not None:
        stmt = stmt.where(SessionRow.starts_at < _midnight(wanted.date_to) + timedelta(days=1))
    if wanted.query:
        like = f"%{_escaped(wanted.query.lower())}%"
        stmt = stmt.where(
            exists().where(
                Course.id == SessionRow.course_id,
                or_(
                    func.lower(Course.code).like(like, escape="\\"),
                    func.lower(Course.title).like(like, escape="\\"),
                ),
            )
        )
    return stmt


def _by_status(stmt: Select[Any], status: str | None) -> Select[Any]:
    if status == "full":
        return stmt.where(SessionRow.status == "open", SessionRow.seats_held >= SessionRow.capacity)
    if status == "open":
        return stmt.where(SessionRow.status == "open", SessionRow.seats_held < SessionRow.capacity)
    if status in STATUSES:
        return stmt.where(SessionRow.status == status)
    return stmt


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _choices(s: AsyncSession) -> tuple[list[Choice], list[Choice], list[Choice]]:
    """The filters' options: every course, everyone who trains or is a trainer, every room."""
    courses = [
        Choice(i, f"{title} ({code})")
        for i, code, title in await s.execute(
            select(Course.id, Course.code, Course.title).order_by(Course.title, Course.id)
        )
    ]
    runs_one = exists().where(SessionFacilitator.person_id == Person.id)
    trainers = [
        Choice(i, name)
        for i, name in await s.execute(
            select(Person.id, Person.name)
            .where(or_(Person.roles.like("%trainer%"), runs_one))
            .order_by(Person.name, Person.id)
        )
    ]
    rooms = [
        Choice(i, name)
        for i, name in await s.execute(select(Room.id, Room.name).order_by(Room.name, Room.id))
    ]
    return courses, trainers, rooms
