"""Booking's side of billing: fee quotes, card payment holds, the listener billing calls back,
spend checks for budget holders, no-show fees, and the sweeps the worker runs.

`billing` never imports `booking`; this module is where booking calls billing's public
functions, and `BookingPayments` is the listener billing calls back (wired in `booking/app.py`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import services as billing
from billing import webhooks
from billing.domain import fees
from billing.domain.cost_codes import CostCodeError, parse_year_start
from billing.domain.money import Money
from booking import policy
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.domain.reasons import UNPROCESSABLE, Reason
from booking.kernel import audit
from booking.kernel.actors import Actor
from booking.kernel.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    RefusedError,
    ServiceError,
)
from booking.kernel.history import record_transition
from booking.kernel.locks import lock_booking, lock_session
from booking.kernel.tx import with_retry
from booking.models import ApprovalRequest, Booking, Course, Person, SessionDate
from booking.models import Session as SessionRow
from booking.seats import booking_access, withdraw_place

log = logging.getLogger(__name__)

REFERENCE_PREFIX = "booking-"


def reference(booking_id: int) -> str:
    """The opaque reference billing knows a booking by."""
    return f"{REFERENCE_PREFIX}{booking_id}"


def booking_id_of(ref: str) -> int | None:
    if not ref.startswith(REFERENCE_PREFIX):
        return None
    try:
        return int(ref.removeprefix(REFERENCE_PREFIX))
    except ValueError:
        return None


@contextlib.contextmanager
def billing_errors() -> Iterator[None]:
    """Billing's refusals as booking's service errors (and so as problem+json)."""
    try:
        yield
    except billing.NotFound as exc:
        raise NotFoundError(exc.message) from exc
    except billing.Conflict as exc:
        raise ConflictError(exc.message) from exc
    except billing.Invalid as exc:
        raise InvalidError(exc.message, exc.field) from exc


# ---------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True, slots=True)
class BillingConfig:
    gateway: billing.PaymentGateway | None
    webhook_secret: str | None
    publishable_key: str | None
    hold: timedelta
    year_start: tuple[int, int]
    cost_code_pattern: str

    @property
    def card_payments(self) -> bool:
        return self.gateway is not None


def billing_config(settings: Settings) -> BillingConfig:
    gateway: billing.PaymentGateway | None = None
    if settings.stripe_api_key:
        from billing.stripe_gateway import StripeGateway

        gateway = StripeGateway(settings.stripe_api_key, api_base=settings.stripe_api_base)
    return BillingConfig(
        gateway=gateway,
        webhook_secret=settings.stripe_webhook_secret,
        publishable_key=settings.stripe_publishable_key,
        hold=timedelta(minutes=settings.payment_hold_minutes),
        year_start=parse_year_start(settings.financial_year_start),
        cost_code_pattern=settings.cost_code_pattern,
    )


# ---------------------------------------------------------------------------------------------
# Facts about a booking that fees depend on


def course_price(course: Course) -> Money | None:
    if not course.price_amount:
        return None
    return Money(course.price_amount, course.price_currency)


def course_policy(course: Course) -> fees.FeePolicy:
    try:
        return fees.FeePolicy.from_json(course.cancellation_policy)
    except fees.PolicyError:
        log.exception("course %s: unreadable cancellation policy; no fees applied", course.code)
        return fees.FeePolicy()


def fee_can_arise(course: Course) -> bool:
    """A price, or a fee in the policy: a cost code paying for it needs its budget holder."""
    return course_price(course) is not None


async def first_date(s: AsyncSession, session_id: int) -> tuple[datetime, str]:
    row = (
        await s.execute(
            select(SessionDate.start_at, SessionDate.timezone)
            .where(SessionDate.session_id == session_id, SessionDate.removed_at.is_(None))
            .order_by(SessionDate.start_at)
            .limit(1)
        )
    ).first()
    if row is None:
        session = await s.get_one(SessionRow, session_id)
        return session.starts_at, "UTC"
    return row.start_at, row.timezone


@dataclass(slots=True)
class QuoteView:
    fee: Money
    refund: Money | None
    policy_tier: dict[str, Any] | None
    free_until: datetime | None
    reason: str
    # The whole policy for this booking's session, from now on, as one sentence.
    terms: str | None = None


def cancellation_terms(
    course: Course, *, start: datetime, timezone: str, now: datetime | None = None
) -> str | None:
    """The course's cancellation policy for a session starting at `start`, as one sentence
    (None for a course without a price: nothing can be charged)."""
    price = course_price(course)
    if price is None:
        return None
    return fees.cancellation_terms(
        course_policy(course), price, first_start=start, timezone=timezone, now=now
    )


async def quote_for(
    s: AsyncSession, booking: Booking, course: Course, *, now: datetime
) -> QuoteView:
    """What cancelling this booking at `now` costs: only a place held and paid for (by cost
    code, or by a card payment that went through) can cost anything."""
    start, timezone = await first_date(s, booking.session_id)
    payment = await billing.payment_for(s, reference(booking.id))
    paid = payment.amount if payment is not None and payment.status == "succeeded" else None
    return quote_of(booking, course, start=start, timezone=timezone, paid=paid, now=now)


def quote_of(
    booking: Booking,
    course: Course,
    *,
    start: datetime,
    timezone: str,
    paid: Money | None,
    now: datetime,
) -> QuoteView:
    """`quote_for` on facts already read: the first date, and what a card payment took."""
    price = course_price(course) if booking.cost_code else None
    quote = fees.quote_cancellation(
        course_policy(course),
        price=price,
        paid=paid,
        first_start=start,
        timezone=timezone,
        now=now,
        holds_place=booking.state == "booked",
    )
    if quote.fee.amount == 0 and paid is None and price is None:
        currency = course.price_currency
        quote = fees.Quote(Money(0, currency), None, None, quote.free_until, quote.reason)
    return QuoteView(
        fee=quote.fee,
        refund=quote.refund,
        policy_tier={
            "min_notice_hours": quote.tier.min_notice_hours,
            "fee_percent": quote.tier.fee_percent,
            "label": quote.reason,
        }
        if quote.tier
        else None,
        free_until=quote.free_until.astimezone(ZoneInfo(timezone)) if quote.free_until else None,
        reason=quote.reason,
        # Only for a place something is (or will be) charged for, as the quote itself.
        terms=cancellation_terms(course, start=start, timezone=timezone, now=now)
        if paid is not None or price is not None
        else None,
    )


async def quote_cancellation(
    db: Database, clock: Clock, actor: Actor, booking_id: int
) -> QuoteView:
    """`GET /bookings/{id}/cancellation-quote`: visible to whoever may see the booking."""
    async with db.reading() as s:
        booking = await s.get(Booking, booking_id)
        if booking is None or not policy.can_view_booking(actor, await booking_access(s, booking)):
            raise NotFoundError(f"There is no booking {booking_id}.")
        course = await s.get_one(Course, booking.course_id)
        return await quote_for(s, booking, course, now=clock.now())


async def quotes_for(
    s: AsyncSession, bookings: list[Booking], *, now: datetime
) -> dict[int, QuoteView]:
    out: dict[int, QuoteView] = {}
    for b in bookings:
        if b.state in ("booked", "pending_payment", "offered", "waitlisted", "pending_approval"):
            out[b.id] = await quote_for(s, b, await s.get_one(Course, b.course_id), now=now)
    return out


# ---------------------------------------------------------------------------------------------
# Signing up: the payer


async def check_cost_code(
    s: AsyncSession, code: str | None, *, pattern: str, now: datetime
) -> str | None:
    """The code upper-cased, if it can pay today; a 422 refusal with the reason if not."""
    if code is None or not code.strip():
        return None
    try:
        view = await billing.check_cost_code(s, code, pattern=pattern, today=now.date())
    except CostCodeError as exc:
        raise RefusedError([Reason(exc.code, exc.message, UNPROCESSABLE)]) from exc
    return view.code


async def budget_holder_id(s: AsyncSession, course: Course, cost_code: str | None) -> int | None:
    """The person whose approval a cost code's use needs: when a cost code pays and a fee can
    arise. None when no approval is needed or the holder is not (or no longer) on record."""
    if cost_code is None or not fee_can_arise(course):
        return None
    view = await billing.get_cost_code(s, cost_code)
    if view is None:
        return None
    return await s.scalar(
        select(Person.id).where(Person.email == view.budget_holder_email, Person.active.is_(True))
    )


# Approved places not yet charged: a cost code's place is charged when attendance is marked
# (attended: the price; no-show: the no-show fee) or cancelled with a fee, and leaves these
# states then, so charged and committed never count one place twice. A request still waiting
# for approval is not a commitment.
COMMITTED_STATES = ("booked", "offered", "waitlisted")


def _committed_statement(cost_codes: Sequence[str]) -> Any:
    return (
        select(Booking.cost_code, func.coalesce(func.sum(Course.price_amount), 0))
        .select_from(Booking)
        .join(Course, Course.id == Booking.course_id)
        .where(Booking.cost_code.in_(list(cost_codes)), Booking.state.in_(COMMITTED_STATES))
        .group_by(Booking.cost_code)
    )


async def committed_spend(s: AsyncSession, cost_code: str, *, exclude: int | None = None) -> int:
    """Places approved on this code and not charged yet (minor units)."""
    stmt = _committed_statement([cost_code])
    if exclude is not None:
        stmt = stmt.where(Booking.id != exclude)
    row = (await s.execute(stmt)).first()
    return int(row[1]) if row is not None else 0


async def committed_by_code(s: AsyncSession, cost_codes: Sequence[str]) -> dict[str, int]:
    """`committed_spend` for many codes in one query (the budget and cost-code pages)."""
    if not cost_codes:
        return {}
    return {code: int(total) for code, total in (await s.execute(_committed_statement(cost_codes)))}


async def spend_note(
    s: AsyncSession, course: Course, cost_code: str, *, now: datetime, year_start: tuple[int, int]
) -> str | None:
    """For the budget holder's request: flagged when the booking takes the code over its limit."""
    price = course_price(course)
    if price is None:
        return None
    check = await billing.check_spend(
        s,
        cost_code,
        price,
        committed=await committed_spend(s, cost_code),
        today=now.date(),
        year_start=year_start,
    )
    return check.note()


async def open_card_payment(
    s: AsyncSession,
    booking: Booking,
    course: Course,
    learner: Person,
    *,
    hold: timedelta,
    now: datetime,
) -> None:
    price = course_price(course)
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


async def settle_cancellation(
    s: AsyncSession,
    booking: Booking,
    course: Course,
    *,
    fee: Money,
    actor: Actor,
    reason: str,
    now: datetime,
) -> Money | None:
    return await billing.settle_cancellation(
        s,
        reference(booking.id),
        fee=fee,
        cost_code=booking.cost_code,
        description=f"Cancellation: {course.code} {course.title}",
        reason=reason,
        actor=actor.label,
        now=now,
    )


async def fees_for(s: AsyncSession, booking_ids: list[int]) -> dict[int, Money]:
    found = await billing.fees_for(s, [reference(i) for i in booking_ids])
    return {i: found[reference(i)] for i in booking_ids if reference(i) in found}


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
        if booking is None or booking.state != "pending_payment":
            return False
        # The seat was taken when the booking was made; paying only confirms it.
        booking.sequence += 1
        await record_transition(
            s,
            booking=booking,
            to_state="booked",
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
    status: str
    booking_state: str
    hold_until: datetime
    client_secret: str | None
    publishable_key: str | None


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
    async with db.reading() as s:
        booking = await s.get(Booking, booking_id)
        if booking is None or not (
            policy.is_person(actor) and (booking.learner_id == actor.person_id or actor.is_admin)
        ):
            raise NotFoundError(f"There is no booking {booking_id}.")
        course = await s.get_one(Course, booking.course_id)
        payment = await billing.payment_for(s, reference(booking_id))
        state = booking.state
    if payment is None:
        raise NotFoundError("This booking has no card payment.")
    client_secret = None
    if payment.status == "open" and state == "pending_payment":
        if config.gateway is None:
            raise ConflictError("Card payments are not available.")
        if clock.now() >= payment.hold_until:
            raise ConflictError("The time to pay for this place has run out.")
        try:
            with billing_errors():
                payment = await billing.start_intent(
                    db.transaction,
                    config.gateway,
                    reference(booking_id),
                    payment_method=payment_method,
                )
        except billing.GatewayError as exc:
            raise PaymentUnavailableError(
                "Card payments cannot be taken just now; try again in a minute."
            ) from exc
        client_secret = payment.client_secret
    return PaymentPage(
        booking_id,
        course.title,
        payment.amount,
        payment.status,
        state,
        payment.hold_until,
        client_secret,
        config.publishable_key,
    )


class PaymentUnavailableError(ServiceError):
    status = 503
    title = "Payments unavailable"


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


# ---------------------------------------------------------------------------------------------
# Attendance: the no-show fee


async def on_attendance(
    s: AsyncSession, booking: Booking, course: Course, *, actor: Actor, now: datetime
) -> None:
    """Called by `mark_attendance` for every changed mark: attendance by cost code is charged,
    a no-show is charged the course's no-show fee, a changed mark is corrected."""
    price = course_price(course)
    await billing.record_attendance(
        s,
        reference(booking.id),
        status=booking.state,
        cost_code=booking.cost_code,
        price=price,
        no_show_fee=fees.no_show_fee(course_policy(course), price),
        description=f"{course.code} {course.title}",
        actor=actor.label,
        now=now,
    )


# ---------------------------------------------------------------------------------------------
# Waivers


async def waive_fee(
    db: Database, clock: Clock, actor: Actor, booking_id: int, *, reason: str
) -> Money:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only an administrator can waive a fee.")
    async with db.transaction() as s:
        if await s.get(Booking, booking_id) is None:
            raise NotFoundError(f"There is no booking {booking_id}.")
        with billing_errors():
            waived = await billing.waive_fees(
                s, reference(booking_id), reason=reason, actor=actor.label, now=clock.now()
            )
        await audit.record(
            s,
            action="fee.waived",
            now=clock.now(),
            actor=actor,
            target=f"booking {booking_id}",
            details={"amount": waived.display(), "reason": reason},
        )
        return waived


# ---------------------------------------------------------------------------------------------
# Sweeps (the worker)


async def expire_payment_holds(db: Database, clock: Clock) -> int:
    """Bookings whose payment did not arrive in time lose the seat (the next in line gets it)
    and their PaymentIntent is cancelled after commit."""
    async with db.reading() as s:
        refs = await billing.expired_holds(s, clock.now())
    done = 0
    for ref in refs:
        booking_id = booking_id_of(ref)
        if booking_id is None:
            continue

        async def attempt(booking_id: int = booking_id, ref: str = ref) -> int:
            async with db.transaction() as s:
                now = clock.now()
                session_id = await s.scalar(
                    select(Booking.session_id).where(Booking.id == booking_id)
                )
                if session_id is None:
                    return 0
                session = await lock_session(s, session_id)
                booking = await lock_booking(s, booking_id)
                payment = await billing.payment_for(s, ref, lock=True)
                # Re-checked under the locks: paid meanwhile, or handled by another worker.
                if payment is None or payment.status != "open" or payment.hold_until > now:
                    return 0
                if (
                    booking is not None
                    and session is not None
                    and booking.state == "pending_payment"
                ):
                    await withdraw_place(
                        s,
                        booking,
                        session,
                        actor=Actor.system(),
                        now=now,
                        reason="Payment was not received in time",
                        details=None,
                    )
                await billing.cancel_open_payment(s, ref, now=now)
                return 1

        done += await with_retry(attempt)
    return done


async def refund_released_places(db: Database, clock: Clock) -> int:
    """Paid places that ended without a learner's cancellation (the organiser cancelled the
    session, a trainer removed the learner, ...) are refunded in full."""
    async with db.reading() as s:
        refs = await billing.unsettled_paid_references(s)
        ids = [i for i in (booking_id_of(r) for r in refs) if i is not None]
        ended = (
            await s.execute(
                select(Booking.id, Booking.cancel_reason).where(
                    Booking.id.in_(ids), Booking.state.in_(("cancelled", "declined"))
                )
            )
        ).all()
    done = 0
    for booking_id, why in ended:

        async def attempt(booking_id: int = booking_id, why: str | None = why) -> int:
            async with db.transaction() as s:
                course = await s.scalar(
                    select(Course)
                    .join(Booking, Booking.course_id == Course.id)
                    .where(Booking.id == booking_id)
                )
                refunded = await billing.refund_in_full(
                    s,
                    reference(booking_id),
                    description=f"Cancellation: {course.code} {course.title}" if course else "",
                    reason=why or "Cancelled by the organiser",
                    actor="system",
                    now=clock.now(),
                )
                return 1 if refunded else 0

        done += await with_retry(attempt)
    return done


async def run_sweeps(db: Database, clock: Clock, settings: Settings) -> int:
    """The worker's billing step: payment holds, refunds owed, then the queued Stripe calls."""
    config = billing_config(settings)
    count = await expire_payment_holds(db, clock) + await refund_released_places(db, clock)
    if config.gateway is not None:
        delivery = await billing.deliver_actions(db.transaction, config.gateway, clock.now)
        count += delivery.done
        for error in delivery.errors:
            log.warning("a Stripe call failed (it will be retried): %s", error)
    return count


# ---------------------------------------------------------------------------------------------
# Budget holders: their requests, with spend against the limit


@dataclass(slots=True)
class SpendRequest:
    request_id: int
    booking_id: int
    learner: dict[str, Any]
    course: dict[str, Any]
    session_id: int
    session_start: datetime | None
    amount: Money | None
    cost_code: str | None
    spent: Money | None
    limit: Money | None
    over_limit: bool
    requested_at: datetime


async def spend_requests(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig
) -> list[SpendRequest]:
    """The budget-holder requests waiting for the actor, with spend so far this year."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people approve spending.")
    async with db.reading() as s:
        now = clock.now()
        rows = (
            await s.execute(
                select(ApprovalRequest, Booking, Person, Course, SessionRow.starts_at)
                .join(Booking, Booking.id == ApprovalRequest.booking_id)
                .join(Person, Person.id == Booking.learner_id)
                .join(Course, Course.id == Booking.course_id)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(
                    ApprovalRequest.status == "waiting",
                    ApprovalRequest.kind == "budget_holder",
                    ApprovalRequest.approver_id == actor.person_id,
                )
                .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
            )
        ).all()
        out = []
        for request, booking, person, course, starts_at in rows:
            price = course_price(course)
            check = None
            if price is not None and booking.cost_code:
                check = await billing.check_spend(
                    s,
                    booking.cost_code,
                    price,
                    committed=await committed_spend(s, booking.cost_code, exclude=booking.id),
                    today=now.date(),
                    year_start=config.year_start,
                )
            out.append(
                SpendRequest(
                    request_id=request.id,
                    booking_id=booking.id,
                    learner={"id": person.id, "name": person.name, "email": person.email},
                    course={"id": course.id, "code": course.code, "title": course.title},
                    session_id=booking.session_id,
                    session_start=starts_at,
                    amount=price,
                    cost_code=booking.cost_code,
                    spent=check.spent if check else None,
                    limit=check.limit if check else None,
                    over_limit=bool(check and check.over_limit),
                    requested_at=request.requested_at,
                )
            )
        return out


# ---------------------------------------------------------------------------------------------
# The port billing's pages use (billing/web.py)


class BookingBillingPort:
    def __init__(self, config: BillingConfig) -> None:
        self.config = config
        self.year_start = config.year_start
        self.cost_code_pattern = config.cost_code_pattern

    async def spend_requests(self, db: Database, clock: Clock, actor: Actor) -> list[SpendRequest]:
        return await spend_requests(db, clock, actor, self.config)

    async def committed(self, s: AsyncSession, cost_codes: Sequence[str]) -> dict[str, int]:
        return await committed_by_code(s, cost_codes)

    async def payment_page(
        self, db: Database, clock: Clock, actor: Actor, booking_id: int
    ) -> PaymentPage:
        return await payment_page(db, clock, actor, self.config, booking_id)

    async def stripe_webhook(
        self, db: Database, clock: Clock, payload: bytes, signature: str | None
    ) -> webhooks.WebhookResult:
        return await stripe_webhook(db, clock, self.config, payload, signature)

    async def create_cost_code(
        self, db: Database, clock: Clock, actor: Actor, data: billing.CostCodeInput
    ) -> billing.CostCodeView:
        return await add_cost_code(db, clock, actor, self.config, data)

    async def import_cost_codes(
        self, db: Database, clock: Clock, actor: Actor, text: str
    ) -> list[billing.ImportResult]:
        return await load_cost_codes(db, clock, actor, self.config, text)


def port(settings: Settings) -> BookingBillingPort:
    return BookingBillingPort(billing_config(settings))


# ---------------------------------------------------------------------------------------------
# Cost codes and the finance export (API)


async def create_cost_code(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, data: billing.CostCodeInput
) -> billing.CostCodeView:
    with billing_errors():
        return await add_cost_code(db, clock, actor, config, data)


async def add_cost_code(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, data: billing.CostCodeInput
) -> billing.CostCodeView:
    """A new cost code, audited. Refusals are billing's own errors: the cost-code page places
    them on their fields, the API (above) turns them into problems."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators manage cost codes.")
    async with db.transaction() as s:
        now = clock.now()
        view = await billing.create_cost_code(s, data, pattern=config.cost_code_pattern, now=now)
        await audit.record(
            s,
            action="cost_code.created",
            now=now,
            actor=actor,
            target=f"cost code {view.code}",
            details={"budget holder": data.budget_holder_email},
        )
        return view


async def import_cost_codes(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, text: str
) -> list[billing.ImportResult]:
    with billing_errors():
        return await load_cost_codes(db, clock, actor, config, text)


async def load_cost_codes(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig, text: str
) -> list[billing.ImportResult]:
    """Cost codes from CSV, audited with what changed; billing's own errors, as above."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators manage cost codes.")
    async with db.transaction() as s:
        now = clock.now()
        results = await billing.import_cost_codes(
            s, text, pattern=config.cost_code_pattern, now=now
        )
        created = [r.code for r in results if r.status == "created"]
        updated = [r.code for r in results if r.status == "updated"]
        if created or updated:
            await audit.record(
                s,
                action="cost_codes.imported",
                now=now,
                actor=actor,
                target=", ".join(f"cost code {c}" for c in [*created, *updated])[:200],
                details={"created": len(created), "updated": len(updated)},
            )
        return results


async def cost_code_spend(
    db: Database, clock: Clock, actor: Actor, config: BillingConfig
) -> list[billing.CodeSummary]:
    """Spend and fees per code this financial year: an administrator sees every code, a
    budget holder their own."""
    if not policy.is_person(actor):
        raise ForbiddenError("Only people see spending.")
    if not actor.is_admin and "budget_holder" not in actor.roles:
        raise ForbiddenError("Only budget holders and administrators see spending.")
    async with db.reading() as s:
        return await billing.dashboard(
            s,
            today=clock.now().date(),
            year_start=config.year_start,
            budget_holder_email=None if actor.is_admin else actor.email,
            committed=committed_by_code,
        )


async def journal_csv(
    db: Database, clock: Clock, actor: Actor, start: datetime | None, end: datetime | None
) -> str:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators export the journal.")
    today = clock.now().date()
    first = start.date() if start else today.replace(day=1)
    last = end.date() if end else today
    with billing_errors():
        async with db.reading() as s:
            return await billing.journal_csv(s, start=first, end=last)
