"""Courses as callers see them: the course view, with its sessions read in one query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.kernel.actors import Actor
from booking.kernel.views import CourseView, SessionView, money
from booking.models import Course
from booking.models import Session as SessionRow
from booking.seats.counts import session_views


def course_view(course: Course, sessions: list[SessionView]) -> CourseView:
    return CourseView(
        id=course.id,
        code=course.code,
        title=course.title,
        summary=course.summary,
        price=money(course.price_amount, course.price_currency),
        approval=list((course.approval or {}).get("steps", [])),
        cancellation_policy=course.cancellation_policy,
        audience=course.audience,
        prerequisites=list((course.prerequisites or {}).get("items", [])),
        allow_multiple_bookings=course.allow_multiple_bookings,
        sessions=sessions,
        questions=list((course.questions or {}).get("items", [])),
        terms=(
            {"text": course.terms_text, "version": course.terms_version}
            if course.terms_text
            else None
        ),
        certification=(
            {
                "months": course.certification_months,
                "window_days": course.certification_window_days or 0,
            }
            if course.certification_months
            else None
        ),
        category=course.category,
        owner_email=course.owner_email,
        discount=(
            {
                "price": money(course.discount_amount, course.price_currency),
                "audience": course.discount_audience,
            }
            if course.discount_amount is not None
            else None
        ),
        archived_at=course.archived_at,
    )


async def course_views(
    s: AsyncSession, actor: Actor, courses: list[Course], *, now: datetime, upcoming_only: bool
) -> list[CourseView]:
    """The courses' views, each with the sessions the actor may see (drafts only for those
    who see drafts), in date order: one query for all the courses' sessions."""
    if not courses:
        return []
    stmt = (
        select(SessionRow)
        .where(SessionRow.course_id.in_([c.id for c in courses]))
        .order_by(SessionRow.starts_at, SessionRow.id)
    )
    if not policy.can_see_drafts(actor):
        stmt = stmt.where(SessionRow.status != "draft")
    if upcoming_only:
        stmt = stmt.where(SessionRow.ends_at > now)
    rows = list((await s.scalars(stmt)).all())
    views = await session_views(s, rows, now=now, courses={c.id: c for c in courses})
    by_course: dict[int, list[SessionView]] = {}
    for v in views:
        by_course.setdefault(v.course_id, []).append(v)
    return [course_view(c, by_course.get(c.id, [])) for c in courses]
