"""JSON API v1 for money: cost codes, spend, cancellation quotes, card payments, waivers and
the finance journal. Thin: parse, call one service in `booking.payments`, shape."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter

from billing import services as billing
from billing.models import CostCode
from billing.web import csv_download
from booking import payments
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.web.api import examples_learning as examples
from booking.web.api.answers_learning import (
    CostCodeImportAnswer,
    CostCodePage,
    CostCodeSpend,
    FeeWaiver,
)
from booking.web.api.openapi_learning import BinaryFile, CsvUploadOperation
from booking.web.api.params import money_in
from booking.web.api.schemas import LONG_TEXT, Email, MoneyIn, text
from booking.web.inputs import admins_only


class CostCodeIn(msgspec.Struct):
    code: Annotated[str, text(CostCode.code)]
    description: Annotated[str, text(CostCode.description)]
    budget_holder_email: Email
    active_from: date
    active_to: date | None = None
    annual_limit: MoneyIn | None = None


class WaiverIn(msgspec.Struct):
    reason: Annotated[str, text(LONG_TEXT)]


def _config(request: Request[Any, Any, Any]) -> payments.BillingConfig:
    return payments.billing_config(request.app.state.settings)


@post("/cost-codes", summary="Create a cost code", status_code=201, guards=[admins_only])
async def create_cost_code(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, data: CostCodeIn
) -> billing.CostCodeView:
    return await payments.create_cost_code(
        db,
        clock,
        actor,
        _config(request),
        billing.CostCodeInput(
            code=data.code,
            description=data.description,
            budget_holder_email=data.budget_holder_email,
            active_from=data.active_from,
            active_to=data.active_to,
            annual_limit=money_in(data.annual_limit, "annual_limit"),
        ),
    )


@post(
    "/cost-codes/import",
    summary="Import cost codes from CSV (upsert)",
    description="A `text/csv` body with a header row: code, description, budget_holder_email, "
    "active_from, active_to, annual_limit. One bad row does not stop the others.",
    status_code=200,
    guards=[admins_only],
    operation_class=CsvUploadOperation,
)
async def import_cost_codes(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> CostCodeImportAnswer:
    text = (await request.body()).decode("utf-8-sig", errors="replace")
    results = await payments.import_cost_codes(db, clock, actor, _config(request), text)
    return CostCodeImportAnswer.of(results)


@get(
    "/cost-codes",
    summary="Spend and fees per cost code this financial year",
    responses=examples.COST_CODES_ANSWER,
)
async def list_cost_codes(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> CostCodePage:
    summaries = await payments.cost_code_spend(db, clock, actor, _config(request))
    return CostCodePage([CostCodeSpend.of(s) for s in summaries])


@get(
    "/bookings/{booking_id:int}/cancellation-quote",
    summary="What cancelling costs now",
    responses=examples.QUOTE_ANSWER,
)
async def cancellation_quote(
    db: Database, clock: Clock, actor: Actor, booking_id: int
) -> payments.QuoteView:
    return await payments.cancellation_quote(db, clock, actor, booking_id)


@get("/bookings/{booking_id:int}/payment", summary="The card payment of a booking")
async def booking_payment(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, booking_id: int
) -> payments.PaymentPage:
    return await payments.payment_page(db, clock, actor, _config(request), booking_id)


@post(
    "/bookings/{booking_id:int}/waive-fee",
    summary="Waive a booking's fee",
    status_code=200,
    guards=[admins_only],
)
async def waive_fee(
    db: Database, clock: Clock, actor: Actor, booking_id: int, data: WaiverIn
) -> FeeWaiver:
    waived = await payments.waive_fee(db, clock, actor, booking_id, reason=data.reason)
    return FeeWaiver(booking_id, waived)


@get(
    "/finance/journal.csv",
    summary="Journal of charges, fees, refunds and waivers (CSV)",
    guards=[admins_only],
    media_type="text/csv",
    response_description="The journal as CSV (UTF-8 with a byte order mark), one row a line",
)
async def journal_csv(
    db: Database,
    clock: Clock,
    actor: Actor,
    from_: date | None = Parameter(query="from", required=False),
    to: date | None = Parameter(query="to", required=False),
) -> Response[BinaryFile]:
    text = await payments.journal_csv(
        db,
        clock,
        actor,
        datetime.combine(from_, time()) if from_ else None,
        datetime.combine(to, time()) if to else None,
    )
    return csv_download(text, "journal.csv")
