"""Courses as callers see them: the course view, with its sessions read in one query."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.domain.vocabulary import ApprovalStep
from booking.kernel.actors import Actor
from booking.kernel.views import (
    AudienceView,
    CancellationPolicyView,
    CourseView,
    PrerequisiteView,
    QuestionView,
    SessionView,
    money,
)
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
        approval=cast(list[ApprovalStep], list((course.approval or {}).get("steps", []))),
        cancellation_policy=_policy(course.cancellation_policy),
        audience=_audience(course.audience),
        prerequisites=[_prerequisite(p) for p in (course.prerequisites or {}).get("items", [])],
        allow_multiple_bookings=course.allow_multiple_bookings,
        sessions=sessions,
        questions=[_question(q) for q in (course.questions or {}).get("items", [])],
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
                "audience": _audience(course.discount_audience),
            }
            if course.discount_amount is not None
            else None
        ),
        archived_at=course.archived_at,
    )


# The stored JSON read into the shapes the API documents: every key the document names as
# required is there (the defaults the validation applies), and nothing else.
def _policy(stored: dict[str, Any] | None) -> CancellationPolicyView | None:
    if stored is None:
        return None
    return {
        "tiers": [
            {"min_notice_hours": t["min_notice_hours"], "fee_percent": t["fee_percent"]}
            for t in stored.get("tiers") or []
        ],
        "no_show_fee_percent": stored.get("no_show_fee_percent") or 0,
    }


def _audience(stored: dict[str, Any] | None) -> AudienceView | None:
    if not stored:
        return None
    keys = ("org_units", "job_roles", "staff_types")
    return cast(AudienceView, {k: list(stored[k]) for k in keys if stored.get(k) is not None})


def _prerequisite(stored: dict[str, Any]) -> PrerequisiteView:
    view: PrerequisiteView = {"course_code": stored["course_code"]}
    if stored.get("within_months") is not None:
        view["within_months"] = stored["within_months"]
    return view


def _question(stored: dict[str, Any]) -> QuestionView:
    view: QuestionView = {
        "id": stored["id"],
        "label": stored["label"],
        "kind": stored.get("kind") or "text",
        "required": bool(stored.get("required")),
    }
    if stored.get("choices") is not None:
        view["choices"] = list(stored["choices"])
    return view


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
