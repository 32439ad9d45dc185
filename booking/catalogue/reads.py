"""Reading the catalogue: courses (listed, searched, one), a session, and table counts."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.catalogue.views import course_view, course_views
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import BookingState
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.views import CourseSummaryView, CourseView, Page, SessionView, money
from booking.models import Booking, Course, SessionFacilitator
from booking.models import Session as SessionRow
from booking.seats.counts import session_views


class _Listed(Protocol):
    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=_Listed)


async def list_courses(
    db: Database,
    clock: Clock,
    actor: Actor,
    *,
    query: str | None = None,
    cursor: int | None = None,
    limit: int = 50,
    with_sessions: bool = True,
) -> Page:
    """The catalogue, by title; `query` matches words in the code, title or summary."""
    _may_browse(actor)
    async with db.reading() as s:
        stmt = _matching(select(Course), query=query, cursor=cursor, limit=limit)
        stmt = _unarchived_for(actor, stmt)
        courses, next_cursor = _one_page(list((await s.scalars(stmt)).all()), limit)
        views = (
            await course_views(s, actor, courses, now=clock.now(), upcoming_only=True)
            if with_sessions
            else [course_view(c, []) for c in courses]
        )
        return Page(views, next_cursor)


def _may_browse(actor: Actor) -> None:
    if not policy.can_browse_catalogue(actor):
        raise ForbiddenError("The catalogue is for people, not machine clients.")


def _unarchived_for(actor: Actor, stmt: Select[Any]) -> Select[Any]:
    """Learners' catalogue: archived courses left out (administrators still see them)."""
    return stmt if policy.sees_archived_courses(actor) else stmt.where(Course.archived_at.is_(None))


def _one_page(rows: list[T], limit: int) -> tuple[list[T], str | None]:
    """The first `limit` of what `_matching` read, and the next page's cursor (the last id
    shown) when it read more."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, str(rows[-1].id) if more and rows else None


def _matching(
    stmt: Select[Any], *, query: str | None, cursor: int | None, limit: int
) -> Select[Any]:
    """Courses after `cursor` whose code, title or summary has every word of `query`, by id;
    one more than `limit`, to tell whether there is a next page."""
    stmt = stmt.order_by(Course.id).limit(limit + 1)
    if cursor is not None:
        stmt = stmt.where(Course.id > cursor)
    for word in (query or "").split()[:8]:
        pattern = f"%{word.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Course.title).like(pattern),
                func.lower(Course.code).like(pattern),
                func.lower(Course.summary).like(pattern),
            )
        )
    return stmt


async def search_courses(
    db: Database,
    clock: Clock,
    actor: Actor,
    *,
    query: str | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> Page:
    """The catalogue page: the courses `list_courses` gives, each with the number of its
    upcoming sessions (those `list_courses` would list) instead of the sessions themselves."""
    _may_browse(actor)
    async with db.reading() as s:
        now = clock.now()
        upcoming = (
            select(func.count())
            .where(SessionRow.course_id == Course.id, SessionRow.ends_at > now)
            .correlate(Course)
        )
        if not policy.can_see_drafts(actor):
            upcoming = upcoming.where(SessionRow.status != "draft")
        columns = select(
            Course.id,
            Course.code,
            Course.title,
            Course.summary,
            Course.price_amount,
            Course.price_currency,
            upcoming.scalar_subquery().label("upcoming"),
            Course.archived_at,
        )
        stmt = _unarchived_for(actor, _matching(columns, query=query, cursor=cursor, limit=limit))
        rows, next_cursor = _one_page(list((await s.execute(stmt)).all()), limit)
    items = [
        CourseSummaryView(
            r.id,
            r.code,
            r.title,
            r.summary,
            money(r.price_amount, r.price_currency),
            r.upcoming,
            r.archived_at is not None,
        )
        for r in rows
    ]
    return Page(items, next_cursor)


async def get_course(
    db: Database, clock: Clock, actor: Actor, course_id: int, *, upcoming_only: bool = False
) -> CourseView:
    _may_browse(actor)
    async with db.reading() as s:
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        return (
            await course_views(s, actor, [course], now=clock.now(), upcoming_only=upcoming_only)
        )[0]


async def get_session(db: Database, clock: Clock, actor: Actor, session_id: int) -> SessionView:
    async with db.reading() as s:
        row = await s.get(SessionRow, session_id)
        if row is None or not policy.can_see_session(actor, row.status):
            raise NotFoundError(f"There is no session {session_id}.")
        if not policy.is_person(actor):
            raise ForbiddenError("Sessions are for people, not machine clients.")
        reveal = await _may_see_link(s, actor, row.id)
        return (await session_views(s, [row], now=clock.now(), reveal_links=reveal))[0]


async def _may_see_link(s: AsyncSession, actor: Actor, session_id: int) -> bool:
    """Whether the reader may see the session's joining link (`policy.can_see_joining_link`),
    finding out who they are in order of cost: an administrator needs no query, a trainer one,
    a learner two. Holding a place here means booked."""
    is_admin = actor.is_admin
    runs = not is_admin and await _runs_session(s, actor, session_id)
    holds = not (is_admin or runs) and await _is_booked_on(s, actor, session_id)
    return policy.can_see_joining_link(is_admin=is_admin, runs_session=runs, holds_place=holds)


async def _runs_session(s: AsyncSession, actor: Actor, session_id: int) -> bool:
    return bool(
        await s.scalar(
            select(SessionFacilitator.person_id).where(
                SessionFacilitator.session_id == session_id,
                SessionFacilitator.person_id == actor.person_id,
            )
        )
    )


async def _is_booked_on(s: AsyncSession, actor: Actor, session_id: int) -> bool:
    return bool(
        await s.scalar(
            select(Booking.id).where(
                Booking.session_id == session_id,
                Booking.learner_id == actor.person_id,
                Booking.state == BookingState.BOOKED,
            )
        )
    )


async def count_table(db: Database, table: Any) -> int:
    """Row count of a table: used by tests and the admin overview."""
    async with db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)
