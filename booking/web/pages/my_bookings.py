"""A learner's bookings: the booking page, my bookings (with the calendar feed link), answering
an offer of a place, and cancelling."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from booking import bookings, notifications
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError
from booking.kernel.views import BookingView
from booking.web.pages.formatting import first_day
from booking.web.pages.forms import CancelForm, form_fields
from booking.web.pages.render import flash, page
from booking.web.pages.session_rows import free_elsewhere


@get("/bookings/{booking_id:int}", include_in_schema=False)
async def booking_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    new: bool = False,
) -> Template:
    booking = await bookings.get_booking(db, clock, actor, booking_id)
    new = new and booking.learner.id == actor.person_id
    return page(
        request,
        "booking/booking.html",
        actor=actor,
        nav="bookings",
        b=booking,
        new=new,
        free_elsewhere=await free_elsewhere(db, clock, actor, booking) if new else [],
    )


@get("/me/bookings", include_in_schema=False)
async def my_bookings_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    mine = await bookings.my_bookings_overview(db, clock, actor)
    token = await notifications.calendar_token(db, actor)
    return page(
        request,
        "booking/my_bookings.html",
        actor=actor,
        nav="bookings",
        upcoming=mine.upcoming,
        past=mine.past,
        feed_url=f"{request.app.state.settings.base_url}/calendar/{token}.ics",
    )


@post("/bookings/{booking_id:int}/accept", include_in_schema=False, status_code=200)
async def accept_offer(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Redirect:
    booking = await bookings.accept_offer(db, clock, actor, booking_id)
    return _answered(request, booking, "accepted", "You are booked.")


@post("/bookings/{booking_id:int}/decline", include_in_schema=False, status_code=200)
async def decline_offer(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Redirect:
    booking = await bookings.decline_offer(db, clock, actor, booking_id)
    return _answered(request, booking, "declined", "It goes to the next person waiting.")


def _answered(
    request: Request[Any, Any, Any], booking: BookingView, verb: str, then: str
) -> Redirect:
    """Back to my bookings, telling what became of the offer."""
    flash(
        request,
        f"You have {verb} the place on {booking.course_title}, {first_day(booking.dates)}. {then}",
    )
    return Redirect(path="/me/bookings", status_code=303)


@get("/bookings/{booking_id:int}/cancel", include_in_schema=False)
async def cancel_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Template:
    return await _cancel_page(request, db, clock, actor, booking_id, {}, {})


@post("/bookings/{booking_id:int}/cancel", include_in_schema=False, status_code=200)
async def cancel(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> Response[Any]:
    form = CancelForm.read(await form_fields(request))
    if not form.field_errors:
        try:
            outcome = await bookings.cancel_booking(
                db,
                clock,
                actor,
                booking_id,
                reason=form.reason,
                details=form.details,
                quoted_fee=form.quoted_fee,
            )
        except ConflictError as exc:
            # Such as a fee that changed since the page showed it: the form shows the new one.
            flash(request, exc.detail)
            return Redirect(path=f"/bookings/{booking_id}/cancel", status_code=303)
        except InvalidError as exc:
            form.refused(exc)
    if form.field_errors:
        shown, errors = form.as_shown(), form.field_errors
        return await _cancel_page(
            request, db, clock, actor, booking_id, shown, errors, status_code=422
        )
    flash(request, _cancelled_message(outcome.booking))
    return Redirect(path="/me/bookings", status_code=303)


async def _cancel_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    booking_id: int,
    form: dict[str, Any],
    field_errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Template:
    """The cancel form with the booking's quote, as sent and with what was wrong with it."""
    booking = await bookings.get_booking(db, clock, actor, booking_id)
    return page(
        request,
        "booking/cancel.html",
        actor=actor,
        nav="bookings",
        status_code=status_code,
        b=booking,
        form=form,
        field_errors=field_errors,
    )


def _cancelled_message(cancelled: BookingView) -> str:
    label = f"{cancelled.course_title}, {first_day(cancelled.dates)}"
    left_waitlist = bool(cancelled.history) and cancelled.history[-1].from_state == "waitlisted"
    if left_waitlist:
        return f"You have left the waiting list for {label}."
    return f"Your booking on {label} is cancelled."


HANDLERS = [booking_page, my_bookings_page, accept_offer, decline_offer, cancel_form, cancel]
