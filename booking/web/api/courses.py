"""API: the catalogue of courses, and whether I could book one."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, post, put
from litestar.params import Body, Parameter

from booking import catalogue, eligibility
from booking.catalogue import UNSET, CourseInput, DiscountInput
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import CourseView
from booking.web.api import schemas
from booking.web.api.answers_core import CoursePage, Eligibility, eligibility_reason
from booking.web.api.examples_core import COURSE_REQUEST
from booking.web.api.params import CursorParam, LimitParam, cursor_of, money_in
from booking.web.inputs import admins_only


def _course_input(data: schemas.CourseIn) -> CourseInput:
    return CourseInput(
        code=data.code,
        title=data.title,
        summary=data.summary,
        price=money_in(data.price, "price"),
        approval=list(data.approval),
        cancellation_policy=msgspec.to_builtins(data.cancellation_policy)
        if data.cancellation_policy
        else None,
        audience={k: v for k, v in msgspec.to_builtins(data.audience).items() if v}
        if data.audience
        else None,
        prerequisites=[
            {k: v for k, v in msgspec.to_builtins(p).items() if v is not None}
            for p in data.prerequisites
        ],
        allow_multiple_bookings=data.allow_multiple_bookings,
        questions=[
            {k: v for k, v in msgspec.to_builtins(q).items() if v is not None}
            for q in data.questions
        ],
        terms_text=data.terms.text if data.terms else None,
        certification_months=data.certification.months if data.certification else None,
        certification_window_days=data.certification.window_days if data.certification else None,
        category=UNSET if data.category is msgspec.UNSET else data.category,
        owner_email=UNSET if data.owner_email is msgspec.UNSET else data.owner_email,
        discount=_discount_input(data.discount),
    )


def _discount_input(data: schemas.DiscountIn | None | msgspec.UnsetType) -> Any:
    if data is msgspec.UNSET:
        return UNSET
    if data is None:
        return None
    audience = (
        {k: v for k, v in msgspec.to_builtins(data.audience).items() if v}
        if data.audience
        else None
    )
    return DiscountInput(amount=data.amount, audience=audience)


@post("/courses", summary="Create a course", guards=[admins_only])
async def create_course(
    db: Database,
    clock: Clock,
    actor: Actor,
    data: Annotated[schemas.CourseIn, Body(examples=[COURSE_REQUEST])],
) -> CourseView:
    return await catalogue.create_course(db, clock, actor, _course_input(data))


@put(
    "/courses/{course_id:int}",
    summary="Replace a course's details",
    status_code=200,
    guards=[admins_only],
)
async def update_course(
    db: Database, clock: Clock, actor: Actor, course_id: int, data: schemas.CourseIn
) -> CourseView:
    return await catalogue.update_course(db, clock, actor, course_id, _course_input(data))


@get("/courses", summary="The catalogue, with upcoming sessions")
async def list_courses(
    db: Database,
    clock: Clock,
    actor: Actor,
    cursor: str | None = CursorParam,
    q: str | None = Parameter(
        query="q",
        required=False,
        max_length=200,
        pattern=schemas.NO_NUL,
        description="Search words",
    ),
    limit: int = LimitParam,
) -> CoursePage:
    page = await catalogue.list_courses(
        db, clock, actor, query=q, cursor=cursor_of(cursor), limit=limit or 50
    )
    return CoursePage(page.items, page.next_cursor)


@get("/courses/{course_id:int}", summary="A course with its sessions")
async def get_course(db: Database, clock: Clock, actor: Actor, course_id: int) -> CourseView:
    return await catalogue.get_course(db, clock, actor, course_id)


@get("/courses/{course_id:int}/eligibility", summary="Why I could not book this course, if so")
async def course_eligibility(
    db: Database, clock: Clock, actor: Actor, course_id: int
) -> Eligibility:
    reasons = await eligibility.preview(db, clock, actor, course_id)
    return Eligibility(not reasons, [eligibility_reason(r) for r in reasons])
