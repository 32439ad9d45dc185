"""Cost codes: creating one, importing many from CSV, reading them, and checking one can pay."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.domain import cost_codes as rules
from billing.domain.cost_codes import CostCodeError, CostCodeFacts
from billing.domain.money import DEFAULT_CURRENCY, Money
from billing.models import CostCode
from billing.services.errors import BillingError, Conflict, Invalid

# A CSV row's outcome (the API lists it as an enum).
ImportStatus = Literal["created", "updated", "unchanged", "error"]


@dataclass(slots=True)
class CostCodeInput:
    code: str
    description: str
    budget_holder_email: str
    active_from: date
    active_to: date | None = None
    annual_limit: Money | None = None


@dataclass(slots=True)
class CostCodeView:
    code: str
    description: str
    budget_holder_email: str
    active_from: date
    active_to: date | None
    annual_limit: Money | None


@dataclass(slots=True)
class ImportResult:
    line: int
    code: str
    status: ImportStatus
    message: str | None = None


def cost_code_view(row: CostCode) -> CostCodeView:
    return CostCodeView(
        row.code,
        row.description,
        row.budget_holder_email,
        row.active_from,
        row.active_to,
        Money(row.annual_limit_amount, row.currency)
        if row.annual_limit_amount is not None
        else None,
    )


def validated(data: CostCodeInput, pattern: str) -> CostCodeInput:
    try:
        code = rules.check_format(data.code, pattern)
    except CostCodeError as exc:
        raise Invalid(exc.message, code=exc.code, field="code") from exc
    description = (data.description or "").strip()
    if not description or len(description) > 300:
        raise Invalid("Give a description of up to 300 characters.", field="description")
    email = (data.budget_holder_email or "").strip().lower()
    if "@" not in email or len(email) > 320:
        raise Invalid("Give the budget holder's email address.", field="budget_holder_email")
    if data.active_to is not None and data.active_to < data.active_from:
        raise Invalid("active_to cannot be before active_from.", field="active_to")
    if data.annual_limit is not None and data.annual_limit.amount < 0:
        raise Invalid("The annual limit cannot be negative.", field="annual_limit")
    return CostCodeInput(
        code, description, email, data.active_from, data.active_to, data.annual_limit
    )


async def create_cost_code(
    s: AsyncSession, data: CostCodeInput, *, pattern: str, now: datetime
) -> CostCodeView:
    data = validated(data, pattern)
    if await s.scalar(select(CostCode.id).where(CostCode.code == data.code)) is not None:
        raise Conflict(f"Cost code {data.code} already exists.", code="cost_code_exists")
    row = CostCode(created_at=now, updated_at=now, code=data.code)
    apply_input(row, data)
    s.add(row)
    await s.flush()
    return cost_code_view(row)


def apply_input(row: CostCode, data: CostCodeInput) -> bool:
    values = {
        "description": data.description,
        "budget_holder_email": data.budget_holder_email,
        "active_from": data.active_from,
        "active_to": data.active_to,
        "annual_limit_amount": data.annual_limit.amount if data.annual_limit else None,
        "currency": data.annual_limit.currency if data.annual_limit else DEFAULT_CURRENCY,
    }
    changed = any(getattr(row, k, None) != v for k, v in values.items())
    for k, v in values.items():
        setattr(row, k, v)
    return changed


IMPORT_COLUMNS = ("code", "description", "budget_holder_email", "active_from", "active_to")


async def import_cost_codes(
    s: AsyncSession, text: str, *, pattern: str, now: datetime
) -> list[ImportResult]:
    """Upsert cost codes from CSV with a header row: code, description, budget_holder_email,
    active_from, active_to (optional), annual_limit (optional, in pounds and pence) and
    currency (optional). A bad row is reported and skipped; the others are imported."""
    # newline="": the csv module reads \r, \n and \r\n line ends itself (a lone \r in a
    # field is otherwise an error); a field past csv's size limit is a bad file, not a crash.
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        rows = list(reader)
    except csv.Error as exc:
        raise Invalid(f"The CSV file cannot be read: {exc}.", field="file") from None
    missing = [c for c in IMPORT_COLUMNS[:4] if c not in header]
    if missing:
        raise Invalid(f"The CSV needs the columns {', '.join(missing)}.", field="file")
    results: list[ImportResult] = []
    for n, raw in enumerate(rows, start=2):
        # Values past the header's columns (under the key None) are ignored.
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        code = rules.normalise(row.get("code", ""))
        try:
            data = validated(
                CostCodeInput(
                    code=row.get("code", ""),
                    description=row.get("description", ""),
                    budget_holder_email=row.get("budget_holder_email", ""),
                    active_from=parse_date(row.get("active_from", ""), "active_from"),
                    active_to=parse_date(row["active_to"], "active_to")
                    if row.get("active_to")
                    else None,
                    annual_limit=parse_pounds(row.get("annual_limit", ""), row.get("currency", "")),
                ),
                pattern,
            )
        except BillingError as exc:
            results.append(ImportResult(n, code, "error", exc.message))
            continue
        existing = await s.scalar(select(CostCode).where(CostCode.code == data.code))
        if existing is None:
            new = CostCode(created_at=now, updated_at=now, code=data.code)
            apply_input(new, data)
            s.add(new)
            results.append(ImportResult(n, data.code, "created"))
        elif apply_input(existing, data):
            existing.updated_at = now
            results.append(ImportResult(n, data.code, "updated"))
        else:
            results.append(ImportResult(n, data.code, "unchanged"))
        await s.flush()
    return results


def parse_date(value: str, field_name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{field_name} must be a date like 2027-04-01.", field=field_name) from None


def parse_pounds(value: str, currency: str) -> Money | None:
    value = value.strip().replace(",", "").lstrip("£")
    if not value:
        return None
    try:
        major, _, minor = value.partition(".")
        if len(minor) > 2 or not major.isdigit() or (minor and not minor.isdigit()):
            raise ValueError(value)
        return Money(
            int(major) * 100 + int((minor or "0").ljust(2, "0")), currency.upper() or "GBP"
        )
    except ValueError:
        raise Invalid(
            f"annual_limit “{value}” is not an amount such as 2500.00.", field="annual_limit"
        ) from None


async def list_cost_codes(
    s: AsyncSession, *, budget_holder_email: str | None = None
) -> list[CostCodeView]:
    stmt = select(CostCode).order_by(CostCode.code)
    if budget_holder_email is not None:
        stmt = stmt.where(CostCode.budget_holder_email == budget_holder_email.lower())
    return [cost_code_view(r) for r in await s.scalars(stmt)]


async def get_cost_code(s: AsyncSession, code: str) -> CostCodeView | None:
    row = await s.scalar(select(CostCode).where(CostCode.code == rules.normalise(code)))
    return cost_code_view(row) if row else None


async def check_cost_code(s: AsyncSession, code: str, *, pattern: str, today: date) -> CostCodeView:
    """The code, if it can pay today; CostCodeError (with a sentence) if not."""
    value = rules.check_format(code, pattern)
    row = await s.scalar(select(CostCode).where(CostCode.code == value))
    rules.check_active(
        CostCodeFacts(row.code, row.active_from, row.active_to) if row else None, value, today
    )
    assert row is not None
    return cost_code_view(row)
