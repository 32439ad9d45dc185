"""Cost codes: format, active dates, financial years and spend limits. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from billing.domain.money import Money

DEFAULT_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,19}$"
# Cells a spreadsheet would run as a formula (OWASP CSV injection): = + - @, and tab / CR,
# which some programs strip before looking.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CostCodeError(ValueError):
    """A code that cannot be used; `code` is a machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalise(code: str) -> str:
    return (code or "").strip().upper()


def check_format(code: str, pattern: str = DEFAULT_PATTERN) -> str:
    """The code upper-cased, or CostCodeError if it does not match the configured pattern."""
    value = normalise(code)
    if not re.fullmatch(pattern, value):
        raise CostCodeError(
            "cost_code_format",
            f"“{code}” is not a cost code in the expected format; check it with your budget "
            "holder.",
        )
    return value


@dataclass(frozen=True, slots=True)
class CostCodeFacts:
    code: str
    active_from: date
    active_to: date | None
    annual_limit: Money | None = None


def check_active(facts: CostCodeFacts | None, code: str, today: date) -> None:
    """Refuse an unknown code, or one outside its active dates, with a sentence that says why."""
    if facts is None:
        raise CostCodeError(
            "cost_code_unknown",
            f"There is no cost code {code}; check it with your budget holder.",
        )
    if today < facts.active_from:
        raise CostCodeError(
            "cost_code_inactive",
            f"Cost code {facts.code} can be used from {facts.active_from:%-d %B %Y}.",
        )
    if facts.active_to is not None and today > facts.active_to:
        raise CostCodeError(
            "cost_code_expired",
            f"Cost code {facts.code} expired on {facts.active_to:%-d %B %Y}; ask your budget "
            "holder for a current one.",
        )


def parse_year_start(value: str) -> tuple[int, int]:
    """`MM-DD` (default `04-01`, 1 April) as (month, day)."""
    try:
        month_text, day_text = value.strip().split("-")
        month, day = int(month_text), int(day_text)
        date(2001, month, day)  # a real day in a non-leap year
    except ValueError as exc:
        raise ValueError(f"“{value}” is not a month and day such as 04-01") from exc
    return month, day


def financial_year(today: date, start: tuple[int, int] = (4, 1)) -> tuple[date, date]:
    """[first day, first day of the next year) of the financial year containing `today`."""
    month, day = start
    this_year = date(today.year, month, day)
    first = this_year if today >= this_year else date(today.year - 1, month, day)
    return first, date(first.year + 1, month, day)


@dataclass(frozen=True, slots=True)
class SpendCheck:
    """A code's spend this year against its annual limit. The limit counts both what has been
    charged (the ledger) and what is committed: places approved but not charged yet."""

    charged: Money
    requested: Money
    limit: Money | None
    committed: Money

    @property
    def spent(self) -> Money:
        """Charged and committed: what the limit is checked against."""
        return Money(self.charged.amount + self.committed.amount, self.charged.currency)

    @property
    def after(self) -> Money:
        return Money(self.spent.amount + self.requested.amount, self.spent.currency)

    @property
    def remaining(self) -> Money | None:
        if self.limit is None:
            return None
        return Money(self.limit.amount - self.spent.amount, self.limit.currency)

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.after.amount > self.limit.amount

    def note(self) -> str | None:
        """For the approver: flagged, never refused."""
        if not self.over_limit or self.limit is None:
            return None
        # Money.display says "Free" for nothing: leave out a part that is nothing.
        parts = [
            f"{amount.display()} {what}"
            for amount, what in ((self.charged, "charged"), (self.committed, "committed"))
            if amount.amount
        ]
        so_far = " and ".join(parts) or "nothing spent yet"
        return (
            f"Over the annual limit: {so_far} of {self.limit.display()}; this booking "
            f"({self.requested.display()}) takes it to {self.after.display()}."
        )


def check_spend(
    charged: Money, requested: Money, limit: Money | None, *, committed: Money | None = None
) -> SpendCheck:
    """`charged`: the ledger this year; `committed`: places approved and not charged yet."""
    committed = committed if committed is not None else Money(0, charged.currency)
    if committed.currency != charged.currency:
        raise ValueError("charged and committed spend must be in the same currency")
    if limit is not None and limit.currency != charged.currency:
        raise ValueError("spend and limit must be in the same currency")
    return SpendCheck(charged, requested, limit, committed)


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading
    apostrophe (and is then quoted by the CSV writer as needed)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
