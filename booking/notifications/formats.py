"""How messages write names, dates and hosts."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from booking.config import Settings
from booking.kernel.dates import local


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


def host(settings: Settings) -> str:
    """The site's host name: the domain of calendar UIDs."""
    return urlsplit(settings.base_url).hostname or "localhost"
