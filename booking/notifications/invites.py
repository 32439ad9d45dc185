"""The calendar part of a message: an iCalendar REQUEST or CANCEL for the learner's booking."""

from __future__ import annotations

from datetime import datetime

from booking import invitations
from booking.config import Settings
from booking.notifications.facts import MessageFacts
from booking.notifications.formats import host, one_line
from booking.notifications.topics import CANCEL, CANCEL_DATES, REQUEST


def calendar_part(
    f: MessageFacts, calendar: str | None, settings: Settings, now: datetime
) -> tuple[bytes | None, str | None]:
    """The iCalendar bytes and their METHOD, or (None, None) when the message carries none:
    a REQUEST only while the learner holds the place, a CANCEL only if they held it."""
    if f.booking is None or f.course is None or f.learner is None or not f.dates:
        return None, None
    if calendar == REQUEST and f.holds_place or calendar == CANCEL and f.held_before:
        only = [d.id for d in f.dates]
    elif calendar == CANCEL_DATES and f.holds_place and f.removed:
        only = [d.id for d in f.removed]
    else:
        return None, None
    method = "REQUEST" if calendar == REQUEST else "CANCEL"
    ics = invitations.build(_invitation(f, settings), method=method, stamp=now, only_dates=only)
    return ics, method


def _invitation(f: MessageFacts, settings: Settings) -> invitations.Invitation:
    assert f.booking is not None and f.course is not None and f.learner is not None
    booking, course, session = f.booking, f.course, f.session
    link = f"{settings.base_url}/bookings/{booking.id}"
    return invitations.Invitation(
        uid_prefix=f"booking-{booking.id}",
        uid_domain=host(settings),
        sequence=int(f.payload.get("sequence", booking.sequence)),
        summary=course.title,
        description=f"{course.title}\n\n{course.summary}\n\nYour booking: {link}".strip(),
        location=f.location if f.room else (session.virtual_link if session else None),
        url=link,
        organizer_email=settings.mail_from,
        organizer_name="Training team",
        attendee_email=f.learner.email,
        attendee_name=one_line(f.learner.name),
        dates=[invitations.InviteDate(d.id, d.start_at, d.end_at, d.timezone) for d in f.all_dates],
    )
