"""Sending email over SMTP (aiosmtplib). The only module that talks SMTP."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from booking.config import Settings


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs BOOKING_SMTP_HOST")
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=s.smtp_password,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            timeout=30,
        )


def mailer_for(settings: Settings) -> Mailer | None:
    """None when no SMTP server is configured: messages then stay in the outbox, readable by
    administrators on the outbox page."""
    return SmtpMailer(settings) if settings.smtp_host else None
