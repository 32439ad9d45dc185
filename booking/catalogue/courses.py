"""Creating and changing courses (administrators)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import policy
from booking.catalogue.inputs import UNSET, CourseInput, DiscountInput
from booking.catalogue.validation import validate_course
from booking.catalogue.views import course_view, course_views
from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.kernel.views import CourseView
from booking.models import Course, OrgUnit

# A further step run in the same transaction once the course is written (given the session,
# the course's id and now): the course form saves the records' rules this way, so a crash
# between the two leaves neither. The caller wires it; the catalogue does not know records.
AlsoInTransaction = Callable[[AsyncSession, int, datetime], Awaitable[None]]


async def create_course(
    db: Database,
    clock: Clock,
    actor: Actor,
    data: CourseInput,
    *,
    also: AlsoInTransaction | None = None,
) -> CourseView:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can create courses.")
    validate_course(data)

    async def create(s: AsyncSession) -> CourseView:
        now = clock.now()
        course = Course(created_at=now, terms_version=1)
        await _apply(s, course, data, now=now)
        s.add(course)
        await s.flush()
        await _audit(s, course, action="course.created", actor=actor, now=now)
        if also is not None:
            await also(s, course.id, now)
        return course_view(course, [])

    return await tx.run(db, create)


async def update_course(
    db: Database,
    clock: Clock,
    actor: Actor,
    course_id: int,
    data: CourseInput,
    *,
    also: AlsoInTransaction | None = None,
) -> CourseView:
    """Replace a course's catalogue details (the code stays unique). Sessions are untouched.
    Changed terms get a new version: learners who accepted the old one keep that record."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change courses.")
    validate_course(data)

    async def update(s: AsyncSession) -> CourseView:
        now = clock.now()
        course = await s.scalar(select(Course).where(Course.id == course_id).with_for_update())
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        await _apply(s, course, data, now=now)
        await s.flush()
        await _audit(s, course, action="course.changed", actor=actor, now=now)
        if also is not None:
            await also(s, course.id, now)
        return (await course_views(s, actor, [course], now=now, upcoming_only=False))[0]

    return await tx.run(db, update)


async def _apply(s: AsyncSession, course: Course, data: CourseInput, *, now: datetime) -> None:
    """Write the details onto the course, once the code is free and the audience's units
    exist. Changed terms (of a course that had terms) get a new version."""
    code = data.code.strip()
    await _refuse_taken_code(s, course, code)
    unknown_units = await _unknown_org_units(s, (data.audience or {}).get("org_units") or [])
    if unknown_units:
        raise InvalidError(
            "Unknown organisation units in the audience: " + ", ".join(unknown_units), "audience"
        )
    await _apply_admin_details(s, course, data)
    if course.terms_text is not None and data.terms_text != course.terms_text:
        course.terms_version = (course.terms_version or 1) + 1
    course.code = code
    course.title = data.title.strip()
    course.summary = data.summary
    course.price_amount = data.price.amount if data.price else None
    course.price_currency = data.price.currency if data.price else "GBP"
    course.approval = {"steps": list(data.approval)}
    course.cancellation_policy = data.cancellation_policy
    course.audience = data.audience or None
    course.prerequisites = {"items": list(data.prerequisites)}
    course.allow_multiple_bookings = data.allow_multiple_bookings
    course.questions = {"items": list(data.questions)} if data.questions else None
    course.terms_text = data.terms_text
    course.certification_months = data.certification_months
    course.certification_window_days = (
        data.certification_window_days if data.certification_months else None
    )
    course.updated_at = now


async def _apply_admin_details(s: AsyncSession, course: Course, data: CourseInput) -> None:
    """Category, owner and discount: UNSET keeps what the course has (None on a new course)."""
    if data.category is not UNSET:
        course.category = (data.category or "").strip() or None
    if data.owner_email is not UNSET:
        course.owner_email = (data.owner_email or "").strip().lower() or None
    if data.discount is not UNSET:
        await _apply_discount(s, course, data.discount)
    price = data.price.amount if data.price else None
    if course.discount_amount is not None and (price is None or course.discount_amount >= price):
        raise InvalidError(
            "The discount price must be lower than the normal price (or remove the discount).",
            "discount",
        )


async def _apply_discount(s: AsyncSession, course: Course, discount: DiscountInput | None) -> None:
    if discount is None:
        course.discount_amount, course.discount_audience = None, None
        return
    audience = {k: v for k, v in (discount.audience or {}).items() if v} or None
    unknown = await _unknown_org_units(s, (audience or {}).get("org_units") or [])
    if unknown:
        raise InvalidError(
            "Unknown organisation units in the discount's audience: " + ", ".join(unknown),
            "discount_audience",
        )
    course.discount_amount, course.discount_audience = discount.amount, audience


async def _refuse_taken_code(s: AsyncSession, course: Course, code: str) -> None:
    clash = select(Course.id).where(Course.code == code)
    if course.id is not None:
        clash = clash.where(Course.id != course.id)
    if await s.scalar(clash) is not None:
        raise ConflictError(f"A course with code {code} already exists.")


async def _unknown_org_units(s: AsyncSession, codes: list[str]) -> list[str]:
    if not codes:
        return []
    known = set((await s.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(codes)))).all())
    return sorted(set(codes) - known)


async def _audit(
    s: AsyncSession, course: Course, *, action: str, actor: Actor, now: datetime
) -> None:
    await audit.record(
        s,
        action=action,
        now=now,
        actor=actor,
        target=f"course {course.id}",
        details={"code": course.code, "title": course.title},
    )
