"""The typed answers of the money, records, evidence and exemption operations that are not a
service's own view: pages of items and the results of imports. Each is a dataclass, so the
OpenAPI document names its fields and their types (issue 19: a typed contract)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing import services as billing
from billing.domain.money import Money
from booking import records
from booking.domain.vocabulary import CompletionStatus


@dataclass(slots=True)
class CostCodeSpend:
    """A cost code with its spend this financial year (charged and committed) and its fees."""

    code: str
    description: str
    budget_holder_email: str
    annual_limit: Money | None
    year_start: date
    charges: Money
    fees: Money
    refunds_and_waivers: Money
    # Charged this year (places, fees, less refunds and waivers).
    total: Money
    # Approved, not yet charged.
    committed: Money
    over_limit: bool

    @classmethod
    def of(cls, s: billing.CodeSummary) -> CostCodeSpend:
        return cls(
            code=s.code,
            description=s.description,
            budget_holder_email=s.budget_holder_email,
            annual_limit=s.annual_limit,
            year_start=s.year_start,
            charges=s.charges,
            fees=s.fees,
            refunds_and_waivers=s.refunds_and_waivers,
            total=s.total,
            committed=s.committed,
            over_limit=s.over_limit,
        )


@dataclass(slots=True)
class CostCodePage:
    items: list[CostCodeSpend]
    next_cursor: str | None = None


@dataclass(slots=True)
class CostCodeImportRow:
    """One CSV row's outcome: its line number, the code and what happened to it."""

    line: int
    code: str
    status: billing.ImportStatus
    message: str | None = None


@dataclass(slots=True)
class CostCodeImportAnswer:
    items: list[CostCodeImportRow]

    @classmethod
    def of(cls, results: list[billing.ImportResult]) -> CostCodeImportAnswer:
        return cls([CostCodeImportRow(r.line, r.code, r.status, r.message) for r in results])


@dataclass(slots=True)
class FeeWaiver:
    booking_id: int
    # What was waived (and refunded to a card); zero when there was nothing left to waive.
    waived: Money


@dataclass(slots=True)
class CompletionResult:
    """One sent completion's outcome, by its position in the list sent (from 0)."""

    index: int
    status: CompletionStatus
    message: str | None = None


@dataclass(slots=True)
class CompletionsAnswer:
    accepted: int
    results: list[CompletionResult]


@dataclass(slots=True)
class CompletionRowResult:
    """One CSV row's outcome, by its row number in the file."""

    row: int
    status: CompletionStatus
    message: str | None = None


@dataclass(slots=True)
class CompletionImportAnswer:
    accepted: int
    results: list[CompletionRowResult]


@dataclass(slots=True)
class ComplianceReport:
    items: list[records.ComplianceRow]
    next_cursor: str | None = None


@dataclass(slots=True)
class ExemptionPage:
    items: list[records.ExemptionView]
    next_cursor: str | None = None
