"""A rendered message as the email that goes over SMTP."""

from __future__ import annotations

from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from booking.config import Settings
from booking.notifications.formats import one_line
from booking.notifications.render import Rendered


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
