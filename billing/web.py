"""Billing's pages: budget holders' queue and spend dashboard, cost codes (admin), the finance
export, the card payment page, and the Stripe webhook.

`billing` never imports `booking`: the composition root passes in who is signed in (a Litestar
dependency) and a port for what only booking knows (whose requests wait, which booking a payment
belongs to, the listener for webhooks). `db` and `clock` come from the app's dependencies and are
used only through `transaction()` / `reading()` and `now()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from litestar import MediaType, Request, Response, Router, get, post
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Parameter
from litestar.response import Redirect, Template

from billing import services
from billing.domain.money import Money

PAYMENT_PAGE_CSP = (
    "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; "
    "img-src 'self' data: https://*.stripe.com; connect-src 'self' https://api.stripe.com; "
    "frame-src https://js.stripe.com https://hooks.stripe.com; font-src 'self'; "
    "form-action 'self'; base-uri 'self'; frame-ancestors 'none'; object-src 'none'"
)
NO_STORE = {"Cache-Control": "no-store"}
# Litestar adds "; charset=utf-8" to every text/* media type it is given, so media types here
# never name a charset themselves (or it is sent twice: "text/csv; charset=utf-8; charset=utf-8").
CSV_MEDIA_TYPE = "text/csv"
# Excel reads a CSV file as the system's legacy code page unless it starts with a byte order mark.
UTF8_BOM = "\ufeff"


def csv_download(
    text: str, filename: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """A CSV file as a download: UTF-8 with a byte order mark (so Excel reads names right),
    `text/csv; charset=utf-8` once. Every CSV download in the app (booking's too) is made here."""
    return Response(
        (UTF8_BOM + text.removeprefix(UTF8_BOM)).encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )


class BillingPort(Protocol):
    """What the billing pages need from booking (implemented in booking/payments)."""

    year_start: tuple[int, int]
    cost_code_pattern: str

    # Who may do what is booking's policy: the pages ask, they never decide.
    def can_manage_billing(self, actor: Any) -> bool:
        """Cost codes and the finance journal."""
        ...

    def can_see_spending(self, actor: Any) -> bool:
        """The budget page: budget holders and administrators."""
        ...

    def sees_all_spending(self, actor: Any) -> bool:
        """Every code's spend, not only the actor's own as budget holder."""
        ...

    async def spend_requests(self, db: Any, clock: Any, actor: Any) -> list[Any]: ...

    async def committed(self, s: Any, cost_codes: Sequence[str]) -> Mapping[str, int]:
        """Per code, the places approved and not charged yet (minor units)."""
        ...

    async def payment_page(self, db: Any, clock: Any, actor: Any, booking_id: int) -> Any: ...

    async def stripe_webhook(
        self, db: Any, clock: Any, payload: bytes, signature: str | None
    ) -> Any: ...

    # Cost codes are created through booking, which audits who changed them (in the same
    # transaction); refusals come back as billing's own errors.
    async def create_cost_code(
        self, db: Any, clock: Any, actor: Any, data: services.CostCodeInput
    ) -> services.CostCodeView: ...

    async def import_cost_codes(
        self, db: Any, clock: Any, actor: Any, text: str
    ) -> list[services.ImportResult]: ...


def _require_billing_manager(port: BillingPort, actor: Any) -> None:
    if not port.can_manage_billing(actor):
        raise PermissionDeniedException("Only administrators can do this.")


def _page(template: str, actor: Any, nav: str, **context: Any) -> Template:
    return Template(
        template_name=template,
        context={"actor": actor, "nav": nav, **context},
        headers=NO_STORE,
        media_type=MediaType.HTML,
    )


def _money_text(m: Money | None) -> str:
    return m.display() if m is not None and m.amount else ("£0.00" if m is not None else "—")


async def _codes(
    port: BillingPort, db: Any, clock: Any, *, budget_holder_email: str | None = None
) -> list[services.CodeSummary]:
    return await services.read_dashboard(
        db.reading,
        today=clock.now().date(),
        year_start=port.year_start,
        budget_holder_email=budget_holder_email,
        committed=port.committed,
    )


def _cost_codes_page(
    actor: Any,
    codes: list[services.CodeSummary],
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    results: list[services.ImportResult] | None = None,
    period: dict[str, str] | None = None,
) -> Template:
    return _page(
        "billing/cost_codes.html",
        actor,
        "cost_codes",
        codes=codes,
        form=form or {},
        errors=errors or {},
        results=results,
        money_text=_money_text,
        period=period,
    )


@get("/budget", include_in_schema=False)
async def budget_page(db: Any, clock: Any, actor: Any, port: Any) -> Template:
    """A budget holder's requests (with spend so far against the limit) and their codes."""
    if not port.can_see_spending(actor):
        raise PermissionDeniedException("This page is for budget holders.")
    requests = await port.spend_requests(db, clock, actor)
    own = None if port.sees_all_spending(actor) else actor.email
    codes = await _codes(port, db, clock, budget_holder_email=own)
    return _page(
        "billing/budget.html",
        actor,
        "budget",
        requests=requests,
        codes=codes,
        money_text=_money_text,
    )


@get("/admin/cost-codes", include_in_schema=False)
async def cost_codes_page(db: Any, clock: Any, actor: Any, port: Any) -> Template:
    _require_billing_manager(port, actor)
    codes = await _codes(port, db, clock)
    today = clock.now().date()
    first = date(today.year, today.month, 1)
    return _cost_codes_page(
        actor, codes, period={"from": first.isoformat(), "to": today.isoformat()}
    )


@post("/admin/cost-codes", include_in_schema=False, status_code=200)
async def create_cost_code(
    request: Request[Any, Any, Any], db: Any, clock: Any, actor: Any, port: Any
) -> Response[Any]:
    _require_billing_manager(port, actor)
    form = {k: str(v or "").strip() for k, v in (await _form(request)).items()}
    try:
        await port.create_cost_code(db, clock, actor, _cost_code_input(form))
    except services.BillingError as exc:
        errors = {exc.field or "code": exc.message}
        codes = await _codes(port, db, clock)
        return _cost_codes_page(actor, codes, form=form, errors=errors)
    return Redirect(path="/admin/cost-codes", status_code=303)


@post("/admin/cost-codes/import", include_in_schema=False, status_code=200)
async def import_cost_codes(
    request: Request[Any, Any, Any], db: Any, clock: Any, actor: Any, port: Any
) -> Template:
    _require_billing_manager(port, actor)
    text = await _uploaded_text(request)
    errors: dict[str, str] = {}
    results = None
    try:
        results = await port.import_cost_codes(db, clock, actor, text)
    except services.BillingError as exc:
        errors["file"] = exc.message
    codes = await _codes(port, db, clock)
    return _cost_codes_page(actor, codes, errors=errors, results=results)


@get("/admin/finance/journal.csv", include_in_schema=False)
async def journal(
    db: Any,
    clock: Any,
    actor: Any,
    port: Any,
    from_: str | None = Parameter(query="from", required=False),
    to: str | None = Parameter(query="to", required=False),
) -> Response[bytes]:
    _require_billing_manager(port, actor)
    first, last = services.journal_period(clock.now().date(), from_, to)
    text = await services.read_journal(db.reading, start=first, end=last)
    return csv_download(text, f"journal-{first}-to-{last}.csv", NO_STORE)


@get("/bookings/{booking_id:int}/pay", include_in_schema=False)
async def pay_page(db: Any, clock: Any, actor: Any, port: Any, booking_id: int) -> Template:
    view = await port.payment_page(db, clock, actor, booking_id)
    return Template(
        template_name="billing/pay.html",
        context={"actor": actor, "nav": "bookings", "p": view},
        headers={**NO_STORE, "Content-Security-Policy": PAYMENT_PAGE_CSP},
        media_type=MediaType.HTML,
    )


@post("/webhooks/stripe", include_in_schema=False, status_code=200)
async def stripe_webhook(
    request: Request[Any, Any, Any], db: Any, clock: Any, port: Any
) -> Response[Any]:
    """Signature checked on the raw body; 400 for a bad one (Stripe does not retry those),
    503 when Stripe cannot be asked about the intent (Stripe retries)."""
    payload = await request.body()
    try:
        result = await port.stripe_webhook(
            db, clock, payload, request.headers.get("stripe-signature")
        )
    except services.SignatureError as exc:
        return Response({"error": f"bad signature: {exc}"}, status_code=400)
    except services.GatewayError:
        return Response({"error": "Stripe could not be reached"}, status_code=503)
    return Response({"received": True, "outcome": result.outcome}, status_code=200)


def billing_routes(*, actor_provider: Any, port: BillingPort) -> list[Any]:
    """The handlers, wired with the signed-in person's provider and booking's port."""

    # Handlers take the port as `Any`, like `db` and `clock`: Litestar checks a dependency's
    # type at run time, and a Protocol cannot be checked.
    async def provide_port() -> BillingPort:
        return port

    pages = Router(
        path="/",
        route_handlers=[
            budget_page,
            cost_codes_page,
            create_cost_code,
            import_cost_codes,
            journal,
            pay_page,
        ],
        dependencies={"actor": Provide(actor_provider), "port": Provide(provide_port)},
        exception_handlers={services.BillingError: billing_error_handler},
    )
    # The webhook has no signed-in person, and answers Stripe in its own words.
    webhook = Router(
        path="/", route_handlers=[stripe_webhook], dependencies={"port": Provide(provide_port)}
    )
    return [pages, webhook]


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    return {k: form.get(k) for k in form}


async def _uploaded_text(request: Request[Any, Any, Any]) -> str:
    """The CSV as an uploaded file, or pasted into the form."""
    form = await request.form()
    upload = form.get("file")
    if upload is not None and hasattr(upload, "read"):
        raw = await upload.read()
        return str(raw.decode("utf-8-sig", errors="replace"))
    return str(form.get("csv") or "")


def _cost_code_input(form: dict[str, str]) -> services.CostCodeInput:
    return services.CostCodeInput(
        code=form.get("code", ""),
        description=form.get("description", ""),
        budget_holder_email=form.get("budget_holder_email", ""),
        active_from=_form_date(form.get("active_from", ""), "active_from"),
        active_to=_form_date(form["active_to"], "active_to") if form.get("active_to") else None,
        annual_limit=services.parse_pounds(form.get("annual_limit", ""), "GBP"),
    )


def billing_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Billing's refusals as problem+json (RFC 9457)."""
    assert isinstance(exc, services.BillingError)
    titles = {404: "Not found", 409: "Conflict", 422: "Invalid input"}
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": titles.get(exc.status, "Bad request"),
        "status": exc.status,
        "detail": exc.message,
    }
    if exc.field:
        body["field"] = exc.field
    return Response(body, status_code=exc.status, media_type="application/problem+json")


def _form_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise services.Invalid("Give a date such as 2027-04-01.", field=field) from None


__all__ = [
    "BillingPort",
    "NotAuthorizedException",
    "billing_routes",
    "csv_download",
]
