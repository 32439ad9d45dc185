"""A course summary's minimal formatting, the same on the course form's preview and the
learner's course page: paragraphs (a blank line between), line breaks, and web addresses made
links. Everything else is text: the whole summary is escaped first, so no HTML ever gets
through (a typed `<script>` shows as those characters)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# An http(s) address, up to a space or a character that cannot end one (after escaping,
# `&` is `&amp;`, so the pattern stops at `&quot;`, `&lt;` and `&gt;`, but keeps `&amp;`).
_URL = re.compile(r"https?://(?:[^\s&<>\"']|&amp;)+?(?=[.,;:!?)\]]*(?:\s|&lt;|&gt;|&#34;|&#39;|$))")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _linked(escaped: str) -> str:
    return _URL.sub(
        lambda m: f'<a href="{m.group(0)}" rel="nofollow noopener">{m.group(0)}</a>', escaped
    )


def rich_text(text: str | None) -> Markup:
    """The text as paragraphs of escaped text, line breaks kept, addresses linked."""
    paragraphs = [p.strip() for p in _PARAGRAPHS.split((text or "").replace("\r\n", "\n"))]
    html = "".join(
        "<p>" + "<br>\n".join(_linked(str(escape(line))) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p
    )
    return Markup(html)  # noqa: S704 - built from escaped text only
