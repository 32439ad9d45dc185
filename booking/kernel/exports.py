"""What every file we hand out (CSV, spreadsheet) must do to the text it carries."""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: such text is prefixed with
    an apostrophe, which they show as text (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
