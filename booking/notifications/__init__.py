"""Notifications: rendering and delivering the outbox, reminders and calendar feeds.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own."""

from booking.notifications.service import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    TOPICS,
    DeliveryReport,
    Rendered,
    _templates,
    calendar_feed,
    calendar_token,
    deliver_due,
    list_outbox,
    one_line,
    queue_offer_expiring,
    queue_reminders,
    queue_roster_summaries,
    render_row,
    requeue,
    show_message,
    to_email,
)

__all__ = [
    "CLAIM_LEASE",
    "DeliveryReport",
    "MAX_ATTEMPTS",
    "Rendered",
    "TOPICS",
    "_templates",
    "calendar_feed",
    "calendar_token",
    "deliver_due",
    "list_outbox",
    "one_line",
    "queue_offer_expiring",
    "queue_reminders",
    "queue_roster_summaries",
    "render_row",
    "requeue",
    "show_message",
    "to_email",
]
