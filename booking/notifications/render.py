"""Rendering an outbox row into its email's parts: subject, text, HTML and calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from booking import PROJECT_ROOT
from booking.config import Settings
from booking.models import Outbox
from booking.notifications.context import buttons, message_context
from booking.notifications.facts import load_facts
from booking.notifications.formats import one_line
from booking.notifications.invites import calendar_part
from booking.notifications.topics import TOPICS


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


_env: Environment | None = None


def email_templates() -> Environment:
    """The email templates (templates/email), loaded once."""
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


async def render_row(s: AsyncSession, row: Outbox, settings: Settings, now: datetime) -> Rendered:
    """The email for one outbox row, from the database as it is now and the row's payload."""
    if row.topic not in TOPICS:
        raise LookupError(f"no email template for topic {row.topic!r}")
    template_name, calendar = TOPICS[row.topic]
    facts = await load_facts(s, row)
    context = message_context(facts, settings)
    subject, body = _subject_and_body(template_name, context)
    html = (
        email_templates()
        .get_template("_layout.html")
        .render(subject=subject, paragraphs=_paragraphs(body), buttons=buttons(context, row.topic))
    )
    ics, method = calendar_part(facts, calendar, settings, now)
    return Rendered(
        outbox_id=row.id,
        topic=row.topic,
        to_email=facts.recipient.email,
        to_name=facts.recipient.name,
        subject=subject,
        text=body + "\n",
        html=html,
        message_id=_message_id(row, settings),
        ics=ics,
        method=method,
    )


def _subject_and_body(template_name: str, context: dict[str, Any]) -> tuple[str, str]:
    """The text template's two blocks: the subject (one line) and the body."""
    template = email_templates().get_template(f"{template_name}.txt")
    subject = one_line("".join(template.blocks["subject"](template.new_context(context))))
    body = "".join(template.blocks["body"](template.new_context(context))).strip()
    return subject, body


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def _message_id(row: Outbox, settings: Settings) -> str:
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    return f"<outbox-{row.id}.{row.created_at:%Y%m%d%H%M%S}@{domain}>"
