"""Notifications: rendering and delivering the outbox, reminders and calendar feeds.

This package's public face: what the web, the jobs and other packages call. The modules inside
are its own: `topics` (what each topic sends), `facts` → `context` → `render` (an outbox row
into its email's parts, `invites` its calendar part), `messages` (the MIME email), `delivery`
(claim, send, mark sent or release), `reminders` (the sweeps that queue them), `outbox` (the
administrators' page) and `feeds` (private calendar feeds)."""

from booking.notifications.delivery import CLAIM_LEASE, MAX_ATTEMPTS, DeliveryReport, deliver_due
from booking.notifications.exemption_links import check_exemption_link, exemption_link
from booking.notifications.feeds import calendar_feed, calendar_token
from booking.notifications.formats import one_line
from booking.notifications.messages import to_email
from booking.notifications.outbox import list_outbox, requeue, show_message
from booking.notifications.reminders import (
    queue_offer_expiring,
    queue_reminders,
    queue_roster_summaries,
)
from booking.notifications.render import Rendered, email_templates, render_row
from booking.notifications.topics import TOPICS

__all__ = [
    "CLAIM_LEASE",
    "DeliveryReport",
    "MAX_ATTEMPTS",
    "Rendered",
    "TOPICS",
    "calendar_feed",
    "check_exemption_link",
    "exemption_link",
    "calendar_token",
    "deliver_due",
    "email_templates",
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
