"""What each outbox topic sends: its email template and the calendar part it carries."""

from __future__ import annotations

# The calendar part of a message.
REQUEST = "request"  # METHOD:REQUEST with the current dates, if the learner holds the place
CANCEL = "cancel"  # METHOD:CANCEL for the current dates, if the learner held the place
CANCEL_DATES = "cancel_dates"  # METHOD:CANCEL for the dates named in the payload only

# topic → (template, calendar part).
TOPICS: dict[str, tuple[str, str | None]] = {
    "booking.booked": ("booked", REQUEST),
    "booking.promoted": ("promoted", REQUEST),
    "booking.waitlisted": ("waitlisted", None),
    "booking.offered": ("offered", None),
    "booking.offer_expiring": ("offer_expiring", None),
    "booking.offer_expired": ("offer_expired", None),
    "booking.cancelled": ("cancelled", CANCEL),
    "booking.waitlist_closed": ("waitlist_closed", None),
    "booking.reminder": ("reminder", None),
    "booking.moved": ("moved", REQUEST),
    "booking.pending_approval": ("pending_approval", None),
    "booking.declined": ("declined", None),
    "booking.approval_lapsed": ("approval_lapsed", None),
    "booking.pending_payment": ("pending_payment", None),
    "approval.requested": ("approval_requested", None),
    "approval.reminder": ("approval_reminder", None),
    "session.changed": ("session_changed", REQUEST),
    "session.date_removed": ("date_removed", CANCEL_DATES),
    "session.cancelled": ("session_cancelled", CANCEL),
    "trainer.booked": ("trainer_booked", None),
    "trainer.cancelled": ("trainer_cancelled", None),
    "trainer.roster": ("trainer_roster", None),
    "account.password_reset": ("password_reset", None),
    "account.request_confirm": ("account_request_confirm", None),
    "account.exists": ("account_exists", None),
    "account.approved": ("account_approved", None),
    "account.request_declined": ("account_request_declined", None),
    "trainer.message": ("trainer_message", None),
    "session.under_minimum": ("under_minimum", None),
    "course.new_session": ("new_session", None),
    "certification.window_open": ("certification_window_open", None),
    "certification.expiring": ("certification_expiring", None),
    "requirement.reminder": ("requirement_reminder", None),
    "requirement.escalation": ("requirement_escalation", None),
    "compliance.summary": ("compliance_summary", None),
    # Evidence of training done elsewhere (issue 18)
    "evidence.submitted": ("evidence_submitted", None),
    "evidence.decided": ("evidence_decided", None),
    # exemptions and extensions (mandatory learning)
    "exemption.requested": ("exemption_requested", None),
    "exemption.decided": ("exemption_decided", None),
}


def is_for_trainers(topic: str) -> bool:
    return topic.startswith("trainer.")


def is_about_approval(topic: str) -> bool:
    return topic.startswith("approval.")


def is_evidence_message(topic: str) -> bool:
    """Evidence messages name the learner and the decision in the payload; the one to a
    course owner that is a team mailbox (no person) carries its address there too."""
    return topic.startswith("evidence.")


def is_about_exemption(topic: str) -> bool:
    return topic.startswith("exemption.")


def is_account_message(topic: str) -> bool:
    """Account messages (a password reset link, an account request's confirmation link, a new
    account's welcome) carry what they need in the payload."""
    return topic.startswith("account.")
