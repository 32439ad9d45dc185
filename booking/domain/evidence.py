"""Evidence of training done elsewhere: which files are accepted, told by their content.

A file's name and the type its browser claims are the sender's word; the first bytes are not.
PDF, PNG and JPEG each start with a fixed signature, so a renamed executable (or anything else)
is refused whatever it is called."""

from __future__ import annotations

# At most 10 MB (decimal, as people read it).
MAX_EVIDENCE_BYTES = 10_000_000
# How many bytes the signatures need.
SNIFF_BYTES = 8

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
STATES = ("pending", "approved", "declined")
DECISIONS = {"approve": "approved", "decline": "declined"}


def content_type_of(head: bytes) -> str | None:
    """The accepted type whose signature the file starts with, or None (refuse it)."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def safe_filename(name: str | None, content_type: str) -> str:
    """The name to keep and offer back on download: the sender's base name without path,
    quotes or control characters, at most 200 characters, ending in the extension of what the
    file really is."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>;:*?|')
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base.strip(" .")
    return f"{(stem or 'evidence')[:200]}.{EXTENSIONS[content_type]}"
