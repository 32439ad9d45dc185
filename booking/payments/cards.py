"""Card payments: the payment opened when a place is held for it, the payment page (which makes
the PaymentIntent), Stripe's webhook, and the listener billing calls back when a payment succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from billing import webhooks
from billing.domain.money import Money
from booking import policy
from booking.clock import Clock
from booking.db import Database
from booking.domain.learning_vocabulary import PaymentStatus
from booking.domain.states import BookingState
from booking.domain.vocabulary import BookingStateName
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, NotFoundError, ServiceError
from booking.kernel.history import record_transition
from booking.kernel.locks import lock_booking, lock_session
from booking.models import Booking, Course, Person
from booking.payments.bridge import billing_errors, booking_id_of, reference
from booking.payments.config import BillingConfig
from booking.payments.prices import booking_price


async def open_card_payment(
    s: AsyncSession,
    booking: Booking,
    course: Course,
    learner: Person,
    *,
    hold: timedelta,
    now: datetime,
) -> None:
    """The card payment for a place held until `now + hold` (Stripe is asked later, when the
    payment page opens)."""
    price = booking_price(booking, course)
    assert price is not None
    with billing_errors():
        await billing.open_card_payment(
            s,
            reference=reference(booking.id),
            amount=price,
            payer_email=learner.email,
            description=f"{course.code} {course.title}",
            hold_until=now + hold,
            now=now,
        )


# ---------------------------------------------------------------------------------------------
# The listener billing calls back


class BookingPayments:
    """Billing's listener: a succeeded payment books the place its booking held."""

    async def lock(self, s: AsyncSession, ref: str) -> None:
        booking_id = booking_id_of(ref)
        if booking_id is None:
            return
        session_id = await s.scalar(select(Booking.session_id).where(Booking.id == booking_id))
        if session_id is not None:
            await lock_session(s, session_id)

    async def on_payment_succeeded(self, s: AsyncSession, ref: str, *, now: datetime) -> bool:
        booking_id = booking_id_of(ref)
        if booking_id is None:
            return False
        booking = await lock_booking(s, booking_id)
        if booking is None or booking.state != BookingState.PENDING_PAYMENT:
            return False
        # The seat was taken when the booking was made; paying only confirms it.
        booking.sequence += 1
        await record_transition(
            s,
            booking=booking,
            to_state=BookingState.BOOKED,
            actor=Actor.system(),
            now=now,
            reason="Card payment received",
            notify="booking.booked",
        )
        return True


# ---------------------------------------------------------------------------------------------
# Payment page and webhook


@dataclass(slots=True)
class PaymentPage:
    booking_id: int
    course_title: str
    amount: Money
    status: PaymentStatus
    booking_state: BookingStateName
    hold_until: datetime
    client_secret: str | None
    publishable_key: str | None


class PaymentUnavailableError(ServiceError):
    status = 503
    title = "Payments unavailable"


@dataclass(frozen=True, slots=True)
class _PaymentFacts:
    course_title: str
    state: str
    payment: billing.PaymentView


async def payment_page(
    db: Database,
    clock: Clock,
    actor: Actor,
    config: BillingConfig,
    booking_id: int,
    *,
    payment_method: str | None = None,
) -> PaymentPage:
    """The booking's card payment, with a PaymentIntent made (once) for the Payment Element."""
    facts = await _payment_facts(db, actor, booking_id)
    payment = facts.payment
    client_secret = None
    if payment.status == "open" and facts.state == BookingState.PENDING_PAYMENT:
        payment = await _start_intent(db, clock, config, booking_id, payment, payment_method)
        client_secret = payment.client_secret
    return PaymentPage(
        booking_id,
        facts.course_title,
        payment.amount,
        cast(PaymentStatus, payment.status),
        cast(BookingStateName, facts.state),
        payment.hold_until,
        client_secret,
        config.publishable_key,
    )


async def _payment_facts(db: Database, actor: Actor, booking_id: int) -> _PaymentFacts:
    async with db.reading() as s:
        booking = await s.get(Booking, booking_id)
        if booking is None or not policy.can_pay_for(actor, booking.learner_id):
            raise NotFoundError(f"There is no booking {booking_id}.")
        course = await s.get_one(Course, booking.course_id)
        payment = await billing.payment_for(s, reference(booking_id))
        state = booking.state
    if payment is None:
        raise NotFoundError("This booking has no card payment.")
    return _PaymentFacts(course.title, state, payment)


async def _start_intent(
    db: Database,
    clock: Clock,
    config: BillingConfig,
    booking_id: int,
    payment: billing.PaymentView,
    payment_method: str | None,
) -> billing.PaymentView:
    """The open payment with its PaymentIntent (Stripe is called outside any transaction)."""
    if config.gateway is None:
        raise ConflictError("Card payments are not available.")
    if clock.now() >= payment.hold_until:
        raise ConflictError("The time to pay for this place has run out.")
    try:
        with billing_errors():
            return await billing.start_intent(
                db.transaction,
                config.gateway,
                reference(booking_id),
                payment_method=payment_method,
            )
    except billing.GatewayError as exc:
        raise PaymentUnavailableError(
            "Card payments cannot be taken just now; try again in a minute."
        ) from exc


async def stripe_webhook(
    db: Database, clock: Clock, config: BillingConfig, payload: bytes, signature: str | None
) -> webhooks.WebhookResult:
    if config.gateway is None or not config.webhook_secret:
        raise NotFoundError("Card payments are not configured.")
    return await webhooks.process(
        payload,
        signature,
        secret=config.webhook_secret,
        gateway=config.gateway,
        transaction=db.transaction,
        listener=BookingPayments(),
        now=clock.now,
    )
