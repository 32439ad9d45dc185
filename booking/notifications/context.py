"""The templates' view of one message: plain data built from its facts, one part per concern."""

from __future__ import annotations

from typing import Any

from booking import approvals, policy
from booking.config import Settings
from booking.notifications.exemption_links import exemption_link
from booking.notifications.facts import MessageFacts
from booking.notifications.formats import format_moment, format_slot, one_line
from booking.notifications.topics import (
    is_about_approval,
    is_about_exemption,
    is_account_message,
    is_evidence_message,
    is_for_trainers,
)


def message_context(f: MessageFacts, settings: Settings) -> dict[str, Any]:
    """Everything a message template may use (templates get plain data, never ORM rows)."""
    return {
        **_people(f),
        **_course_and_place(f),
        "booking": _booking(f),
        "position": f.position,
        "reason": f.payload.get("reason"),
        "session_reason": f.session.cancel_reason if f.session else None,
        "roster": f.roster,
        "approval": _approval_links(f, settings),
        "fee": f.fee,
        "message": _trainer_message(f),
        "counts": {"booked": f.payload.get("booked"), "minimum": f.payload.get("minimum")},
        # A CANCEL for the dates of a session the booking has since moved away from.
        "moved_away": bool(f.booking and f.session and f.booking.session_id != f.session.id),
        "links": _links(f, settings.base_url),
        "organiser": settings.mail_from,
        "payload": f.payload
        if is_account_message(f.row.topic) or is_evidence_message(f.row.topic)
        else {},
        "summary": _summary(f) if f.row.topic == "compliance.summary" else None,
        "exemption": _exemption(f, settings),
    }


def _exemption(f: MessageFacts, settings: Settings) -> dict[str, Any] | None:
    """An exemption or extension request (its payload, names on one line) and, in the email
    asking for a decision, this recipient's one-click links, signed when the row was queued."""
    if not is_about_exemption(f.row.topic):
        return None
    p = f.payload
    request_id = p.get("request_id")
    links = (
        {
            d: exemption_link(settings, int(request_id), f.recipient.id, d, f.row.created_at)
            for d in ("approve", "decline")
        }
        if f.row.topic == "exemption.requested" and request_id and f.recipient.id
        else None
    )
    return {
        "kind": p.get("kind") or "exemption",
        "learner_name": one_line(str(p.get("learner_name") or "")),
        "learner_email": p.get("learner_email"),
        "reason": p.get("reason"),
        "until": p.get("until"),
        "due_at": p.get("due_at"),
        "state": p.get("state"),
        "comment": p.get("comment"),
        "owner_email": p.get("owner_email"),
        "as_owner": bool(p.get("as_owner")),
        "links": links,
        "queue": f"{settings.base_url}/exemptions",
    }


def _people(f: MessageFacts) -> dict[str, Any]:
    # Names are one line wherever they appear (a pasted CR/LF cannot start a new line).
    learner = f.learner
    return {
        "recipient": {"name": one_line(f.recipient.name), "email": f.recipient.email},
        "learner": {"name": one_line(learner.name), "email": learner.email} if learner else None,
    }


def _course_and_place(f: MessageFacts) -> dict[str, Any]:
    course, room, session = f.course, f.room, f.session
    # Emails go to people, not actors: never as an administrator; holding a place here is
    # having it in the calendar (booked, paying, or after the session).
    shows_link = policy.can_see_joining_link(
        is_admin=False, runs_session=is_for_trainers(f.row.topic), holds_place=f.holds_place
    )
    return {
        "course": {"title": course.title, "code": course.code, "summary": course.summary}
        if course
        else None,
        "dates": [format_slot(d.start_at, d.end_at, d.timezone) for d in f.dates],
        "removed_dates": [format_slot(d.start_at, d.end_at, d.timezone) for d in f.removed],
        "location": f.location,
        "room": {"name": room.name, "address": room.address, "details": room.details}
        if room
        else None,
        "virtual_link": session.virtual_link if session and shows_link else None,
    }


def _booking(f: MessageFacts) -> dict[str, Any] | None:
    booking = f.booking
    if booking is None:
        return None
    expires = booking.offer_expires_at
    return {
        "id": booking.id,
        "state": booking.state,
        "offer_expires_at": format_moment(expires, f.dates[0].timezone)
        if expires and f.dates
        else None,
        "special_requirements": booking.special_requirements,
    }


def _approval_links(f: MessageFacts, settings: Settings) -> dict[str, str] | None:
    """One-click links for this approver and this request; signed when the row was queued, so
    every retry sends the same links. They are single-use: a decided request refuses."""
    if not is_about_approval(f.row.topic) or not f.payload.get("request_id"):
        return None
    request_id = int(f.payload["request_id"])
    return {
        decision: approvals.decision_link(
            settings,
            request_id,
            f.recipient.id,
            decision,
            f.row.created_at,
            until=f.session.signup_closes if f.session else None,
        )
        for decision in ("approve", "decline")
    }


def _trainer_message(f: MessageFacts) -> dict[str, str] | None:
    if f.row.topic != "trainer.message":
        return None
    return {
        "subject": one_line(str(f.payload.get("subject") or "")),
        "body": str(f.payload.get("body") or ""),
        "from_name": one_line(str(f.payload.get("from_name") or "The trainer")),
    }


def _summary(f: MessageFacts) -> dict[str, Any]:
    """A line manager's monthly compliance summary, as queued (with defaults for any part
    missing, so an odd payload still renders)."""
    p = f.payload
    return {
        "month": str(p.get("month") or f"{f.row.created_at:%B %Y}"),
        "people": int(p.get("people") or 0),
        "required": int(p.get("required") or 0),
        "compliant": int(p.get("compliant") or 0),
        "percent": p.get("percent"),
        "overdue": [
            {k: one_line(str(line.get(k) or "")) for k in ("name", "course_title", "due")}
            for line in p.get("overdue") or []
            if isinstance(line, dict)
        ],
        "more_overdue": int(p.get("more_overdue") or 0),
    }


def _links(f: MessageFacts, base: str) -> dict[str, str | None]:
    booking, session, course = f.booking, f.session, f.course
    return {
        "booking": f"{base}/bookings/{booking.id}" if booking else None,
        "my_bookings": f"{base}/me/bookings",
        "session": f"{base}/sessions/{session.id}" if session else None,
        "roster": f"{base}/sessions/{session.id}/roster" if session else None,
        "catalogue": f"{base}/courses",
        "course": f"{base}/courses/{course.id}" if course else None,
        "approvals": f"{base}/approvals",
        "team": f"{base}/team?indirect=1",
        "evidence": f"{base}/evidence",
        "record": f"{base}/me/record",
    }


def buttons(context: dict[str, Any], topic: str) -> list[dict[str, str]]:
    """The HTML version's call to action (the text version spells the same links out)."""
    links = context["links"]
    exemption = context.get("exemption")
    if exemption:
        decide = exemption["links"]
        return [
            *(
                [
                    {"href": decide["approve"], "label": "Approve"},
                    {"href": decide["decline"], "label": "Decline"},
                ]
                if decide
                else []
            ),
            {"href": exemption["queue"], "label": "Exemptions and extensions"},
        ]
    if context["approval"]:
        return [
            {"href": context["approval"]["approve"], "label": "Approve"},
            {"href": context["approval"]["decline"], "label": "Decline"},
            {"href": links["approvals"], "label": "All requests waiting for you"},
        ]
    if is_about_approval(topic):
        return [{"href": links["approvals"], "label": "Requests waiting for you"}]
    if is_account_message(topic):
        link = context["payload"].get("link")
        label = context["payload"].get("link_label") or "Choose a new password"
        return [{"href": link, "label": label}] if link else []
    if topic == "evidence.submitted":
        return [{"href": links["evidence"], "label": "Evidence waiting for a decision"}]
    if topic == "evidence.decided":
        return [{"href": links["record"], "label": "Your record of learning"}]
    for_trainers = is_for_trainers(topic) and topic != "trainer.message"
    if for_trainers or topic == "session.under_minimum":
        return [{"href": links["roster"], "label": "Open the roster"}] if links["roster"] else []
    if topic == "course.new_session" and links["session"]:
        return [{"href": links["session"], "label": "See the new session"}]
    if topic == "compliance.summary":
        return [{"href": links["team"], "label": "Open your team"}]
    if links["booking"]:
        return [{"href": links["booking"], "label": "View your booking"}]
    return [{"href": links["my_bookings"], "label": "Your bookings"}]
