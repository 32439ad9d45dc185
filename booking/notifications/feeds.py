"""Private calendar feeds: a person's current bookings (and, for trainers, the sessions they
run) as an iCalendar feed at a secret URL."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import invitations, policy
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.domain.states import IN_CALENDAR
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.models import Booking, Course, Person, Room, SessionDate, SessionFacilitator
from booking.models import Session as SessionRow
from booking.notifications.formats import host

FEED_WINDOW = timedelta(days=90)
_IN_CALENDAR = sorted(state.value for state in IN_CALENDAR)

# The person's bookings in the feed: (booking, course, when its session last changed).
Booked = Sequence[Row[Booking, Course, datetime]]
# The sessions the person runs: (session, course).
Running = Sequence[Row[SessionRow, Course]]


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    body: bytes
    # When what the feed shows last changed (also its DTSTAMP, so unchanged data gives the
    # same bytes): HTTP's Last-Modified; the body's hash is its ETag.
    modified: datetime


async def calendar_token(db: Database, actor: Actor, *, reset: bool = False) -> str:
    """The actor's feed secret, made on first use; `reset` revokes the old URL."""
    if not policy.has_calendar_feed(actor):
        raise ForbiddenError("Only people have calendar feeds.")
    if not reset:
        # Every visit to "my bookings" asks; only the first visit writes.
        async with db.reading() as s:
            token = await s.scalar(
                select(Person.calendar_token).where(Person.id == actor.person_id)
            )
        if token is not None:
            return token
    async with db.transaction() as s:
        # Locked, so two first visits at once agree on one token.
        person = await s.scalar(
            select(Person).where(Person.id == actor.person_id).with_for_update()
        )
        if person is None:
            raise ForbiddenError("Your account no longer exists.")
        if person.calendar_token is None or reset:
            person.calendar_token = secrets.token_urlsafe(32)
        return person.calendar_token


async def calendar_feed(db: Database, clock: Clock, settings: Settings, token: str) -> CalendarFeed:
    """Current bookings (and, for trainers, the sessions they run) as an iCalendar feed."""
    if not token or len(token) > 64:
        raise NotFoundError("There is no such calendar.")
    async with db.reading() as s:
        person = await s.scalar(
            select(Person).where(Person.calendar_token == token, Person.active.is_(True))
        )
        if person is None:
            raise NotFoundError("There is no such calendar.")
        since = clock.now() - FEED_WINDOW
        booked = await _booked(s, person, since)
        run = await _running(s, person, since)
        modified = _latest(await _feed_modified(s, person, since), booked, run)
        session_ids = [b.session_id for b, _, _ in booked] + [r.id for r, _ in run]
        dates = await _dates_by_session(s, session_ids)
        places = await _places(s, session_ids)
        invites = [i for i in _invites(settings, person, booked, run, dates, places) if i.dates]
        modified = modified.astimezone(UTC).replace(microsecond=0)
        body = invitations.feed(
            f"Training — {person.name}",
            invites,
            uid=f"calendar-feed-{person.id}@{host(settings)}",
            stamp=modified,
            refresh=timedelta(hours=1),
        )
        return CalendarFeed(body, modified)


async def _booked(s: AsyncSession, person: Person, since: datetime) -> Booked:
    """The person's bookings in their calendar, with the course and the session's last change."""
    rows = await s.execute(
        select(Booking, Course, SessionRow.updated_at)
        .join(Course, Course.id == Booking.course_id)
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .where(
            Booking.learner_id == person.id,
            Booking.state.in_(_IN_CALENDAR),
            SessionRow.ends_at >= since,
        )
    )
    return rows.all()


async def _running(s: AsyncSession, person: Person, since: datetime) -> Running:
    """The open sessions the person runs, with their course."""
    rows = await s.execute(
        select(SessionRow, Course)
        .join(Course, Course.id == SessionRow.course_id)
        .join(SessionFacilitator, SessionFacilitator.session_id == SessionRow.id)
        .where(
            SessionFacilitator.person_id == person.id,
            SessionRow.status == "open",
            SessionRow.ends_at >= since,
        )
    )
    return rows.all()


def _latest(modified: datetime, booked: Booked, run: Running) -> datetime:
    """`modified`, or a later change to a course or session the feed shows."""
    shown = [m for _, course, changed in booked for m in (course.updated_at, changed)]
    shown += [m for session, course in run for m in (course.updated_at, session.updated_at)]
    return max([modified, *shown])


async def _dates_by_session(
    s: AsyncSession, session_ids: list[int]
) -> dict[int, list[SessionDate]]:
    dates: dict[int, list[SessionDate]] = {}
    if session_ids:
        for d in await s.scalars(
            select(SessionDate).where(
                SessionDate.session_id.in_(session_ids), SessionDate.removed_at.is_(None)
            )
        ):
            dates.setdefault(d.session_id, []).append(d)
    return dates


async def _places(s: AsyncSession, session_ids: list[int]) -> dict[int, str | None]:
    """Where each session is: the room and its address, or the joining link (the feed is
    private to a person who holds the place or runs the session)."""
    places: dict[int, str | None] = {}
    if session_ids:
        for sid, link, room_name, address in await s.execute(
            select(SessionRow.id, SessionRow.virtual_link, Room.name, Room.address)
            .outerjoin(Room, Room.id == SessionRow.room_id)
            .where(SessionRow.id.in_(session_ids))
        ):
            places[sid] = ", ".join(x for x in (room_name, address) if x) or link
    return places


def _invites(
    settings: Settings,
    person: Person,
    booked: Booked,
    run: Running,
    dates: dict[int, list[SessionDate]],
    places: dict[int, str | None],
) -> list[invitations.Invitation]:
    """One entry per booking the person holds, then one per session they run."""
    base, uid_domain = settings.base_url, host(settings)
    invites = [
        _feed_invite(
            settings,
            uid_domain,
            f"booking-{booking.id}",
            booking.sequence,
            course.title,
            f"{base}/bookings/{booking.id}",
            person,
            dates.get(booking.session_id, []),
            places.get(booking.session_id),
        )
        for booking, course, _ in booked
    ]
    invites += [
        _feed_invite(
            settings,
            uid_domain,
            f"session-{session.id}",
            session.sequence,
            f"{course.title} (you are running it)",
            f"{base}/sessions/{session.id}/roster",
            person,
            dates.get(session.id, []),
            places.get(session.id),
        )
        for session, course in run
    ]
    return invites


async def _feed_modified(s: AsyncSession, person: Person, since: datetime) -> datetime:
    """The latest change to the person, to any of their bookings (every state: a cancelled
    one leaves the feed), or to a session they run, or the moment one passed out of the
    feed's window. The courses and sessions shown are added by the caller."""
    ended_out = SessionRow.ends_at < since
    booking_changed, booking_left = (
        await s.execute(
            select(
                func.max(Booking.updated_at),
                func.max(
                    case(
                        (and_(Booking.state.in_(_IN_CALENDAR), ended_out), SessionRow.ends_at),
                        else_=None,
                    )
                ),
            )
            .join(SessionRow, SessionRow.id == Booking.session_id)
            .where(Booking.learner_id == person.id)
        )
    ).one()
    run_changed, run_left = (
        await s.execute(
            select(
                func.max(SessionRow.updated_at),
                func.max(
                    case(
                        (and_(SessionRow.status == "open", ended_out), SessionRow.ends_at),
                        else_=None,
                    )
                ),
            )
            .join(SessionFacilitator, SessionFacilitator.session_id == SessionRow.id)
            .where(SessionFacilitator.person_id == person.id)
        )
    ).one()
    moments = [person.updated_at, booking_changed, run_changed]
    moments += [left + FEED_WINDOW for left in (booking_left, run_left) if left is not None]
    return max(m for m in moments if m is not None)


def _feed_invite(
    settings: Settings,
    uid_domain: str,
    prefix: str,
    sequence: int,
    title: str,
    url: str,
    person: Person,
    dates: list[SessionDate],
    location: str | None = None,
) -> invitations.Invitation:
    return invitations.Invitation(
        uid_prefix=prefix,
        uid_domain=uid_domain,
        sequence=sequence,
        summary=title,
        description=f"{title}\n\n{url}",
        location=location,
        url=url,
        organizer_email=settings.mail_from,
        organizer_name="Training team",
        attendee_email=person.email,
        attendee_name=person.name,
        dates=[invitations.InviteDate(d.id, d.start_at, d.end_at, d.timezone) for d in dates],
    )
