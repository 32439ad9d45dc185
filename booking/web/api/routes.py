"""JSON API v1 handlers: thin — parse, call one service, shape the answer."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, Router, get, patch, post, put
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.params import Parameter

from billing.domain.money import Money
from billing.web import csv_download
from booking import approvals, bookings, catalogue, eligibility, people, records, roster
from booking.bookings import BookingOutcome, BookingRequest, IdempotencyClaim
from booking.catalogue import (
    UNSET,
    CourseInput,
    DateInput,
    RoomInput,
    SessionChanges,
    SessionInput,
)
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError
from booking.kernel.views import BookingView, CourseView, MoneyView, PersonView, SessionView
from booking.web.api import billing_routes, schemas
from booking.web.api.records_routes import records_api_router
from booking.web.deps import limit_booking_rate, provide_api_actor
from booking.web.inputs import MAX_ID, admins_only

CursorParam = Parameter(
    query="cursor",
    required=False,
    max_length=40,
    pattern=schemas.NO_NUL,
    description="Opaque cursor from a page",
)
LimitParam = Parameter(query="limit", ge=1, le=200, default=50, description="Page size")


def _cursor(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        cursor = int(value)
    except ValueError:
        raise InvalidError("This cursor is not one the server gave out.", "cursor") from None
    if not 0 <= cursor <= MAX_ID:
        raise InvalidError("This cursor is not one the server gave out.", "cursor")
    return cursor


def _money(m: schemas.MoneyIn | None, field: str) -> Money | None:
    if m is None:
        return None
    try:
        return Money(m.amount, m.currency.upper())
    except (TypeError, ValueError) as exc:
        raise InvalidError(str(exc), field) from exc


def _idempotency(request: Request[Any, Any, Any], actor: Actor, op: str, body: Any) -> Any:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    return IdempotencyClaim.of(actor.email, key.strip(), op, msgspec.to_builtins(body))


def _booking_response(outcome: BookingOutcome) -> Response[BookingView]:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return Response(outcome.booking, status_code=outcome.status_code, headers=headers)


# --- me, people, org units -------------------------------------------------------------------


@get("/me", summary="The person the token acts as")
async def me(db: Database, actor: Actor) -> PersonView:
    return await people.get_me(db, actor)


@get("/me/bookings", summary="Own bookings")
async def my_bookings(
    db: Database,
    clock: Clock,
    actor: Actor,
    cursor: str | None = CursorParam,
    limit: int = LimitParam,
) -> dict[str, Any]:
    page = await bookings.my_bookings(db, clock, actor, cursor=_cursor(cursor), limit=limit or 50)
    return {"items": page.items, "next_cursor": page.next_cursor}


@put(
    "/org-units",
    summary="Upsert organisation units (a tree)",
    status_code=200,
    guards=[admins_only],
)
async def put_org_units(
    db: Database, clock: Clock, actor: Actor, data: list[schemas.OrgUnitIn]
) -> dict[str, Any]:
    results = await people.upsert_org_units(
        db, clock, actor, [people.OrgUnitInput(u.code, u.name, u.parent_code) for u in data]
    )
    return {"items": [{"id": r.id, "code": r.code, "status": r.status} for r in results]}


@put("/people", summary="Upsert people", status_code=200, guards=[admins_only])
async def put_people(
    db: Database, clock: Clock, actor: Actor, data: list[schemas.PersonIn]
) -> dict[str, Any]:
    results = await people.upsert_people(
        db,
        clock,
        actor,
        [
            people.PersonInput(
                email=p.email,
                name=p.name,
                personnel_number=p.personnel_number,
                manager_email=p.manager_email,
                org_unit=p.org_unit,
                job_role=p.job_role,
                staff_type=p.staff_type,
                roles=p.roles or ["learner"],
            )
            for p in data
        ],
    )
    return {"items": [{"id": r.id, "email": r.email, "status": r.status} for r in results]}


# --- courses and sessions --------------------------------------------------------------------


def _course_input(data: schemas.CourseIn) -> CourseInput:
    return CourseInput(
        code=data.code,
        title=data.title,
        summary=data.summary,
        price=_money(data.price, "price"),
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
    )


@post("/courses", summary="Create a course", guards=[admins_only])
async def create_course(
    db: Database, clock: Clock, actor: Actor, data: schemas.CourseIn
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
) -> dict[str, Any]:
    page = await catalogue.list_courses(
        db, clock, actor, query=q, cursor=_cursor(cursor), limit=limit or 50
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@get("/courses/{course_id:int}", summary="A course with its sessions")
async def get_course(db: Database, clock: Clock, actor: Actor, course_id: int) -> CourseView:
    return await catalogue.get_course(db, clock, actor, course_id)


def _dates(items: list[schemas.DateIn]) -> list[DateInput]:
    return [DateInput(d.start, d.end, d.timezone, d.id) for d in items]


def _room(room: schemas.RoomIn | None) -> RoomInput | None:
    return None if room is None else RoomInput(room.name, room.address, room.capacity, room.details)


@post("/courses/{course_id:int}/sessions", summary="Schedule a session", guards=[admins_only])
async def create_session(
    db: Database, clock: Clock, actor: Actor, course_id: int, data: schemas.SessionIn
) -> SessionView:
    return await catalogue.create_session(
        db,
        clock,
        actor,
        course_id,
        SessionInput(
            dates=_dates(data.dates),
            capacity=data.capacity,
            room=_room(data.room),
            virtual_link=data.virtual_link,
            facilitators=list(data.facilitators),
            waitlist_mode=data.waitlist_mode,
            offer_hours=data.offer_hours,
            signup_opens=data.signup_opens,
            signup_closes=data.signup_closes,
            min_bookings=data.min_bookings,
            status=data.status,
            auto_cancel_below_min=data.auto_cancel_below_min,
            override_reason=data.override_reason,
        ),
    )


@get("/sessions/{session_id:int}", summary="A session with its seat counts")
async def get_session(db: Database, clock: Clock, actor: Actor, session_id: int) -> SessionView:
    return await catalogue.get_session(db, clock, actor, session_id)


def _given(value: Any) -> Any:
    return UNSET if value is msgspec.UNSET else value


@patch("/sessions/{session_id:int}", summary="Change a session", guards=[admins_only])
async def patch_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, data: schemas.SessionPatch
) -> SessionView:
    def opt(value: Any) -> Any:
        return None if value is msgspec.UNSET else value

    return await catalogue.update_session(
        db,
        clock,
        actor,
        session_id,
        SessionChanges(
            dates=None if data.dates is msgspec.UNSET else _dates(data.dates),
            capacity=opt(data.capacity),
            room=UNSET if data.room is msgspec.UNSET else _room(data.room),
            virtual_link=_given(data.virtual_link),
            facilitators=opt(data.facilitators),
            waitlist_mode=opt(data.waitlist_mode),
            offer_hours=opt(data.offer_hours),
            signup_opens=_given(data.signup_opens),
            signup_closes=_given(data.signup_closes),
            min_bookings=opt(data.min_bookings),
            status=opt(data.status),
            auto_cancel_below_min=opt(data.auto_cancel_below_min),
            override_reason=data.override_reason,
        ),
    )


@post(
    "/sessions/{session_id:int}/cancel",
    summary="Cancel a session",
    status_code=200,
    guards=[admins_only],
)
async def cancel_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, data: schemas.ReasonIn
) -> SessionView:
    return await catalogue.cancel_session(db, clock, actor, session_id, reason=data.reason)


@get("/sessions/{session_id:int}/roster", summary="The session's roster")
async def get_roster(db: Database, clock: Clock, actor: Actor, session_id: int) -> dict[str, Any]:
    return _roster_dict(await roster.read_roster(db, clock, actor, session_id))


# --- bookings --------------------------------------------------------------------------------


@post(
    "/sessions/{session_id:int}/bookings",
    summary="Book a place (or join the waiting list)",
    description="Accepts an `Idempotency-Key` header. Refusals carry `reasons`.",
)
async def create_booking(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    data: schemas.BookingIn,
) -> Response[BookingView]:
    await limit_booking_rate(request, actor, data.learner_email)
    claim = _idempotency(request, actor, f"book:{session_id}", data)
    outcome = await bookings.book_place(
        db,
        clock,
        actor,
        BookingRequest(
            session_id=session_id,
            learner_email=data.learner_email,
            cost_code=data.cost_code,
            special_requirements=data.special_requirements,
            answers=data.answers,
            accept_terms=data.accept_terms,
            override_reason=data.override_reason,
            overbook=data.overbook,
            move_from=data.move_from,
        ),
        idempotency=claim,
        seat_guard=request.app.state.settings.seat_guard,
    )
    return _booking_response(outcome)


@get("/bookings/{booking_id:int}", summary="A booking with its history")
async def get_booking(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    return await bookings.get_booking(db, clock, actor, booking_id)


@post("/bookings/{booking_id:int}/cancel", summary="Cancel a booking", status_code=200)
async def cancel_booking(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    data: schemas.CancelIn,
) -> Response[BookingView]:
    claim = _idempotency(request, actor, f"cancel:{booking_id}", data)
    quoted = _money(data.quoted_fee, "quoted_fee")
    outcome = await bookings.cancel_booking(
        db,
        clock,
        actor,
        booking_id,
        reason=data.reason,
        details=data.details,
        quoted_fee=MoneyView(quoted.amount, quoted.currency) if quoted else None,
        idempotency=claim,
    )
    return _booking_response(outcome)


@post("/bookings/{booking_id:int}/accept", summary="Accept a waitlist offer", status_code=200)
async def accept_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    return await bookings.accept_offer(db, clock, actor, booking_id)


@post("/bookings/{booking_id:int}/decline", summary="Decline a waitlist offer", status_code=200)
async def decline_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    return await bookings.decline_offer(db, clock, actor, booking_id)


# --- approvals and records ---------------------------------------------------------------------


@get("/approvals", summary="Approval requests waiting for me")
async def list_approvals(db: Database, clock: Clock, actor: Actor) -> dict[str, Any]:
    items = await approvals.list_waiting(db, clock, actor)
    return {"items": items, "next_cursor": None}


@post("/approvals/{request_id:int}/decision", summary="Approve or decline", status_code=200)
async def decide_approval(
    db: Database, clock: Clock, actor: Actor, request_id: int, data: schemas.DecisionIn
) -> dict[str, Any]:
    outcome = await approvals.decide(
        db, clock, actor, request_id, decision=data.decision, comment=data.comment
    )
    return {**msgspec.to_builtins(outcome.approval), "booking": outcome.booking}


@post("/records/completions", summary="Completions from the e-learning side", status_code=200)
async def post_completions(
    db: Database, clock: Clock, actor: Actor, data: list[schemas.CompletionIn]
) -> dict[str, Any]:
    accepted, results = await records.record_completions(
        db,
        clock,
        actor,
        [
            records.CompletionInput(
                course_code=c.course_code,
                completed_at=c.completed_at,
                learner_email=c.learner_email,
                personnel_number=c.personnel_number,
                source=c.source,
            )
            for c in data
        ],
    )
    return {
        "accepted": accepted,
        "results": [{"index": r.index, "status": r.status, "message": r.message} for r in results],
    }


@get("/courses/{course_id:int}/eligibility", summary="Why I could not book this course, if so")
async def course_eligibility(
    db: Database, clock: Clock, actor: Actor, course_id: int
) -> dict[str, Any]:
    reasons = await eligibility.preview(db, clock, actor, course_id)
    return {"eligible": not reasons, "reasons": [r.as_dict() for r in reasons]}


# --- running a session ----------------------------------------------------------------------


def _roster_dict(view: Any) -> dict[str, Any]:
    return {
        "session": view.session,
        "booked": view.booked,
        "offered": view.offered,
        "waitlisted": view.waitlisted,
        "pending": view.pending,
        "cancelled": view.cancelled,
        "attended": view.attended,
    }


@post("/sessions/{session_id:int}/attendance", summary="Mark attendance", status_code=200)
async def post_attendance(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    data: schemas.AttendanceIn,
) -> dict[str, Any]:
    view = await roster.mark_attendance(
        db,
        clock,
        actor,
        session_id,
        [roster.Mark(m.booking_id, m.status) for m in data.marks],
        lock_days=request.app.state.settings.attendance_lock_days,
    )
    return _roster_dict(view)


@post("/bookings/{booking_id:int}/move", summary="Move to another date", status_code=200)
async def move_booking(
    db: Database, clock: Clock, actor: Actor, booking_id: int, data: schemas.MoveIn
) -> BookingView:
    return await roster.move_booking(
        db,
        clock,
        actor,
        booking_id,
        data.session_id,
        reason=data.reason,
        override_reason=data.override_reason,
    )


@post("/sessions/{session_id:int}/messages", summary="Email everyone booked", status_code=200)
async def message_attendees(
    db: Database, clock: Clock, actor: Actor, session_id: int, data: schemas.MessageIn
) -> dict[str, Any]:
    sent = await roster.message_attendees(
        db, clock, actor, session_id, subject=data.subject, body=data.body
    )
    return {"queued": sent}


@get("/sessions/{session_id:int}/roster.csv", summary="The roster as CSV")
async def roster_csv(db: Database, clock: Clock, actor: Actor, session_id: int) -> Response[bytes]:
    body = await roster.roster_csv(db, clock, actor, session_id)
    return csv_download(body, f"roster-{session_id}.csv")


@get("/sessions/{session_id:int}/sign-in-sheet.pdf", summary="Printable sign-in sheet")
async def sign_in_sheet(
    db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[bytes]:
    body = await roster.sign_in_sheet(db, clock, actor, session_id)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="sign-in-{session_id}.pdf"'},
    )


@post(
    "/sessions/{session_id:int}/copy", summary="Copy a session to new dates", guards=[admins_only]
)
async def copy_session(
    db: Database, clock: Clock, actor: Actor, session_id: int, data: schemas.CopyIn
) -> SessionView:
    return await roster.copy_session(
        db, clock, actor, session_id, _dates(data.dates), override_reason=data.override_reason
    )


@post(
    "/sessions/{session_id:int}/invite-waitlisted",
    summary="Invite learners waiting on other dates of the course",
    status_code=200,
)
async def invite_waitlisted(
    db: Database, clock: Clock, actor: Actor, session_id: int
) -> dict[str, Any]:
    return {"invited": await roster.invite_waitlisted(db, clock, actor, session_id)}


@get(
    "/courses/{course_id:int}/demand",
    summary="Waiting-list demand across sessions",
    guards=[admins_only],
)
async def course_demand(db: Database, clock: Clock, actor: Actor, course_id: int) -> roster.Demand:
    return await roster.course_demand(db, clock, actor, course_id)


def api_router() -> Router:
    return Router(
        path="/api/v1",
        route_handlers=[
            me,
            my_bookings,
            put_org_units,
            put_people,
            create_course,
            update_course,
            list_courses,
            get_course,
            create_session,
            get_session,
            patch_session,
            cancel_session,
            get_roster,
            create_booking,
            get_booking,
            cancel_booking,
            accept_offer,
            decline_offer,
            list_approvals,
            decide_approval,
            post_completions,
            course_eligibility,
            post_attendance,
            move_booking,
            message_attendees,
            roster_csv,
            sign_in_sheet,
            copy_session,
            invite_waitlisted,
            course_demand,
            billing_routes.create_cost_code,
            billing_routes.import_cost_codes,
            billing_routes.list_cost_codes,
            billing_routes.cancellation_quote,
            billing_routes.booking_payment,
            billing_routes.waive_fee,
            billing_routes.journal_csv,
            records_api_router(),
        ],
        dependencies={"actor": Provide(provide_api_actor)},
        tags=["v1"],
    )


__all__ = ["ValidationException", "api_router"]
