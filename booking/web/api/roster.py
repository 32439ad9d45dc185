"""API: running a session — its roster, attendance, moving a learner, messaging everyone, the
CSV and sign-in sheet, inviting those waiting, and a course's waiting-list demand."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from billing.web import csv_download
from booking import roster
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import BookingView, RosterView
from booking.web.api import schemas
from booking.web.api.answers_core import Invited, Queued
from booking.web.inputs import admins_only


@get("/sessions/{session_id:int}/roster", summary="The session's roster")
async def get_roster(db: Database, clock: Clock, actor: Actor, session_id: int) -> RosterView:
    return await roster.read_roster(db, clock, actor, session_id)


@post("/sessions/{session_id:int}/attendance", summary="Mark attendance", status_code=200)
async def post_attendance(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    data: schemas.AttendanceIn,
) -> RosterView:
    return await roster.mark_attendance(
        db,
        clock,
        actor,
        session_id,
        [roster.Mark(m.booking_id, m.status) for m in data.marks],
        lock_days=request.app.state.settings.attendance_lock_days,
    )


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
) -> Queued:
    sent = await roster.message_attendees(
        db, clock, actor, session_id, subject=data.subject, body=data.body
    )
    return Queued(sent)


@get(
    "/sessions/{session_id:int}/roster.csv",
    summary="The roster as CSV",
    media_type="text/csv",
    content_media_type="text/csv",
    response_description="The roster as CSV (UTF-8 with a byte order mark), as a download",
)
async def roster_csv(db: Database, clock: Clock, actor: Actor, session_id: int) -> Response[bytes]:
    body = await roster.roster_csv(db, clock, actor, session_id)
    return csv_download(body, f"roster-{session_id}.csv")


@get(
    "/sessions/{session_id:int}/sign-in-sheet.pdf",
    summary="Printable sign-in sheet",
    media_type="application/pdf",
    content_media_type="application/pdf",
    response_description="The sign-in sheet as a PDF",
)
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
    "/sessions/{session_id:int}/invite-waitlisted",
    summary="Invite learners waiting on other dates of the course",
    status_code=200,
)
async def invite_waitlisted(db: Database, clock: Clock, actor: Actor, session_id: int) -> Invited:
    return Invited(await roster.invite_waitlisted(db, clock, actor, session_id))


@get(
    "/courses/{course_id:int}/demand",
    summary="Waiting-list demand across sessions",
    guards=[admins_only],
)
async def course_demand(db: Database, clock: Clock, actor: Actor, course_id: int) -> roster.Demand:
    return await roster.course_demand(db, clock, actor, course_id)
