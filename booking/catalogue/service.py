"""Courses and sessions: create and change (administrators), read (everyone), roster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain.money import Money
from booking import policy
from booking.bookings import ACTIVE_STATES
from booking.clock import Clock
from booking.db import Database, announce
from booking.domain.approvals import approver_label
from booking.domain.eligibility import QUESTION_KINDS
from booking.domain.schedule import (
    DateSlot,
    ScheduleError,
    SeatCounts,
    make_slot,
    session_status,
    signup_window,
    validate_capacity,
    validate_dates,
)
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.dates import active_dates, date_views, local, slots
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from booking.kernel.history import facilitator_ids, forget_facilitators
from booking.kernel.locks import lock_bookings, lock_session
from booking.kernel.outbox import queue_email, session_channel
from booking.kernel.tx import with_retry
from booking.kernel.views import (
    CourseSummaryView,
    CourseView,
    MoveTargetView,
    Page,
    RosterRowView,
    RosterView,
    SessionView,
    money,
)
from booking.models import Booking, Course, Person, Room, SessionDate, SessionFacilitator
from booking.models import Session as SessionRow
from booking.reads.bookings import booking_views
from booking.seats import promote_waiting, withdraw_place
from booking.seats.counts import session_views

APPROVAL_STEPS = ("self", "manager", "budget_holder", "admin")
STAFF_TYPES = ("payroll", "casual", "associate", "external")
WAITLIST_MODES = ("auto", "offer", "off")


# ---------------------------------------------------------------------------------------------
# Courses


@dataclass(frozen=True, slots=True)
class CourseInput:
    code: str
    title: str
    summary: str = ""
    price: Money | None = None
    approval: list[str] = field(default_factory=list)
    cancellation_policy: dict[str, Any] | None = None
    audience: dict[str, Any] | None = None
    prerequisites: list[dict[str, Any]] = field(default_factory=list)
    allow_multiple_bookings: bool = False
    questions: list[dict[str, Any]] = field(default_factory=list)
    terms_text: str | None = None
    certification_months: int | None = None
    certification_window_days: int | None = None


def _validate_course(data: CourseInput) -> None:
    if not data.code.strip() or len(data.code) > 64:
        raise InvalidError("A course code is required (at most 64 characters).", "code")
    if not data.title.strip() or len(data.title) > 300:
        raise InvalidError("A course title is required (at most 300 characters).", "title")
    if data.price is not None and data.price.amount < 0:
        raise InvalidError("A price cannot be negative.", "price")
    for step in data.approval:
        if step not in APPROVAL_STEPS:
            raise InvalidError(
                f"“{step}” is not an approval step; use self, manager, budget_holder or admin.",
                "approval",
            )
    if len(set(data.approval)) != len(data.approval):
        raise InvalidError("An approval step is listed twice.", "approval")
    policy_ = data.cancellation_policy
    if policy_ is not None:
        tiers = policy_.get("tiers", [])
        if not isinstance(tiers, list):
            raise InvalidError("Cancellation tiers must be a list.", "cancellation_policy")
        for tier in tiers:
            hours, percent = tier.get("min_notice_hours"), tier.get("fee_percent")
            if not isinstance(hours, int) or hours < 0:
                raise InvalidError(
                    "Each cancellation tier needs min_notice_hours ≥ 0.", "cancellation_policy"
                )
            if not isinstance(percent, int) or not 0 <= percent <= 100:
                raise InvalidError(
                    "Each cancellation tier needs fee_percent from 0 to 100.",
                    "cancellation_policy",
                )
        no_show = policy_.get("no_show_fee_percent", 0)
        if not isinstance(no_show, int) or not 0 <= no_show <= 100:
            raise InvalidError("no_show_fee_percent must be from 0 to 100.", "cancellation_policy")
    audience = data.audience or {}
    for key in ("org_units", "job_roles", "staff_types"):
        value = audience.get(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise InvalidError(f"audience.{key} must be a list of strings.", "audience")
    for staff_type in audience.get("staff_types") or []:
        if staff_type not in STAFF_TYPES:
            raise InvalidError(
                f"“{staff_type}” is not a staff type; use payroll, casual, associate or external.",
                "audience",
            )
    for prerequisite in data.prerequisites:
        if not isinstance(prerequisite.get("course_code"), str):
            raise InvalidError("Each prerequisite needs a course_code.", "prerequisites")
        within = prerequisite.get("within_months")
        if within is not None and (not isinstance(within, int) or not 1 <= within <= 240):
            raise InvalidError("within_months must be from 1 to 240.", "prerequisites")
        if prerequisite["course_code"] == data.code:
            raise InvalidError("A course cannot be its own prerequisite.", "prerequisites")
    if "self" in data.approval and not (data.terms_text or "").strip():
        raise InvalidError(
            "Self-authorisation means accepting the course's terms: give the terms text.",
            "terms_text",
        )
    if data.terms_text is not None and len(data.terms_text) > 20_000:
        raise InvalidError("Terms are limited to 20,000 characters.", "terms_text")
    if data.certification_months is not None:
        if not 1 <= data.certification_months <= 240:
            raise InvalidError("certification months must be from 1 to 240.", "certification")
        window = data.certification_window_days or 0
        if not 0 <= window <= data.certification_months * 31:
            raise InvalidError(
                "The renewal window must open between 0 days and the certification's length "
                "before expiry.",
                "certification",
            )
    seen: set[str] = set()
    for q in data.questions:
        qid, label, kind = q.get("id"), q.get("label"), q.get("kind", "text")
        if not isinstance(qid, str) or not qid.strip() or len(qid) > 64:
            raise InvalidError("Each question needs an id of at most 64 characters.", "questions")
        if qid in seen:
            raise InvalidError(f"Question id {qid} is used twice.", "questions")
        seen.add(qid)
        if not isinstance(label, str) or not label.strip():
            raise InvalidError(f"Question {qid} needs a label.", "questions")
        if kind not in QUESTION_KINDS:
            raise InvalidError(f"Question {qid}: kind must be text, choice or yes_no.", "questions")
        choices = q.get("choices") or []
        if kind == "choice" and (
            len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            raise InvalidError(f"Question {qid} needs at least two choices.", "questions")


async def create_course(db: Database, clock: Clock, actor: Actor, data: CourseInput) -> CourseView:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can create courses.")
    _validate_course(data)

    async def attempt() -> CourseView:
        async with db.transaction() as s:
            now = clock.now()
            course = Course(created_at=now, terms_version=1)
            await _apply(s, course, data, now=now)
            s.add(course)
            await s.flush()
            await audit.record(
                s,
                action="course.created",
                now=now,
                actor=actor,
                target=f"course {course.id}",
                details={"code": course.code, "title": course.title},
            )
            return _course_view(course, [])

    return await with_retry(attempt)


async def update_course(
    db: Database, clock: Clock, actor: Actor, course_id: int, data: CourseInput
) -> CourseView:
    """Replace a course's catalogue details (the code stays unique). Sessions are untouched.
    Changed terms get a new version: learners who accepted the old one keep that record."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change courses.")
    _validate_course(data)

    async def attempt() -> CourseView:
        async with db.transaction() as s:
            now = clock.now()
            course = await s.scalar(select(Course).where(Course.id == course_id).with_for_update())
            if course is None:
                raise NotFoundError(f"There is no course {course_id}.")
            await _apply(s, course, data, now=now)
            await s.flush()
            await audit.record(
                s,
                action="course.changed",
                now=now,
                actor=actor,
                target=f"course {course.id}",
                details={"code": course.code, "title": course.title},
            )
            return (await _with_sessions(s, actor, [course], now=now, upcoming_only=False))[0]

    return await with_retry(attempt)


async def _apply(s: AsyncSession, course: Course, data: CourseInput, *, now: datetime) -> None:
    code = data.code.strip()
    clash = select(Course.id).where(Course.code == code)
    if course.id is not None:
        clash = clash.where(Course.id != course.id)
    if await s.scalar(clash) is not None:
        raise ConflictError(f"A course with code {code} already exists.")
    unknown_units = await _unknown_org_units(s, (data.audience or {}).get("org_units") or [])
    if unknown_units:
        raise InvalidError(
            "Unknown organisation units in the audience: " + ", ".join(unknown_units), "audience"
        )
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


@dataclass(frozen=True, slots=True)
class SignUpForm:
    """What the sign-up form asks: questions, the terms to accept, and who must approve."""

    questions: list[dict[str, Any]]
    terms_text: str | None
    terms_version: int
    needs_terms: bool
    approvers: list[str]
    # The course's price, shown where the form asks for a cost code to pay it ("£150.00").
    price: str | None = None


async def sign_up_form(db: Database, course_id: int) -> SignUpForm:
    async with db.reading() as s:
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        steps = list((course.approval or {}).get("steps", []))
        return SignUpForm(
            questions=list((course.questions or {}).get("items", [])),
            terms_text=course.terms_text,
            terms_version=course.terms_version,
            needs_terms="self" in steps,
            approvers=[approver_label(k) for k in steps if k != "self"],
            price=Money(course.price_amount, course.price_currency).display()
            if course.price_amount
            else None,
        )


async def _unknown_org_units(s: AsyncSession, codes: list[str]) -> list[str]:
    from booking.models import OrgUnit

    if not codes:
        return []
    known = set((await s.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(codes)))).all())
    return sorted(set(codes) - known)


def _course_view(course: Course, sessions: list[SessionView]) -> CourseView:
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
    )


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
    if not policy.can_browse_catalogue(actor):
        raise ForbiddenError("The catalogue is for people, not machine clients.")
    async with db.reading() as s:
        stmt = _matching(select(Course), query=query, cursor=cursor, limit=limit)
        courses = list((await s.scalars(stmt)).all())
        more = len(courses) > limit
        courses = courses[:limit]
        views = (
            await _with_sessions(s, actor, courses, now=clock.now(), upcoming_only=True)
            if (with_sessions)
            else [_course_view(c, []) for c in courses]
        )
        return Page(views, str(courses[-1].id) if more and courses else None)


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
    if not policy.can_browse_catalogue(actor):
        raise ForbiddenError("The catalogue is for people, not machine clients.")
    async with db.reading() as s:
        now = clock.now()
        upcoming = (
            select(func.count())
            .where(SessionRow.course_id == Course.id, SessionRow.ends_at > now)
            .correlate(Course)
        )
        if not policy.can_see_drafts(actor):
            upcoming = upcoming.where(SessionRow.status != "draft")
        stmt = _matching(
            select(
                Course.id,
                Course.code,
                Course.title,
                Course.summary,
                Course.price_amount,
                Course.price_currency,
                upcoming.scalar_subquery().label("upcoming"),
            ),
            query=query,
            cursor=cursor,
            limit=limit,
        )
        rows = (await s.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        CourseSummaryView(
            r.id, r.code, r.title, r.summary, money(r.price_amount, r.price_currency), r.upcoming
        )
        for r in rows
    ]
    return Page(items, str(rows[-1].id) if more and rows else None)


async def _with_sessions(
    s: AsyncSession, actor: Actor, courses: list[Course], *, now: datetime, upcoming_only: bool
) -> list[CourseView]:
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
    return [_course_view(c, by_course.get(c.id, [])) for c in courses]


async def get_course(
    db: Database, clock: Clock, actor: Actor, course_id: int, *, upcoming_only: bool = False
) -> CourseView:
    if not policy.can_browse_catalogue(actor):
        raise ForbiddenError("The catalogue is for people, not machine clients.")
    async with db.reading() as s:
        course = await s.get(Course, course_id)
        if course is None:
            raise NotFoundError(f"There is no course {course_id}.")
        return (
            await _with_sessions(s, actor, [course], now=clock.now(), upcoming_only=upcoming_only)
        )[0]


# ---------------------------------------------------------------------------------------------
# Sessions


@dataclass(frozen=True, slots=True)
class DateInput:
    start: datetime
    end: datetime
    timezone: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RoomInput:
    name: str
    address: str | None = None
    capacity: int | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True)
class SessionInput:
    dates: list[DateInput]
    capacity: int
    room: RoomInput | None = None
    virtual_link: str | None = None
    facilitators: list[str] = field(default_factory=list)
    waitlist_mode: str = "auto"
    offer_hours: int = 24
    signup_opens: datetime | None = None
    signup_closes: datetime | None = None
    min_bookings: int = 0
    status: str = "open"
    auto_cancel_below_min: bool = False
    # An administrator's reason to schedule despite a room or trainer clash.
    override_reason: str | None = None


_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class SessionChanges:
    """A PATCH: only the fields given change."""

    dates: list[DateInput] | None = None
    capacity: int | None = None
    room: RoomInput | None = _UNSET
    virtual_link: str | None = _UNSET
    facilitators: list[str] | None = None
    waitlist_mode: str | None = None
    offer_hours: int | None = None
    signup_opens: datetime | None = _UNSET
    signup_closes: datetime | None = _UNSET
    min_bookings: int | None = None
    status: str | None = None
    auto_cancel_below_min: bool | None = None
    override_reason: str | None = None


def _slots(dates: list[DateInput]) -> list:
    try:
        return validate_dates(
            [make_slot(d.start, d.end, d.timezone, index=i) for i, d in enumerate(dates)]
        )
    except ScheduleError as exc:
        raise InvalidError(exc.message, exc.field) from exc


def _check_common(
    capacity: int | None,
    waitlist_mode: str | None,
    offer_hours: int | None,
    min_bookings: int | None,
) -> None:
    try:
        if capacity is not None:
            validate_capacity(capacity)
    except ScheduleError as exc:
        raise InvalidError(exc.message, exc.field) from exc
    if waitlist_mode is not None and waitlist_mode not in WAITLIST_MODES:
        raise InvalidError("waitlist_mode must be auto, offer or off.", "waitlist_mode")
    if offer_hours is not None and not 1 <= offer_hours <= 24 * 14:
        raise InvalidError("offer_hours must be from 1 to 336 (two weeks).", "offer_hours")
    if min_bookings is not None and min_bookings < 0:
        raise InvalidError("min_bookings cannot be negative.", "min_bookings")


async def create_session(
    db: Database, clock: Clock, actor: Actor, course_id: int, data: SessionInput
) -> SessionView:
    """Schedule a session of a course. Sign-up closes 24 h before the first date by default."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can schedule sessions.")
    _check_common(data.capacity, data.waitlist_mode, data.offer_hours, data.min_bookings)
    if data.status not in ("open", "draft"):
        raise InvalidError("A new session's status is open or draft.", "status")
    slots_ = _slots(data.dates)
    try:
        opens, closes = signup_window(slots_[0].start, data.signup_opens, data.signup_closes)
    except ScheduleError as exc:
        raise InvalidError(exc.message, exc.field) from exc

    async def attempt() -> SessionView:
        async with db.transaction() as s:
            now = clock.now()
            course = await s.get(Course, course_id)
            if course is None:
                raise NotFoundError(f"There is no course {course_id}.")
            facilitator_ids = await _facilitator_ids(s, data.facilitators)
            room_id = await _room_id(s, data.room)
            await _refuse_clashes(
                s, None, slots_, room_id, facilitator_ids, override=data.override_reason
            )
            session = SessionRow(
                course_id=course.id,
                capacity=data.capacity,
                seats_held=0,
                waitlist_seq=0,
                room_id=room_id,
                virtual_link=data.virtual_link or None,
                waitlist_mode=data.waitlist_mode,
                offer_hours=data.offer_hours,
                signup_opens=opens,
                signup_closes=closes,
                min_bookings=data.min_bookings,
                auto_cancel_below_min=data.auto_cancel_below_min,
                status=data.status,
                starts_at=slots_[0].start,
                ends_at=max(x.end for x in slots_),
                sequence=0,
                created_at=now,
                updated_at=now,
            )
            s.add(session)
            await s.flush()
            for slot in slots_:
                s.add(
                    SessionDate(
                        session_id=session.id,
                        start_at=slot.start,
                        end_at=slot.end,
                        timezone=slot.timezone,
                    )
                )
            for person_id in facilitator_ids:
                s.add(SessionFacilitator(session_id=session.id, person_id=person_id))
            forget_facilitators(s)
            await s.flush()
            await audit.record(
                s,
                action="session.created",
                now=now,
                actor=actor,
                target=f"session {session.id}",
                details={"course": course.code, "override": data.override_reason},
            )
            return (await session_views(s, [session], now=now, reveal_links=True))[0]

    return await with_retry(attempt)


async def _refuse_clashes(
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
    candidates = (await s.execute(stmt)).all()
    if not candidates:
        return
    busy_trainers: dict[int, set[int]] = {}
    if facilitators:
        for sid, pid in await s.execute(
            select(SessionFacilitator.session_id, SessionFacilitator.person_id).where(
                SessionFacilitator.session_id.in_({c.id for c in candidates}),
                SessionFacilitator.person_id.in_(list(facilitators)),
            )
        ):
            busy_trainers.setdefault(sid, set()).add(pid)
    names = (
        dict(
            (
                await s.execute(
                    select(Person.id, Person.name).where(
                        Person.id.in_({p for ps in busy_trainers.values() for p in ps})
                    )
                )
            ).all()
        )
        if busy_trainers
        else {}
    )
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


def format_when(start: datetime, end: datetime, tz: str) -> str:
    a, b = local(start, tz), local(end, tz)
    return f"{a:%a %-d %b %Y}, {a:%H:%M}–{b:%H:%M} {a:%Z}"


async def _facilitator_ids(s: AsyncSession, emails: list[str]) -> list[int]:
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    if not wanted:
        return []
    found = dict(
        (await s.execute(select(Person.email, Person.id).where(Person.email.in_(wanted)))).all()
    )
    missing = [e for e in wanted if e not in found]
    if missing:
        raise InvalidError(
            "No person with these facilitator emails: " + ", ".join(missing), "facilitators"
        )
    return [found[e] for e in wanted]


async def _room_id(s: AsyncSession, room: RoomInput | None) -> int | None:
    if room is None:
        return None
    name = room.name.strip()
    if not name:
        raise InvalidError("A room needs a name.", "room")
    if room.capacity is not None and room.capacity < 0:
        raise InvalidError("A room's capacity cannot be negative.", "room")
    existing = await s.scalar(select(Room).where(Room.name == name))
    if existing is not None:
        # Details given with a known room update it.
        for attr in ("address", "capacity", "details"):
            value = getattr(room, attr)
            if value is not None:
                setattr(existing, attr, value)
        return existing.id
    try:
        async with s.begin_nested():
            new = Room(
                name=name, address=room.address, capacity=room.capacity, details=room.details
            )
            s.add(new)
            await s.flush()
            return new.id
    except IntegrityError:
        return await s.scalar(select(Room.id).where(Room.name == name))


async def get_session(db: Database, clock: Clock, actor: Actor, session_id: int) -> SessionView:
    async with db.reading() as s:
        row = await s.get(SessionRow, session_id)
        if row is None or (row.status == "draft" and not policy.can_see_drafts(actor)):
            raise NotFoundError(f"There is no session {session_id}.")
        if not policy.is_person(actor):
            raise ForbiddenError("Sessions are for people, not machine clients.")
        reveal = await _may_see_link(s, actor, row.id)
        return (await session_views(s, [row], now=clock.now(), reveal_links=reveal))[0]


async def _may_see_link(s: AsyncSession, actor: Actor, session_id: int) -> bool:
    """The joining link goes only to booked learners, facilitators and administrators."""
    if actor.is_admin:
        return True
    if await s.scalar(
        select(SessionFacilitator.person_id).where(
            SessionFacilitator.session_id == session_id,
            SessionFacilitator.person_id == actor.person_id,
        )
    ):
        return True
    return bool(
        await s.scalar(
            select(Booking.id).where(
                Booking.session_id == session_id,
                Booking.learner_id == actor.person_id,
                Booking.state == "booked",
            )
        )
    )


async def update_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, changes: SessionChanges
) -> SessionView:
    """Change dates, room, capacity and the rest. Attendees are sent updated invitations; a raised
    capacity promotes from the waiting list; capacity below the seats held is refused."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can change sessions.")
    _check_common(
        changes.capacity, changes.waitlist_mode, changes.offer_hours, changes.min_bookings
    )
    if changes.status is not None and changes.status not in ("open", "draft"):
        raise InvalidError(
            "status can be set to open or draft; cancel a session with its cancel action.",
            "status",
        )

    async def attempt() -> SessionView:
        async with db.transaction() as s:
            now = clock.now()
            session = await lock_session(s, session_id)
            if session is None:
                raise NotFoundError(f"There is no session {session_id}.")
            if session.status == "cancelled":
                raise ConflictError("This session has been cancelled and can no longer change.")
            material = False
            removed_dates: list[int] = []

            if changes.dates is not None:
                dates_changed, removed_dates = await _replace_dates(
                    s, session, changes.dates, now=now
                )
                material |= dates_changed
            if changes.capacity is not None and changes.capacity != session.capacity:
                if changes.capacity < session.seats_held:
                    raise ConflictError(
                        f"Capacity cannot go below the {session.seats_held} places already "
                        "held; cancel or move bookings first."
                    )
                session.capacity = changes.capacity
            if changes.room is not _UNSET:
                new_room = await _room_id(s, changes.room)
                material |= new_room != session.room_id
                session.room_id = new_room
            if changes.virtual_link is not _UNSET:
                material |= (changes.virtual_link or None) != session.virtual_link
                session.virtual_link = changes.virtual_link or None
            if changes.facilitators is not None:
                ids = await _facilitator_ids(s, changes.facilitators)
                await s.execute(
                    delete(SessionFacilitator).where(SessionFacilitator.session_id == session.id)
                )
                for person_id in ids:
                    s.add(SessionFacilitator(session_id=session.id, person_id=person_id))
                forget_facilitators(s)
            for attr in (
                "waitlist_mode",
                "offer_hours",
                "min_bookings",
                "status",
                "auto_cancel_below_min",
            ):
                value = getattr(changes, attr)
                if value is not None:
                    setattr(session, attr, value)
            if changes.signup_opens is not _UNSET:
                session.signup_opens = changes.signup_opens
            if changes.signup_closes is not _UNSET:
                session.signup_closes = changes.signup_closes
            if (
                changes.signup_opens is not _UNSET
                or changes.signup_closes is not _UNSET
                or (changes.dates is not None)
            ):
                try:
                    session.signup_opens, session.signup_closes = signup_window(
                        session.starts_at,
                        session.signup_opens,
                        None
                        if changes.dates is not None and changes.signup_closes is _UNSET
                        else session.signup_closes,
                    )
                except Exception as exc:
                    message = getattr(exc, "message", str(exc))
                    raise InvalidError(message, getattr(exc, "field", None)) from exc
            session.updated_at = now
            await s.flush()
            if (
                changes.dates is not None
                or changes.room is not _UNSET
                or changes.facilitators is not None
            ):
                current = slots((await active_dates(s, [session.id]))[session.id])
                await _refuse_clashes(
                    s,
                    session.id,
                    current,
                    session.room_id,
                    list(await facilitator_ids(s, session.id)),
                    override=changes.override_reason,
                )
            if material:
                session.sequence += 1
                await _notify_changed(s, session, now=now, removed_dates=removed_dates)
            await promote_waiting(s, session, now=now)
            await audit.record(
                s,
                action="session.changed",
                now=now,
                actor=actor,
                target=f"session {session.id}",
                details={
                    "changed": ", ".join(_changed_fields(changes)),
                    "attendees told": material,
                    "override": changes.override_reason,
                },
            )
            announce(s, session_channel(session.id))
            return (await session_views(s, [session], now=now, reveal_links=True))[0]

    return await with_retry(attempt)


def _changed_fields(changes: SessionChanges) -> list[str]:
    """The fields a change gives (a PATCH sends only those it changes). Where the default is
    unset, None is a value given (no room, no link); elsewhere None means not given."""
    given = []
    for name, spec in SessionChanges.__dataclass_fields__.items():
        value = getattr(changes, name)
        if name == "override_reason" or value is _UNSET:
            continue
        if value is None and spec.default is not _UNSET:
            continue
        given.append(name)
    return given


async def _replace_dates(
    s: AsyncSession, session: SessionRow, dates: list[DateInput], *, now: datetime
) -> tuple[bool, list[int]]:
    """Keep the dates whose id is repeated (their invitation UIDs stay), add new ones, remove
    the rest. Returns whether anything changed and the ids of the dates removed."""
    current = {
        d.id: d
        for d in await s.scalars(
            select(SessionDate).where(
                SessionDate.session_id == session.id, SessionDate.removed_at.is_(None)
            )
        )
    }
    for d in dates:
        if d.id is not None and d.id not in current:
            raise InvalidError(f"Date {d.id} is not a date of this session.", "dates")
    new_slots = _slots(dates)  # validates all, in order
    changed = False
    by_input = sorted(
        zip(
            dates,
            [make_slot(d.start, d.end, d.timezone, index=i) for i, d in enumerate(dates)],
            strict=True,
        ),
        key=lambda pair: pair[1].start,
    )
    await _refuse_dates_in_the_past(s, session, current, by_input, dates, now=now)
    kept = {d.id for d in dates if d.id is not None}
    removed: list[int] = []
    for date_id, row in current.items():
        if date_id not in kept:
            row.removed_at = now
            removed.append(date_id)
            changed = True
    for given, slot in by_input:
        if given.id is not None:
            row = current[given.id]
            if (row.start_at, row.end_at, row.timezone) != (slot.start, slot.end, slot.timezone):
                row.start_at, row.end_at, row.timezone = slot.start, slot.end, slot.timezone
                changed = True
        else:
            s.add(
                SessionDate(
                    session_id=session.id,
                    start_at=slot.start,
                    end_at=slot.end,
                    timezone=slot.timezone,
                )
            )
            changed = True
    session.starts_at = new_slots[0].start
    session.ends_at = max(x.end for x in new_slots)
    return changed, removed


async def _refuse_dates_in_the_past(
    s: AsyncSession,
    session: SessionRow,
    current: dict[int, SessionDate],
    by_input: list[tuple[DateInput, DateSlot]],
    dates: list[DateInput],
    *,
    now: datetime,
) -> None:
    """A session that people hold or wait for a place on is not moved into the past: they would
    be sent an invitation for a time that has gone. Dates already past and kept as they are do
    not count. A session run elsewhere is recorded as a new session (sign-up closed), not by
    moving one that people booked."""
    for given, slot in by_input:
        if slot.start >= now:
            continue
        if given.id is not None:
            row = current[given.id]
            if (row.start_at, row.end_at, row.timezone) == (slot.start, slot.end, slot.timezone):
                continue
        holders = await s.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.session_id == session.id, Booking.state.in_(ACTIVE_STATES))
        )
        if not holders:
            return
        index = dates.index(given)
        people = "person holds or waits for" if holders == 1 else "people hold or wait for"
        raise InvalidError(
            f"{format_when(slot.start, slot.end, slot.timezone)} is in the past, and {holders} "
            f"{people} a place on this session: choose a date still to come. To record a "
            "session run elsewhere, schedule a new one with sign-up closed.",
            f"dates[{index}].start",
        )


async def _notify_changed(
    s: AsyncSession, session: SessionRow, *, now: datetime, removed_dates: list[int]
) -> None:
    """Everyone holding a place gets the updated invitation (SEQUENCE raised); a removed date
    of a multi-date session is cancelled on its own (METHOD:CANCEL for that date only)."""
    holders = (
        await s.scalars(
            select(Booking).where(
                Booking.session_id == session.id,
                Booking.state.in_(("booked", "offered", "pending_payment")),
            )
        )
    ).all()
    for booking in holders:
        booking.sequence += 1
        if removed_dates:
            await queue_email(
                s,
                topic="session.date_removed",
                recipient_id=booking.learner_id,
                booking_id=booking.id,
                session_id=session.id,
                now=now,
                dedupe_key=f"session.date_removed:{booking.id}:{booking.sequence}",
                payload={
                    "booking_id": booking.id,
                    "session_id": session.id,
                    "sequence": booking.sequence,
                    "date_ids": removed_dates,
                },
            )
        await queue_email(
            s,
            topic="session.changed",
            recipient_id=booking.learner_id,
            booking_id=booking.id,
            session_id=session.id,
            now=now,
            dedupe_key=f"session.changed:{booking.id}:{booking.sequence}",
            payload={
                "booking_id": booking.id,
                "session_id": session.id,
                "sequence": booking.sequence,
            },
        )


async def cancel_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, *, reason: str
) -> SessionView:
    """Cancel a session: every booking and waitlist place is cancelled without fee, and told."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can cancel sessions.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError("Give a reason for cancelling the session.", "reason")
    if len(reason) > 500:
        raise InvalidError("The reason is limited to 500 characters.", "reason")

    async def attempt() -> SessionView:
        async with db.transaction() as s:
            now = clock.now()
            session = await lock_session(s, session_id)
            if session is None:
                raise NotFoundError(f"There is no session {session_id}.")
            if session.status == "cancelled":
                raise ConflictError("This session is already cancelled.")
            # Stored status first, so releasing seats below promotes nobody.
            session.status = "cancelled"
            session.cancel_reason = reason
            session.sequence += 1
            session.updated_at = now
            for booking in await lock_bookings(
                s, Booking.session_id == session.id, Booking.state.in_(ACTIVE_STATES)
            ):
                await withdraw_place(
                    s,
                    booking,
                    session,
                    actor=actor,
                    now=now,
                    reason=f"Session cancelled by the organiser: {reason}",
                    details=None,
                    notify="session.cancelled",
                )
            await s.execute(
                update(SessionRow).where(SessionRow.id == session.id).values(seats_held=0)
            )
            session.seats_held = 0
            await audit.record(
                s,
                action="session.cancelled",
                now=now,
                actor=actor,
                target=f"session {session.id}",
                details={"reason": reason},
            )
            announce(s, session_channel(session.id))
            return (await session_views(s, [session], now=now, reveal_links=True))[0]

    return await with_retry(attempt)


async def roster(db: Database, clock: Clock, actor: Actor, session_id: int) -> RosterView:
    """Booked, offered, waitlisted (in promotion order), pending and cancelled learners."""
    async with db.reading() as s:
        view, _ = await _roster(s, actor, session_id, now=clock.now())
        return view


async def roster_and_move_targets(
    db: Database, clock: Clock, actor: Actor, session_id: int
) -> tuple[RosterView, list[MoveTargetView]]:
    """The roster page: the roster, and the course's other upcoming sessions, open or full, that
    a booked learner could be moved to (read together, without building their views)."""
    async with db.reading() as s:
        now = clock.now()
        view, row = await _roster(s, actor, session_id, now=now)
        return view, await _move_targets(s, row, now=now)


async def _move_targets(
    s: AsyncSession, session: SessionRow, *, now: datetime
) -> list[MoveTargetView]:
    booked = (
        select(func.count())
        .where(Booking.session_id == SessionRow.id, Booking.state == "booked")
        .correlate(SessionRow)
        .scalar_subquery()
    )
    rows = (
        await s.execute(
            select(
                SessionRow.id,
                SessionRow.status,
                SessionRow.starts_at,
                SessionRow.ends_at,
                SessionRow.signup_opens,
                SessionRow.signup_closes,
                SessionRow.capacity,
                SessionRow.seats_held,
                booked.label("booked"),
            )
            .where(
                SessionRow.course_id == session.course_id,
                SessionRow.id != session.id,
                SessionRow.status.not_in(("draft", "cancelled")),
                SessionRow.ends_at > now,
            )
            .order_by(SessionRow.starts_at, SessionRow.id)
        )
    ).all()
    # The same test as the session's status everywhere else: open or full, nothing else.
    rows = [
        r
        for r in rows
        if session_status(
            stored=r.status,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            signup_opens=r.signup_opens,
            signup_closes=r.signup_closes,
            seats=SeatCounts(r.capacity, r.seats_held),
            now=now,
        )
        in ("open", "full")
    ]
    dates = await active_dates(s, [r.id for r in rows])
    return [MoveTargetView(r.id, date_views(dates[r.id]), r.booked, r.capacity) for r in rows]


async def _roster(
    s: AsyncSession, actor: Actor, session_id: int, *, now: datetime
) -> tuple[RosterView, SessionRow]:
    row = await s.get(SessionRow, session_id)
    if row is None:
        raise NotFoundError(f"There is no session {session_id}.")
    facilitators = set(
        (
            await s.scalars(
                select(SessionFacilitator.person_id).where(
                    SessionFacilitator.session_id == session_id
                )
            )
        ).all()
    )
    if not policy.can_view_roster(actor, facilitators):
        if policy.is_person(actor) and (row.status != "draft" or actor.is_admin):
            raise ForbiddenError("Only the session's trainers and administrators see its roster.")
        raise NotFoundError(f"There is no session {session_id}.")
    ids = list(
        (
            await s.scalars(
                select(Booking.id)
                .where(Booking.session_id == session_id)
                .order_by(Booking.waitlist_seq.nulls_last(), Booking.created_at, Booking.id)
            )
        ).all()
    )
    bookings = await booking_views(s, ids, now=now, with_history=False)
    view = RosterView(
        session=(await session_views(s, [row], now=now, reveal_links=True))[0],
        booked=[],
        offered=[],
        waitlisted=[],
        pending=[],
        cancelled=[],
        attended=[],
    )
    for b in bookings:
        item = RosterRowView(
            booking_id=b.id,
            learner=b.learner,
            state=b.state,
            waitlist_position=b.waitlist_position,
            special_requirements=b.special_requirements,
            answers=b.answers,
            offer_expires_at=b.offer_expires_at,
            cancel_reason=b.cancel_reason,
            override_reason=b.override_reason,
        )
        bucket = {
            "booked": view.booked,
            "offered": view.offered,
            "waitlisted": view.waitlisted,
            "pending_approval": view.pending,
            "pending_payment": view.pending,
            "cancelled": view.cancelled,
            "declined": view.cancelled,
        }.get(b.state, view.attended)
        bucket.append(item)
    view.waitlisted.sort(key=lambda r: r.waitlist_position or 0)
    return view, row


async def count_table(db: Database, table: Any) -> int:
    """Row count of a table: used by tests and the admin overview."""
    async with db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)
