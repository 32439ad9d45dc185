"""Notifications: rendering outbox rows into email (text, HTML, iCalendar), delivering them
at least once and effectively once, the sweeps that queue reminders, and calendar feeds.

Delivery: a worker claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never
hold the same row) under a short lease its heartbeat renews (booking/kernel/claims.py), sends,
then marks the row sent only if it still holds the claim. A worker that dies between sending and
marking leaves the claim to lapse within one lease; the row is sent again with the same
Message-ID, so receivers can drop the duplicate. After success a row is never sent again.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import markupsafe
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from booking import PROJECT_ROOT, approvals, invitations, payments, policy
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.kernel import audit, claims
from booking.kernel.actors import Actor
from booking.kernel.dates import local
from booking.kernel.errors import ForbiddenError, NotFoundError
from booking.kernel.tx import with_retry
from booking.mailer import Mailer
from booking.models import (
    Booking,
    Course,
    Outbox,
    Person,
    Room,
    SessionDate,
    SessionFacilitator,
)
from booking.models import Session as SessionRow

log = logging.getLogger(__name__)

# The default lease of a claimed row (BOOKING_WORKER_CLAIM_LEASE); renewed while the worker
# lives (see booking/kernel/claims.py).
CLAIM_LEASE = claims.DEFAULT_LEASE
MAX_ATTEMPTS = 8
OFFER_EXPIRING_NOTICE = timedelta(hours=2)
ROSTER_SUMMARY_AHEAD = timedelta(hours=24)

# topic → (template, calendar part). "request" = METHOD:REQUEST with the current dates if the
# learner holds the place; "cancel" = METHOD:CANCEL if they held it; "cancel_dates" = CANCEL for
# the dates named in the payload only.
TOPICS: dict[str, tuple[str, str | None]] = {
    "booking.booked": ("booked", "request"),
    "booking.promoted": ("promoted", "request"),
    "booking.waitlisted": ("waitlisted", None),
    "booking.offered": ("offered", None),
    "booking.offer_expiring": ("offer_expiring", None),
    "booking.offer_expired": ("offer_expired", None),
    "booking.cancelled": ("cancelled", "cancel"),
    "booking.waitlist_closed": ("waitlist_closed", None),
    "booking.reminder": ("reminder", None),
    "booking.moved": ("moved", "request"),
    "booking.pending_approval": ("pending_approval", None),
    "booking.declined": ("declined", None),
    "booking.approval_lapsed": ("approval_lapsed", None),
    "booking.pending_payment": ("pending_payment", None),
    "approval.requested": ("approval_requested", None),
    "approval.reminder": ("approval_reminder", None),
    "session.changed": ("session_changed", "request"),
    "session.date_removed": ("date_removed", "cancel_dates"),
    "session.cancelled": ("session_cancelled", "cancel"),
    "trainer.booked": ("trainer_booked", None),
    "trainer.cancelled": ("trainer_cancelled", None),
    "trainer.roster": ("trainer_roster", None),
    "account.password_reset": ("password_reset", None),
    "trainer.message": ("trainer_message", None),
    "session.under_minimum": ("under_minimum", None),
    "course.new_session": ("new_session", None),
    "certification.window_open": ("certification_window_open", None),
    "certification.expiring": ("certification_expiring", None),
}
# States in which the learner's calendar holds the session.
IN_CALENDAR = ("booked", "pending_payment", "attended", "partially_attended", "no_show")

_env: Environment | None = None


def _templates() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=FileSystemLoader(PROJECT_ROOT / "templates" / "email"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _env


def one_line(value: str) -> str:
    """Header values never carry CR or LF (no header injection through names or titles)."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _clock(d: datetime) -> str:
    return d.strftime("%I:%M %p").lstrip("0")


def format_slot(start: datetime, end: datetime, tz: str) -> str:
    """'Tuesday 16 March 2027, 9:30 AM – 12:30 PM Europe/London' in the date's own zone."""
    s, e = local(start, tz), local(end, tz)
    day = s.strftime("%A %-d %B %Y")
    if s.date() == e.date():
        return f"{day}, {_clock(s)} – {_clock(e)} {tz}"
    return f"{day}, {_clock(s)} – {e.strftime('%A %-d %B %Y')}, {_clock(e)} {tz}"


def format_moment(at: datetime, tz: str) -> str:
    """'Tuesday 16 March 2027, 9:30 AM Europe/London'."""
    d = local(at, tz)
    return f"{d.strftime('%A %-d %B %Y')}, {_clock(d)} {tz}"


# ---------------------------------------------------------------------------------------------
# Rendering


@dataclass(slots=True)
class Rendered:
    outbox_id: int
    topic: str
    to_email: str
    to_name: str
    subject: str
    text: str
    html: str
    message_id: str
    ics: bytes | None = None
    method: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _message_id(row: Outbox, settings: Settings) -> str:
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    return f"<outbox-{row.id}.{row.created_at:%Y%m%d%H%M%S}@{domain}>"


def _host(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or "localhost"


async def render_row(s: AsyncSession, row: Outbox, settings: Settings, now: datetime) -> Rendered:
    """The email for one outbox row, from the database as it is now and the row's payload."""
    if row.topic not in TOPICS:
        raise LookupError(f"no email template for topic {row.topic!r}")
    template_name, calendar = TOPICS[row.topic]
    payload = row.payload or {}
    recipient = await s.get(Person, row.recipient_id) if row.recipient_id else None
    if recipient is None:
        raise LookupError(f"outbox row {row.id} has no recipient")
    session = await s.get(SessionRow, row.session_id) if row.session_id else None
    booking = await s.get(Booking, row.booking_id) if row.booking_id else None
    course_id = session.course_id if session else payload.get("course_id")
    course = await s.get(Course, int(course_id)) if course_id else None
    learner = await s.get(Person, booking.learner_id) if booking else None
    room = await s.get(Room, session.room_id) if session and session.room_id else None
    all_dates = (
        list(
            await s.scalars(
                select(SessionDate)
                .where(SessionDate.session_id == session.id)
                .order_by(SessionDate.start_at)
            )
        )
        if session
        else []
    )
    dates = [d for d in all_dates if d.removed_at is None]
    removed_ids = set(payload.get("date_ids") or [])
    removed = [d for d in all_dates if d.id in removed_ids]

    holds_place = bool(booking and booking.state in IN_CALENDAR)
    held_before = payload.get("from_state") in IN_CALENDAR
    location = None
    if room is not None:
        location = ", ".join(x for x in (room.name, room.address) if x)
    elif session is not None and session.virtual_link:
        location = "Online"
    position = None
    if booking is not None and booking.state == "waitlisted" and booking.waitlist_seq:
        position = await s.scalar(
            select(func.count()).where(
                Booking.session_id == booking.session_id,
                Booking.state == "waitlisted",
                Booking.waitlist_seq <= booking.waitlist_seq,
            )
        )
    roster_counts: dict[str, int] = {}
    if row.topic == "trainer.roster" and session is not None:
        roster_counts = dict(
            (
                await s.execute(
                    select(Booking.state, func.count())
                    .where(Booking.session_id == session.id)
                    .group_by(Booking.state)
                )
            ).all()
        )
    fee = None
    if row.topic == "booking.cancelled" and booking is not None:
        # What the cancellation cost, as the ledger says at sending time (net of a waiver).
        charged = (await payments.fees_for(s, [booking.id])).get(booking.id)
        if charged is not None and charged.amount > 0:
            fee = {"amount": charged.display(), "cost_code": booking.cost_code}
    base = settings.base_url
    approval = None
    if row.topic.startswith("approval.") and payload.get("request_id"):
        # One-click links for this approver and this request; signed when the row was queued,
        # so every retry sends the same links. They are single-use: a decided request refuses.
        request_id = int(payload["request_id"])
        approval = {
            decision: approvals.decision_link(
                settings,
                request_id,
                recipient.id,
                decision,
                row.created_at,
                until=session.signup_closes if session else None,
            )
            for decision in ("approve", "decline")
        }
    context = {
        # Names are one line wherever they appear (a pasted CR/LF cannot start a new line).
        "recipient": {"name": one_line(recipient.name), "email": recipient.email},
        "learner": {"name": one_line(learner.name), "email": learner.email} if learner else None,
        "course": {"title": course.title, "code": course.code, "summary": course.summary}
        if course
        else None,
        "dates": [format_slot(d.start_at, d.end_at, d.timezone) for d in dates],
        "removed_dates": [format_slot(d.start_at, d.end_at, d.timezone) for d in removed],
        "location": location,
        "room": {"name": room.name, "address": room.address, "details": room.details}
        if room
        else None,
        # The joining link goes only to learners holding a place, and to trainers.
        "virtual_link": session.virtual_link
        if session and (holds_place or row.topic.startswith("trainer."))
        else None,
        "booking": {
            "id": booking.id,
            "state": booking.state,
            "offer_expires_at": format_moment(booking.offer_expires_at, dates[0].timezone)
            if booking.offer_expires_at and dates
            else None,
            "special_requirements": booking.special_requirements,
        }
        if booking
        else None,
        "position": position,
        "reason": payload.get("reason"),
        "session_reason": session.cancel_reason if session else None,
        "roster": roster_counts,
        "approval": approval,
        "fee": fee,
        "message": {
            "subject": one_line(str(payload.get("subject") or "")),
            "body": str(payload.get("body") or ""),
            "from_name": one_line(str(payload.get("from_name") or "The trainer")),
        }
        if row.topic == "trainer.message"
        else None,
        "counts": {"booked": payload.get("booked"), "minimum": payload.get("minimum")},
        # A CANCEL for the dates of a session the booking has since moved away from.
        "moved_away": bool(booking and session and booking.session_id != session.id),
        "links": {
            "booking": f"{base}/bookings/{booking.id}" if booking else None,
            "my_bookings": f"{base}/me/bookings",
            "session": f"{base}/sessions/{session.id}" if session else None,
            "roster": f"{base}/sessions/{session.id}/roster" if session else None,
            "catalogue": f"{base}/courses",
            "course": f"{base}/courses/{course.id}" if course else None,
            "approvals": f"{base}/approvals",
        },
        "organiser": settings.mail_from,
        # Account messages (a password reset link) carry what they need in the payload.
        "payload": payload if row.topic.startswith("account.") else {},
    }
    env = _templates()
    text_template = env.get_template(f"{template_name}.txt")
    subject = one_line("".join(text_template.blocks["subject"](text_template.new_context(context))))
    body = "".join(text_template.blocks["body"](text_template.new_context(context))).strip()
    html = env.get_template("_layout.html").render(
        subject=subject, paragraphs=_paragraphs(body), buttons=_buttons(context, row.topic)
    )

    ics: bytes | None = None
    method: str | None = None
    if booking is not None and course is not None and learner is not None and dates:
        invite = invitations.Invitation(
            uid_prefix=f"booking-{booking.id}",
            uid_domain=_host(settings),
            sequence=int(payload.get("sequence", booking.sequence)),
            summary=course.title,
            description=f"{course.title}\n\n{course.summary}\n\nYour booking: "
            f"{base}/bookings/{booking.id}".strip(),
            location=location if room else (session.virtual_link if session else None),
            url=f"{base}/bookings/{booking.id}",
            organizer_email=settings.mail_from,
            organizer_name="Training team",
            attendee_email=learner.email,
            attendee_name=one_line(learner.name),
            dates=[
                invitations.InviteDate(d.id, d.start_at, d.end_at, d.timezone) for d in all_dates
            ],
        )
        current_ids = [d.id for d in dates]
        if calendar == "request" and holds_place:
            method = "REQUEST"
            ics = invitations.build(invite, method=method, stamp=now, only_dates=current_ids)
        elif calendar == "cancel" and held_before:
            method = "CANCEL"
            ics = invitations.build(invite, method=method, stamp=now, only_dates=current_ids)
        elif calendar == "cancel_dates" and holds_place and removed:
            method = "CANCEL"
            ics = invitations.build(
                invite, method=method, stamp=now, only_dates=[d.id for d in removed]
            )
    return Rendered(
        outbox_id=row.id,
        topic=row.topic,
        to_email=recipient.email,
        to_name=recipient.name,
        subject=subject,
        text=body + "\n",
        html=html,
        message_id=_message_id(row, settings),
        ics=ics,
        method=method,
    )


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def _buttons(context: dict[str, Any], topic: str) -> list[dict[str, str]]:
    """The HTML version's call to action (the text version spells the same links out)."""
    links = context["links"]
    if context["approval"]:
        return [
            {"href": context["approval"]["approve"], "label": "Approve"},
            {"href": context["approval"]["decline"], "label": "Decline"},
            {"href": links["approvals"], "label": "All requests waiting for you"},
        ]
    if topic.startswith("approval."):
        return [{"href": links["approvals"], "label": "Requests waiting for you"}]
    if topic == "account.password_reset":
        link = context["payload"].get("link")
        return [{"href": link, "label": "Choose a new password"}] if link else []
    for_trainers = topic.startswith("trainer.") and topic != "trainer.message"
    if for_trainers or topic == "session.under_minimum":
        return [{"href": links["roster"], "label": "Open the roster"}] if links["roster"] else []
    if topic == "course.new_session" and links["session"]:
        return [{"href": links["session"], "label": "See the new session"}]
    if links["booking"]:
        return [{"href": links["booking"], "label": "View your booking"}]
    return [{"href": links["my_bookings"], "label": "Your bookings"}]


def encoded_subject(subject: str) -> str:
    """The Subject as folded RFC 2047 encoded words, every character inside them.

    Whitespace between two encoded words is dropped when they are decoded, so a space between
    two non-ASCII words must travel inside an encoded word. CPython's own folding (3.11,
    `policy.SMTP`) puts it between them when it folds a long Subject, and the spaces vanish
    ("back\\slash é 日本語 — Très" arrives as "back\\slash  é日本語—Très"). The legacy
    `email.header.Header` encoder keeps them inside; its lines are at most 76 octets, so the policy
    sends them as they are (`set_raw`). Always encoding (even ASCII) also means text that looks
    like an encoded word arrives as typed."""
    return Header(one_line(subject), "utf-8", header_name="Subject").encode(linesep="\r\n")


def to_email(rendered: Rendered, settings: Settings, now: datetime) -> EmailMessage:
    """multipart/mixed[alternative[text, html, text/calendar; method=…], invite.ics]."""
    msg = EmailMessage(policy=SMTP)
    msg.set_raw("Subject", encoded_subject(rendered.subject))
    user, _, domain = settings.mail_from.partition("@")
    msg["From"] = Address(display_name="Training team", username=user, domain=domain or "localhost")
    to_user, _, to_domain = rendered.to_email.partition("@")
    msg["To"] = Address(display_name=one_line(rendered.to_name), username=to_user, domain=to_domain)
    msg["Message-ID"] = rendered.message_id
    msg["Date"] = format_datetime(now)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    if rendered.ics is not None and rendered.method is not None:
        ics_text = rendered.ics.decode("utf-8")
        # The MIME method parameter must equal the calendar's METHOD.
        msg.add_alternative(ics_text, subtype="calendar", params={"method": rendered.method})
        msg.add_attachment(
            rendered.ics, maintype="application", subtype="ics", filename="invite.ics"
        )
    return msg


# ---------------------------------------------------------------------------------------------
# Delivery


@dataclass(slots=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    # Rows left unsent because this worker's claim lapsed before their turn (another worker
    # may hold them now).
    lapsed: int = 0


async def deliver_due(
    db: Database,
    clock: Clock,
    settings: Settings,
    mailer: Mailer,
    *,
    limit: int = 50,
    heartbeat_every: float | None = None,
) -> DeliveryReport:
    """Claim due email rows, send each, mark it sent. Failures wait with backoff. The claims
    are renewed while this runs (`claims.heartbeat`; `heartbeat_every` seconds, by default a
    third of the lease), so only a worker that stops answering loses them."""
    report = DeliveryReport()
    token = str(uuid.uuid4())
    lease = timedelta(seconds=settings.worker_claim_lease)
    claimed = await with_retry(
        partial(claims.claim_due, db, clock, channel="email", token=token, limit=limit, lease=lease)
    )
    report.claimed = len(claimed)
    if not claimed:
        return report
    async with claims.heartbeat(db, clock, token, lease, every=heartbeat_every):
        for row_id, _ in claimed:
            try:
                async with db.reading() as s:
                    row = await s.get_one(Outbox, row_id)
                    now = clock.now()
                    # A worker stalled past its lease (no heartbeat got through) may have lost
                    # the row to another worker; sending it here too would be a needless repeat.
                    if not claims.still_held(row, token, now):
                        report.lapsed += 1
                        continue
                    message = to_email(await render_row(s, row, settings, now), settings, now)
                await mailer.send(message)
            except Exception as exc:  # any failure: the row waits and is tried again
                log.warning("outbox row %s not sent: %s", row_id, exc)
                await with_retry(partial(_release, db, clock, row_id, token, exc))
                report.failed += 1
                continue
            if await with_retry(partial(_mark_sent, db, clock, row_id, token)):
                report.sent += 1
    return report


async def _mark_sent(db: Database, clock: Clock, row_id: int, token: str) -> bool:
    async with db.transaction() as s:
        result = await s.execute(
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.claim_token == token, Outbox.sent_at.is_(None))
            .values(
                status="sent",
                sent_at=clock.now(),
                claimed_until=None,
                claim_token=None,
                last_error=None,
            )
        )
        return bool(getattr(result, "rowcount", 0))


async def _release(db: Database, clock: Clock, row_id: int, token: str, exc: Exception) -> None:
    async with db.transaction() as s:
        row = await s.get(Outbox, row_id)
        if row is None or row.claim_token != token or row.sent_at is not None:
            return
        now = clock.now()
        row.claimed_until = None
        row.claim_token = None
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.available_at = now + claims.backoff(row.attempts)


# ---------------------------------------------------------------------------------------------
# Sweeps that queue messages (each deduplicated by its key, so ticks may repeat freely)


async def queue_reminders(db: Database, clock: Clock, offsets: Sequence[timedelta]) -> int:
    """'Your session is in 7 days / tomorrow' to learners booked before that point.

    A booking made after a reminder's point gets no such reminder (it was just told). When a
    worker was down across several points, only the nearest reminder goes, not all of them.
    """
    ordered = sorted({o for o in offsets if o > timedelta(0)})
    if not ordered:
        return 0
    widest = ordered[-1]

    async def attempt() -> int:
        async with db.transaction() as s:
            now = clock.now()
            candidates = (
                await s.execute(
                    select(
                        Booking.id,
                        Booking.learner_id,
                        Booking.session_id,
                        Booking.created_at,
                        SessionRow.starts_at,
                    )
                    .join(SessionRow, SessionRow.id == Booking.session_id)
                    .where(
                        Booking.state == "booked",
                        SessionRow.status == "open",
                        SessionRow.starts_at > now,
                        SessionRow.starts_at <= now + widest,
                    )
                    .order_by(Booking.id)
                )
            ).all()
            wanted: dict[str, tuple[Any, str]] = {}
            for r in candidates:
                # The nearest point already passed that the booking was made before.
                due = next(
                    (
                        o
                        for o in ordered
                        if r.starts_at <= now + o and r.created_at <= r.starts_at - o
                    ),
                    None,
                )
                if due is not None:
                    label = _hours_label(due)
                    wanted[f"booking.reminder:{r.id}:{label}"] = (r, label)
            if not wanted:
                return 0
            done = set(
                await s.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(wanted)))
            )
            queued = 0
            for key, (r, label) in wanted.items():
                if key in done:
                    continue
                await _queue(
                    s,
                    "booking.reminder",
                    r.learner_id,
                    r.id,
                    r.session_id,
                    now,
                    key,
                    {"booking_id": r.id, "session_id": r.session_id, "offset": label},
                )
                queued += 1
            return queued

    return await with_retry(attempt)


def _hours_label(offset: timedelta) -> str:
    return f"{int(offset.total_seconds() // 3600)}h"


async def queue_offer_expiring(db: Database, clock: Clock) -> int:
    """'Your held place expires soon', once per offer. An offer made with less time than the
    notice left (its own message gives the deadline) gets no second message straight after."""

    async def attempt() -> int:
        async with db.transaction() as s:
            now = clock.now()
            key = _key("booking.offer_expiring:", Booking.id, ":", Booking.sequence)
            rows = (
                await s.execute(
                    select(
                        Booking.id,
                        Booking.learner_id,
                        Booking.session_id,
                        Booking.sequence,
                        Booking.updated_at,
                        Booking.offer_expires_at,
                    ).where(
                        Booking.state == "offered",
                        Booking.offer_expires_at > now,
                        Booking.offer_expires_at <= now + OFFER_EXPIRING_NOTICE,
                        ~exists().where(Outbox.dedupe_key == key),
                    )
                )
            ).all()
            queued = 0
            for r in rows:
                if r.offer_expires_at - r.updated_at <= OFFER_EXPIRING_NOTICE:
                    continue  # offered inside the notice window: just told
                await _queue(
                    s,
                    "booking.offer_expiring",
                    r.learner_id,
                    r.id,
                    r.session_id,
                    now,
                    f"booking.offer_expiring:{r.id}:{r.sequence}",
                    {"booking_id": r.id, "session_id": r.session_id},
                )
                queued += 1
            return queued

    return await with_retry(attempt)


async def queue_roster_summaries(db: Database, clock: Clock) -> int:
    """The day before a session, each trainer gets a summary of its roster."""

    async def attempt() -> int:
        async with db.transaction() as s:
            now = clock.now()
            key = _key("trainer.roster:", SessionRow.id, ":", SessionFacilitator.person_id)
            rows = (
                await s.execute(
                    select(SessionRow.id, SessionFacilitator.person_id)
                    .join(SessionFacilitator, SessionFacilitator.session_id == SessionRow.id)
                    .where(
                        SessionRow.status == "open",
                        SessionRow.starts_at > now,
                        SessionRow.starts_at <= now + ROSTER_SUMMARY_AHEAD,
                        ~exists().where(Outbox.dedupe_key == key),
                    )
                )
            ).all()
            for session_id, person_id in rows:
                await _queue(
                    s,
                    "trainer.roster",
                    person_id,
                    None,
                    session_id,
                    now,
                    f"trainer.roster:{session_id}:{person_id}",
                    {"session_id": session_id},
                )
            return len(rows)

    return await with_retry(attempt)


def _key(*parts: Any) -> ColumnElement[str]:
    """A dedupe key built in SQL with `||` (SQLite before 3.44 has no concat())."""
    expr: ColumnElement[str] = literal("")
    for part in parts:
        expr = expr + (literal(part) if isinstance(part, str) else cast(part, String))
    return expr


async def _queue(
    s: AsyncSession,
    topic: str,
    recipient_id: int,
    booking_id: int | None,
    session_id: int | None,
    now: datetime,
    dedupe_key: str,
    payload: dict[str, Any],
) -> None:
    await s.execute(
        insert(Outbox).values(
            channel="email",
            topic=topic,
            recipient_id=recipient_id,
            booking_id=booking_id,
            session_id=session_id,
            payload=payload,
            dedupe_key=dedupe_key,
            created_at=now,
            available_at=now,
        )
    )


# ---------------------------------------------------------------------------------------------
# The administrators' outbox page


@dataclass(slots=True)
class OutboxItem:
    id: int
    topic: str
    status: str
    to_email: str | None
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    available_at: datetime


async def list_outbox(
    db: Database, actor: Actor, *, status: str | None = None, limit: int = 100
) -> list[OutboxItem]:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can read the outbox.")
    async with db.reading() as s:
        stmt = (
            select(Outbox, Person.email)
            .outerjoin(Person, Person.id == Outbox.recipient_id)
            .order_by(Outbox.id.desc())
            .limit(limit)
        )
        if status:
            stmt = stmt.where(Outbox.status == status)
        return [
            OutboxItem(
                o.id,
                o.topic,
                o.status,
                email,
                o.created_at,
                o.sent_at,
                o.attempts,
                o.last_error,
                o.available_at,
            )
            for o, email in (await s.execute(stmt)).all()
        ]


async def show_message(
    db: Database, clock: Clock, settings: Settings, actor: Actor, outbox_id: int
) -> Rendered:
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can read the outbox.")
    async with db.reading() as s:
        row = await s.get(Outbox, outbox_id)
        if row is None:
            raise NotFoundError(f"There is no message {outbox_id}.")
        rendered = await render_row(s, row, settings, clock.now())
    # A secret link (a password reset) is for its recipient only: an administrator reading the
    # outbox could otherwise take over the account.
    secret = (row.payload or {}).get("link") if row.topic.startswith("account.") else None
    if secret:
        withheld = "[link withheld: only the recipient sees it]"
        rendered.text = rendered.text.replace(secret, withheld)
        rendered.html = rendered.html.replace(secret, withheld).replace(
            str(markupsafe.escape(secret)), withheld
        )
    return rendered


async def requeue(db: Database, clock: Clock, actor: Actor, outbox_id: int) -> None:
    """Give a failed message another round of attempts."""
    if not policy.can_administer(actor):
        raise ForbiddenError("Only administrators can re-queue messages.")
    async with db.transaction() as s:
        row = await s.get(Outbox, outbox_id)
        if row is None:
            raise NotFoundError(f"There is no message {outbox_id}.")
        if row.status != "failed":
            return
        row.status = "pending"
        row.attempts = 0
        row.available_at = clock.now()
        row.claimed_until = None
        row.claim_token = None
        await audit.record(
            s,
            action="outbox.requeued",
            now=clock.now(),
            actor=actor,
            target=f"message {row.id}",
            details={"topic": row.topic},
        )


# ---------------------------------------------------------------------------------------------
# Private calendar feeds


async def calendar_token(db: Database, actor: Actor, *, reset: bool = False) -> str:
    """The actor's feed secret, made on first use; `reset` revokes the old URL."""
    if not policy.is_person(actor):
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


FEED_WINDOW = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    body: bytes
    # When what the feed shows last changed (also its DTSTAMP, so unchanged data gives the
    # same bytes): HTTP's Last-Modified; the body's hash is its ETag.
    modified: datetime


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
        now = clock.now()
        since = now - FEED_WINDOW
        host = _host(settings)
        items = (
            await s.execute(
                select(Booking, Course, SessionRow.updated_at)
                .join(Course, Course.id == Booking.course_id)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(
                    Booking.learner_id == person.id,
                    Booking.state.in_(IN_CALENDAR),
                    SessionRow.ends_at >= since,
                )
            )
        ).all()
        run = (
            await s.execute(
                select(SessionRow, Course)
                .join(Course, Course.id == SessionRow.course_id)
                .join(SessionFacilitator, SessionFacilitator.session_id == SessionRow.id)
                .where(
                    SessionFacilitator.person_id == person.id,
                    SessionRow.status == "open",
                    SessionRow.ends_at >= since,
                )
            )
        ).all()
        modified = await _feed_modified(s, person, since)
        for _, course, session_updated in items:
            modified = max(modified, course.updated_at, session_updated)
        for session, course in run:
            modified = max(modified, course.updated_at, session.updated_at)
        session_ids = [b.session_id for b, _, _ in items] + [r.id for r, _ in run]
        dates: dict[int, list[SessionDate]] = {}
        if session_ids:
            for d in await s.scalars(
                select(SessionDate).where(
                    SessionDate.session_id.in_(session_ids), SessionDate.removed_at.is_(None)
                )
            ):
                dates.setdefault(d.session_id, []).append(d)
        # Where each session is: the room and its address, or the joining link (the feed is
        # private to a person who holds the place or runs the session).
        places: dict[int, str | None] = {}
        if session_ids:
            for sid, link, room_name, address in await s.execute(
                select(SessionRow.id, SessionRow.virtual_link, Room.name, Room.address)
                .outerjoin(Room, Room.id == SessionRow.room_id)
                .where(SessionRow.id.in_(session_ids))
            ):
                places[sid] = ", ".join(x for x in (room_name, address) if x) or link
        invites = []
        for booking, course, _ in items:
            invites.append(
                _feed_invite(
                    settings,
                    host,
                    f"booking-{booking.id}",
                    booking.sequence,
                    course.title,
                    f"{settings.base_url}/bookings/{booking.id}",
                    person,
                    dates.get(booking.session_id, []),
                    places.get(booking.session_id),
                )
            )
        for session, course in run:
            invites.append(
                _feed_invite(
                    settings,
                    host,
                    f"session-{session.id}",
                    session.sequence,
                    f"{course.title} (you are running it)",
                    f"{settings.base_url}/sessions/{session.id}/roster",
                    person,
                    dates.get(session.id, []),
                    places.get(session.id),
                )
            )
        invites = [i for i in invites if i.dates]
        modified = modified.astimezone(UTC).replace(microsecond=0)
        body = invitations.feed(
            f"Training — {person.name}",
            invites,
            uid=f"calendar-feed-{person.id}@{host}",
            stamp=modified,
            refresh=timedelta(hours=1),
        )
        return CalendarFeed(body, modified)


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
                        (and_(Booking.state.in_(IN_CALENDAR), ended_out), SessionRow.ends_at),
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
    host: str,
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
        uid_domain=host,
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
