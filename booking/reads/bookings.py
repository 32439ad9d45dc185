"""Views of bookings, as learners, trainers and the API see them, in a fixed number of queries.

A read model over the booking and what approvals and payments know of it (where a request is
waiting, the fee charged, the cancellation quote). It sits below the use cases that answer with
a booking's view (booking, approvals, roster) and above payments, whose facts it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import RowMapping, Table, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from billing.domain.money import Money
from booking import payments
from booking.domain.approvals import approver_label, decode_plan
from booking.domain.states import BookingState
from booking.domain.vocabulary import ApprovalKind, BookingStateName
from booking.kernel.dates import active_dates, date_views
from booking.kernel.driver import transient
from booking.kernel.views import (
    ApprovalWaitView,
    BookingView,
    CancellationQuoteView,
    HistoryView,
    LearnerView,
    MoneyView,
    SessionDateView,
)
from booking.models import (
    ApprovalRequest,
    Booking,
    BookingHistory,
    Course,
    OrgUnit,
    Person,
    SessionDate,
)

_AHEAD = aliased(Booking)
_POSITIONS = (
    select(Booking.id, func.count(_AHEAD.id))
    .join(
        _AHEAD,
        and_(
            _AHEAD.session_id == Booking.session_id,
            _AHEAD.state == BookingState.WAITLISTED,
            _AHEAD.waitlist_seq <= Booking.waitlist_seq,
        ),
    )
    .where(Booking.id.in_(bindparam("booking_ids", expanding=True)))
    .group_by(Booking.id)
)
_BOOKING_TABLE = cast(Table, Booking.__table__)
# Core rows, not ORM entities: a roster reads a hundred bookings with their learners, and the
# ORM's loading (identity map, instance state, attribute events) was most of the roster page's
# CPU. The booking comes back as a transient object (`driver.transient`) for the code that takes
# one; the learner only as the fields its view shows.
_BOOKING_ROWS = (
    select(
        _BOOKING_TABLE,
        Course.code.label("course_code"),
        Course.title.label("course_title"),
        Course.price_currency.label("course_currency"),
        Person.name.label("learner_name"),
        Person.email.label("learner_email"),
        Person.job_role.label("learner_job_role"),
        OrgUnit.code.label("learner_unit"),
    )
    .join(Course, Course.id == _BOOKING_TABLE.c.course_id)
    .join(Person, Person.id == _BOOKING_TABLE.c.learner_id)
    .outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
)
_SESSION_BOOKINGS = _BOOKING_ROWS.where(
    _BOOKING_TABLE.c.session_id == bindparam("session_id")
).order_by(
    _BOOKING_TABLE.c.waitlist_seq.nulls_last(),
    _BOOKING_TABLE.c.created_at,
    _BOOKING_TABLE.c.id,
)
_BOOKINGS = _BOOKING_ROWS.where(_BOOKING_TABLE.c.id.in_(bindparam("ids", expanding=True)))
_BOOKING_KEYS = [(c.key, c) for c in _BOOKING_TABLE.c]


async def booking_view(s: AsyncSession, booking_id: int, *, now: datetime) -> BookingView:
    return (await booking_views(s, [booking_id], now=now, with_history=True))[0]


async def booking_views(
    s: AsyncSession, ids: list[int], *, now: datetime, with_history: bool
) -> list[BookingView]:
    """Views of many bookings in a fixed number of queries."""
    if not ids:
        return []
    rows = [r._mapping for r in await s.execute(_BOOKINGS, {"ids": ids})]
    by_id = {v.id: v for v in await _views(s, rows, now=now, with_history=with_history)}
    return [by_id[i] for i in ids if i in by_id]


async def session_booking_views(
    s: AsyncSession, session_id: int, *, now: datetime, dates: dict[int, list[SessionDate]]
) -> list[BookingView]:
    """Every booking of a session (waiting list in line order, then by creation), as
    `booking_views` without history, with the session's dates already read."""
    rows = [r._mapping for r in await s.execute(_SESSION_BOOKINGS, {"session_id": session_id})]
    return await _views(s, rows, now=now, with_history=False, dates=dates)


async def _views(
    s: AsyncSession,
    rows: list[RowMapping],
    *,
    now: datetime,
    with_history: bool,
    dates: dict[int, list[SessionDate]] | None = None,
) -> list[BookingView]:
    ids = [r["id"] for r in rows]
    bookings = [transient(Booking, {key: r[column] for key, column in _BOOKING_KEYS}) for r in rows]
    if dates is None:
        dates = await active_dates(s, list({b.session_id for b in bookings}))
    positions = await waitlist_positions(s, _in(bookings, BookingState.WAITLISTED))
    history = await _histories(s, ids) if with_history else {}
    waiting = await waiting_for(s, [b.id for b in _in(bookings, BookingState.PENDING_APPROVAL)])
    charged = await payments.fees_for(s, [b.id for b in _in(bookings, BookingState.CANCELLED)])
    quotes = await payments.quotes_for_bookings(s, bookings, now=now) if with_history else {}
    known: dict[int, list[SessionDateView]] = {}

    def shown(session_id: int) -> list[SessionDateView]:
        """A session's dates as shown, once for all its bookings (a roster's hundred)."""
        if session_id not in known:
            known[session_id] = date_views(dates[session_id])
        return known[session_id]

    views = []
    for booking, r in zip(bookings, rows, strict=True):
        learner = LearnerView(
            booking.learner_id,
            r["learner_name"],
            r["learner_email"],
            r["learner_job_role"],
            r["learner_unit"],
        )
        views.append(
            _view(
                booking,
                r["course_code"],
                r["course_title"],
                learner,
                position=positions.get(booking.id),
                fee=_fee_charged(booking, charged, r["course_currency"]),
                dates=shown(booking.session_id),
                history=history.get(booking.id, []),
                approval=waiting.get(booking.id),
                quote=quotes.get(booking.id),
            )
        )
    return views


def _in(bookings: Sequence[Booking], state: BookingState) -> list[Booking]:
    return [b for b in bookings if b.state == state]


async def _histories(s: AsyncSession, ids: list[int]) -> dict[int, list[HistoryView]]:
    history: dict[int, list[HistoryView]] = {}
    for h in await s.scalars(
        select(BookingHistory)
        .where(BookingHistory.booking_id.in_(ids))
        .order_by(BookingHistory.booking_id, BookingHistory.id)
    ):
        history.setdefault(h.booking_id, []).append(
            HistoryView(
                h.at,
                h.actor,
                cast(BookingStateName | None, h.from_state),
                cast(BookingStateName, h.to_state),
                h.reason,
            )
        )
    return history


def _fee_charged(booking: Booking, charged: dict[int, Money], currency: str) -> MoneyView | None:
    """A cancelled booking's fee as the ledger has it (none charged: nothing, in the course's
    currency); other bookings have none."""
    if booking.state != BookingState.CANCELLED:
        return None
    if booking.id in charged:
        return MoneyView(charged[booking.id].amount, charged[booking.id].currency)
    return MoneyView(0, currency)


async def new_booking_view(
    s: AsyncSession,
    booking: Booking,
    course: Course,
    learner: Person,
    *,
    unit_code: str | None,
    dates: Sequence[SessionDate],
    history: HistoryView,
    now: datetime,
) -> BookingView:
    """The answer to a new booking from what the transaction already holds (`booking_view`
    would read it all back; this reads only a waiting-list position or a pending approval).
    A test holds it equal to `GET /bookings/{id}`."""
    positions = await waitlist_positions(s, _in([booking], BookingState.WAITLISTED))
    waiting = (
        await waiting_for(s, [booking.id]) if booking.state == BookingState.PENDING_APPROVAL else {}
    )
    return booking_answer(
        booking,
        course,
        learner,
        unit_code=unit_code,
        dates=dates,
        history=history,
        now=now,
        position=positions.get(booking.id),
        approval=waiting.get(booking.id),
    )


def booking_answer(
    booking: Booking,
    course: Course,
    learner: Person,
    *,
    unit_code: str | None,
    dates: Sequence[SessionDate],
    history: HistoryView,
    now: datetime,
    position: int | None,
    approval: ApprovalWaitView | None = None,
) -> BookingView:
    """`new_booking_view` once its position and approval are known (no statement)."""
    quote = None
    if dates:
        # A new booking has no card payment through yet: nothing paid to refund.
        quote = payments.quote_from_rows(
            booking, course, start=dates[0].start_at, timezone=dates[0].timezone, paid=None, now=now
        )
    return _view(
        booking,
        course.code,
        course.title,
        LearnerView(learner.id, learner.name, learner.email, learner.job_role, unit_code),
        position=position,
        fee=None,
        dates=date_views(dates),
        history=[history],
        approval=approval,
        quote=quote,
    )


def cancelled_answer(
    booking: Booking,
    course: Course,
    learner: Person,
    *,
    unit_code: str | None,
    dates: Sequence[SessionDate],
    history: list[HistoryView],
    fee: MoneyView,
) -> BookingView:
    """`booking_view` of a booking just cancelled, from what the transaction already holds (a
    cancelled booking has no position, approval or quote; `fee` is what the ledger holds)."""
    return _view(
        booking,
        course.code,
        course.title,
        LearnerView(learner.id, learner.name, learner.email, learner.job_role, unit_code),
        position=None,
        fee=fee,
        dates=date_views(dates),
        history=history,
        approval=None,
        quote=None,
    )


def _view(
    booking: Booking,
    course_code: str,
    course_title: str,
    learner: LearnerView,
    *,
    position: int | None,
    fee: MoneyView | None,
    dates: list[SessionDateView],
    history: list[HistoryView],
    approval: ApprovalWaitView | None,
    quote: payments.QuoteView | None,
) -> BookingView:
    """The one place a booking's row becomes its view (read back, or new); its session's dates
    as shown (`date_views`, made once per session when many bookings share it)."""
    return BookingView(
        id=booking.id,
        session_id=booking.session_id,
        course_id=booking.course_id,
        course_code=course_code,
        course_title=course_title,
        learner=learner,
        state=cast(BookingStateName, booking.state),
        waitlist_position=position,
        offer_expires_at=booking.offer_expires_at,
        cost_code=booking.cost_code,
        special_requirements=booking.special_requirements,
        answers=booking.answers,
        cancel_reason=booking.cancel_reason,
        cancel_details=booking.cancel_details,
        fee=fee,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        dates=list(dates),
        history=history,
        approval=approval,
        override_reason=booking.override_reason,
        terms_version_accepted=booking.terms_version_accepted,
        cancellation_quote=_quote_dict(quote),
    )


def _quote_dict(quote: payments.QuoteView | None) -> CancellationQuoteView | None:
    if quote is None:
        return None
    tier = quote.policy_tier
    return {
        "fee": MoneyView(quote.fee.amount, quote.fee.currency),
        "refund": MoneyView(quote.refund.amount, quote.refund.currency) if quote.refund else None,
        "policy_tier": {
            "min_notice_hours": tier["min_notice_hours"],
            "fee_percent": tier["fee_percent"],
            "label": tier["label"],
        }
        if tier
        else None,
        "free_until": quote.free_until,
        "terms": quote.terms,
    }


async def waitlist_positions(s: AsyncSession, waiting: Sequence[Booking]) -> dict[int, int]:
    """1-based waitlist positions of these waiting bookings, in one query however many sessions
    they are spread over: for each, the waiting bookings of its session at or ahead of it. The
    one place a position is counted (pages, the API, emails)."""
    if not waiting:
        return {}
    rows = await s.execute(_POSITIONS, {"booking_ids": [b.id for b in waiting]})
    return {booking_id: int(count) for booking_id, count in rows}


async def waiting_for(s: AsyncSession, booking_ids: Sequence[int]) -> dict[int, ApprovalWaitView]:
    """Where each pending booking's request is waiting: shown to the learner."""
    if not booking_ids:
        return {}
    rows = (
        await s.execute(
            select(ApprovalRequest, Person.name)
            .outerjoin(Person, Person.id == ApprovalRequest.approver_id)
            .where(
                ApprovalRequest.booking_id.in_(list(booking_ids)),
                ApprovalRequest.status == "waiting",
            )
        )
    ).all()
    return {
        r.booking_id: {
            "request_id": r.id,
            "kind": cast(ApprovalKind, r.kind),
            "approver": name or "the training team",
            "label": approver_label(r.kind),
            "since": r.requested_at,
            "note": decode_plan(r.note)[0],
        }
        for r, name in rows
    }
