"""The administrators' course list (search, filters, pages) and archiving a course.

An archived course is kept with its sessions and bookings, but learners no longer find it in
the catalogue and it cannot get new sessions; restoring it undoes both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.views import MoneyView, money
from booking.models import Course, CourseRecordRule
from booking.models import Session as SessionRow

COURSE_STATUSES = ("active", "archived", "all")


@dataclass(frozen=True, slots=True)
class CourseFilter:
    query: str = ""
    status: str = "active"  # active | archived | all
    category: str | None = None
    owner: str | None = None
    cursor: str | None = None  # the last code of the page before (courses are listed by code)
    limit: int = 50


@dataclass(frozen=True, slots=True)
class CourseRow:
    id: int
    code: str
    title: str
    category: str | None
    owner_email: str | None
    price: MoneyView | None
    upcoming_sessions: int
    mandatory: bool
    archived_at: datetime | None


@dataclass(frozen=True, slots=True)
class CourseList:
    items: list[CourseRow]
    next_cursor: str | None
    categories: list[str]  # every category in use, for the filter
    owners: list[str]  # every owner in use, for the filter


def _require(actor: Actor) -> None:
    if not policy.can_manage_courses(actor):
        raise ForbiddenError("Only administrators can manage courses.")


async def admin_course_list(
    db: Database, clock: Clock, actor: Actor, wanted: CourseFilter
) -> CourseList:
    """Courses by code, matching every word of the query in the code or title; three
    statements whatever the number of courses."""
    _require(actor)
    now = clock.now()
    upcoming = (
        select(func.count())
        .where(
            SessionRow.course_id == Course.id,
            SessionRow.ends_at > now,
            SessionRow.status != "cancelled",
        )
        .correlate(Course)
        .scalar_subquery()
    )
    stmt = (
        select(Course, upcoming, func.coalesce(CourseRecordRule.mandatory, false()))
        .outerjoin(CourseRecordRule, CourseRecordRule.course_id == Course.id)
        .order_by(Course.code)
        .limit(wanted.limit + 1)
    )
    for word in wanted.query.lower().split()[:8]:
        stmt = stmt.where(
            or_(
                func.lower(Course.code).contains(word, autoescape=True),
                func.lower(Course.title).contains(word, autoescape=True),
            )
        )
    if wanted.status == "active":
        stmt = stmt.where(Course.archived_at.is_(None))
    elif wanted.status == "archived":
        stmt = stmt.where(Course.archived_at.is_not(None))
    if wanted.category:
        stmt = stmt.where(Course.category == wanted.category)
    if wanted.owner:
        stmt = stmt.where(Course.owner_email == wanted.owner)
    if wanted.cursor:
        stmt = stmt.where(Course.code > wanted.cursor)
    async with db.reading() as s:
        rows = (await s.execute(stmt)).all()
        categories = await s.scalars(
            select(Course.category).where(Course.category.is_not(None)).distinct()
        )
        owners = await s.scalars(
            select(Course.owner_email).where(Course.owner_email.is_not(None)).distinct()
        )
        choices = sorted(c for c in categories if c), sorted(o for o in owners if o)
    items = [_row(course, count, mandatory) for course, count, mandatory in rows[: wanted.limit]]
    more = len(rows) > wanted.limit
    return CourseList(items, items[-1].code if more and items else None, *choices)


def _row(course: Course, upcoming: int, mandatory: bool) -> CourseRow:
    return CourseRow(
        id=course.id,
        code=course.code,
        title=course.title,
        category=course.category,
        owner_email=course.owner_email,
        price=money(course.price_amount, course.price_currency),
        upcoming_sessions=int(upcoming or 0),
        mandatory=bool(mandatory),
        archived_at=course.archived_at,
    )


async def archive_course(db: Database, clock: Clock, actor: Actor, course_id: int) -> None:
    """Hide the course from learners and refuse it new sessions; its sessions and bookings
    stay. Archiving an archived course changes nothing."""
    _require(actor)
    await tx.run(db, partial(_set_archived, clock=clock, actor=actor, course_id=course_id, on=True))


async def restore_course(db: Database, clock: Clock, actor: Actor, course_id: int) -> None:
    """Put an archived course back in the catalogue."""
    _require(actor)
    await tx.run(
        db, partial(_set_archived, clock=clock, actor=actor, course_id=course_id, on=False)
    )


async def _set_archived(
    s: AsyncSession, *, clock: Clock, actor: Actor, course_id: int, on: bool
) -> None:
    now = clock.now()
    course = await s.scalar(select(Course).where(Course.id == course_id).with_for_update())
    if course is None:
        raise NotFoundError(f"There is no course {course_id}.")
    if (course.archived_at is not None) == on:
        return
    course.archived_at = now if on else None
    course.updated_at = now
    await audit.record(
        s,
        action=f"course.{'archived' if on else 'restored'}",
        now=now,
        actor=actor,
        target=f"course {course.id}",
        details={"code": course.code, "title": course.title},
    )
