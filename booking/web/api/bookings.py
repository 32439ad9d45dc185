"""API: booking a place, a booking, cancelling it, answering an offer, and my bookings."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import Provide
from litestar.params import Body

from booking import bookings
from booking.bookings import BookingRequest
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.views import BookingView, MoneyView
from booking.web.api import schemas
from booking.web.api.answers_core import BookingPage
from booking.web.api.examples_core import BOOK_REQUEST
from booking.web.api.params import (
    CursorParam,
    LimitParam,
    booking_response,
    cursor_of,
    idempotency_claim,
    money_in,
)
from booking.web.deps import (
    booking_actor,
    limit_booking_rate,
    provide_db,
    read_booking_actor,
    unread_of,
    vouch_of,
)


@get("/me/bookings", summary="Own bookings")
async def my_bookings(
    db: Database,
    clock: Clock,
    actor: Actor,
    cursor: str | None = CursorParam,
    limit: int = LimitParam,
) -> BookingPage:
    page = await bookings.my_bookings(db, clock, actor, cursor=cursor_of(cursor), limit=limit or 50)
    return BookingPage(page.items, page.next_cursor)


@post(
    "/sessions/{session_id:int}/bookings",
    summary="Book a place (or join the waiting list)",
    description="Accepts an `Idempotency-Key` header. Refusals carry `reasons`.",
    dependencies={"actor": Provide(booking_actor)},
)
async def create_booking(
    request: Request[Any, Any, Any],
    actor: Actor | None,
    session_id: int,
    data: Annotated[schemas.BookingIn, Body(examples=[BOOK_REQUEST])],
) -> Response[BookingView]:
    # The database and the clock are taken here, not injected (`booking_actor`); the actor is
    # injected, so that a request without a valid token is refused before its body is checked.
    db, clock = provide_db(request), request.app.state.clock
    booking = BookingRequest(
        session_id=session_id,
        learner_email=data.learner_email,
        cost_code=data.cost_code,
        special_requirements=data.special_requirements,
        answers=data.answers,
        accept_terms=data.accept_terms,
        override_reason=data.override_reason,
        overbook=data.overbook,
        move_from=data.move_from,
    )
    seat_guard = request.app.state.settings.seat_guard
    unread = unread_of(request)
    if actor is None:  # a token not read yet (`provide_booking_actor`)
        assert unread is not None
        if seat_guard and data.learner_email is None and bookings.names_only_the_session(booking):
            return booking_response(await bookings.book_on_token(db, clock, unread, booking))
        actor = await read_booking_actor(request, db, clock)
    await limit_booking_rate(request, actor, data.learner_email)
    claim = idempotency_claim(request, actor, f"book:{session_id}", data)
    outcome = await bookings.book_place(
        db,
        clock,
        actor,
        booking,
        idempotency=claim,
        seat_guard=seat_guard,
        vouch=vouch_of(request),
    )
    return booking_response(outcome)


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
    claim = idempotency_claim(request, actor, f"cancel:{booking_id}", data)
    quoted = money_in(data.quoted_fee, "quoted_fee")
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
    return booking_response(outcome)


@post("/bookings/{booking_id:int}/accept", summary="Accept a waitlist offer", status_code=200)
async def accept_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    return await bookings.accept_offer(db, clock, actor, booking_id)


@post("/bookings/{booking_id:int}/decline", summary="Decline a waitlist offer", status_code=200)
async def decline_offer(db: Database, clock: Clock, actor: Actor, booking_id: int) -> BookingView:
    return await bookings.decline_offer(db, clock, actor, booking_id)
