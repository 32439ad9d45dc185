"""The trainer's roster: the page, attendance (one by one with htmx, or all at once), adding,
removing and moving learners, messaging everyone, and the CSV and PDF downloads."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from billing.web import csv_download
from booking import bookings, roster
from booking.bookings import BookingRequest
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import state_name
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError, RefusedError
from booking.web.deps import limit_booking_rate
from booking.web.pages.forms import form_fields, whole_number
from booking.web.pages.render import flash, is_htmx, page, partial

ATTENDANCE_LABELS = {
    "attended": "Attended",
    "partially_attended": "Partly attended",
    "no_show": "No-show",
}


def _back(session_id: int, anchor: str = "") -> Redirect:
    return Redirect(path=f"/sessions/{session_id}/roster{anchor}", status_code=303)


def _lock_days(request: Request[Any, Any, Any]) -> int:
    return int(request.app.state.settings.attendance_lock_days)


@get("/sessions/{session_id:int}/roster", include_in_schema=False)
async def roster_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Template:
    view, targets = await roster.roster_and_move_targets(db, clock, actor, session_id)
    now = clock.now()
    session = view.session
    started = bool(session.dates) and now >= session.dates[0].start
    return page(
        request,
        "booking/roster.html",
        actor=actor,
        # Its trainers reach a roster from My sessions; everyone else from the catalogue.
        nav="my_sessions" if actor.email in session.facilitators else "courses",
        roster=view,
        can_mark=started and session.status != "cancelled",
        targets=targets,
        attendance_labels=ATTENDANCE_LABELS,
    )


@post("/sessions/{session_id:int}/attendance", include_in_schema=False, status_code=200)
async def mark_one(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    form = await form_fields(request)
    booking_id = whole_number(form.get("booking_id", "")) or 0
    status = form.get("status", "")
    try:
        view = await roster.mark_attendance(
            db,
            clock,
            actor,
            session_id,
            [roster.Mark(booking_id, status)],
            lock_days=_lock_days(request),
        )
    except (ConflictError, InvalidError) as exc:
        if is_htmx(request):
            return partial("booking/_status.html", message=exc.detail, status_code=exc.status)
        flash(request, exc.detail)
        return _back(session_id)
    row = next(r for r in view.attended if r.booking_id == booking_id)
    message = f"{row.learner.name}: {ATTENDANCE_LABELS[row.state]}."
    if is_htmx(request):
        return partial(
            "booking/_attendance_row.html",
            r=row,
            s=view.session,
            message=message,
            labels=ATTENDANCE_LABELS,
        )
    flash(request, message)
    return _back(session_id, f"#attendance-{booking_id}")


@post("/sessions/{session_id:int}/attendance/all", include_in_schema=False, status_code=303)
async def mark_all(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Redirect:
    try:
        outcome = await roster.mark_all_attended(
            db, clock, actor, session_id, lock_days=_lock_days(request)
        )
        flash(request, attendance_summary(outcome.changed))
    except (ConflictError, InvalidError) as exc:
        flash(request, exc.detail)
    return _back(session_id, "#roster-attended")


def attendance_summary(changed: dict[str, int]) -> str:
    """What a bulk mark changed, per status: "Marked as attended: 2." """
    if not any(changed.values()):
        return "Nobody was left to mark: everyone's attendance is already recorded."
    parts = [
        f"{ATTENDANCE_LABELS[status].lower()}: {n}"
        for status, n in sorted(
            changed.items(), key=lambda kv: list(ATTENDANCE_LABELS).index(kv[0])
        )
        if n
    ]
    return "Marked as " + "; ".join(parts) + ". Adjust any exceptions below."


@post("/sessions/{session_id:int}/add-learner", include_in_schema=False, status_code=303)
async def add_learner(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Redirect:
    await roster.read_roster(db, clock, actor, session_id)  # 403/404 before anything else
    form = await form_fields(request)
    email = form.get("email", "").strip()
    reason = form.get("reason", "").strip()
    if not email or not reason:
        flash(request, "To add a learner, give their email address and a reason.")
        return _back(session_id, "#add-learner")
    await limit_booking_rate(request, actor, email)
    try:
        outcome = await bookings.book_place(
            db,
            clock,
            actor,
            BookingRequest(session_id, learner_email=email, override_reason=reason),
            seat_guard=request.app.state.settings.seat_guard,
        )
        state = state_name(outcome.booking.state).lower()
        flash(request, f"{outcome.booking.learner.name} added ({state}).")
    except RefusedError as exc:
        flash(request, "Not added: " + " ".join(r.message for r in exc.reasons))
    except (ConflictError, InvalidError) as exc:
        flash(request, f"Not added: {exc.detail}")
    return _back(session_id)


@post("/bookings/{booking_id:int}/remove", include_in_schema=False, status_code=303)
async def remove_learner(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Redirect:
    form = await form_fields(request)
    view = await bookings.get_booking(db, clock, actor, booking_id)
    try:
        await bookings.cancel_booking(
            db,
            clock,
            actor,
            booking_id,
            reason=form.get("reason", "").strip() or "Removed by the trainer",
        )
        flash(request, f"{view.learner.name} removed; they have been told.")
    except (ConflictError, InvalidError) as exc:
        flash(request, exc.detail)
    return _back(view.session_id)


@post("/bookings/{booking_id:int}/move", include_in_schema=False, status_code=303)
async def move_learner(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Redirect:
    form = await form_fields(request)
    view = await bookings.get_booking(db, clock, actor, booking_id)
    await roster.read_roster(db, clock, actor, view.session_id)  # trainers and admins only
    target = whole_number(form.get("session_id", ""))
    if target is None:
        flash(request, "Choose the session to move to.")
        return _back(view.session_id)
    try:
        moved = await roster.move_booking(
            db,
            clock,
            actor,
            booking_id,
            target,
            reason=form.get("reason", "").strip() or "Moved by the trainer",
        )
        flash(request, f"{moved.learner.name} moved to session {moved.session_id}.")
    except RefusedError as exc:
        flash(request, "Not moved: " + " ".join(r.message for r in exc.reasons))
    except (ConflictError, InvalidError) as exc:
        flash(request, f"Not moved: {exc.detail}")
    return _back(view.session_id)


@get("/sessions/{session_id:int}/message", include_in_schema=False)
async def message_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Template:
    return await _message_page(request, db, clock, actor, session_id, {}, {})


@post("/sessions/{session_id:int}/message", include_in_schema=False, status_code=303)
async def send_message(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, session_id: int
) -> Response[Any]:
    form = await form_fields(request)
    try:
        sent = await roster.message_attendees(
            db,
            clock,
            actor,
            session_id,
            subject=form.get("subject", ""),
            body=form.get("body", ""),
        )
    except (ConflictError, InvalidError) as exc:
        field = getattr(exc, "field", None) or "body"
        errors = {field: exc.detail}
        return await _message_page(
            request, db, clock, actor, session_id, form, errors, status_code=exc.status
        )
    flash(request, f"Your message is on its way to {sent} learners.")
    return _back(session_id)


async def _message_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    session_id: int,
    form: dict[str, str],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Template:
    """The message form, to everyone with a place or an offer on the session."""
    view = await roster.read_roster(db, clock, actor, session_id)
    return page(
        request,
        "booking/message.html",
        actor=actor,
        nav="courses",
        status_code=status_code,
        s=view.session,
        count=len(view.booked) + len(view.offered),
        form=form,
        errors=errors,
    )


@get("/sessions/{session_id:int}/roster/export.csv", include_in_schema=False)
async def export_csv(db: Database, clock: Clock, actor: Actor, session_id: int) -> Response[bytes]:
    text = await roster.roster_csv(db, clock, actor, session_id)
    return csv_download(text, f"roster-{session_id}.csv")


@get("/sessions/{session_id:int}/roster/sign-in-sheet.pdf", include_in_schema=False)
async def sign_in_pdf(db: Database, clock: Clock, actor: Actor, session_id: int) -> Response[bytes]:
    return Response(
        await roster.sign_in_sheet(db, clock, actor, session_id),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="sign-in-{session_id}.pdf"'},
    )


HANDLERS = [
    roster_page,
    mark_one,
    mark_all,
    add_learner,
    remove_learner,
    move_learner,
    message_form,
    send_message,
    export_csv,
    sign_in_pdf,
]
