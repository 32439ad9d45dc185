"""Exemptions and extensions: the queue (`/exemptions`, for course owners and administrators,
and for whoever asked), the page a one-click link in the email opens, and the line manager's
form to ask, from the team page.

As with approvals, the emailed link opens a confirmation page rather than deciding on a GET:
the link is checked (signature, expiry, request, decision, and that the signed-in person is the
one it was sent to) before the page is shown."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking import notifications, records
from booking.clock import Clock
from booking.db import Database
from booking.domain import exemptions as rules
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError
from booking.web.pages.render import flash, page

LONDON = ZoneInfo("Europe/London")
# The service's field names, as the form names its inputs (the error summary links to them).
_FIELDS = {"course_code": "courses", "due_at": "due_date", "kind": "kind", "reason": "reason"}
_FIELDS |= {"until": "until"}
KIND_LABELS = {"exemption": "Exemption", "extension": "Extension"}


@get("/exemptions", include_in_schema=False)
async def queue_page(request: Request[Any, Any, Any], db: Database, actor: Actor) -> Template:
    items = await records.list_exemptions(db, actor)
    return page(
        request,
        "booking/exemptions.html",
        actor=actor,
        nav="exemptions",
        items=items,
        kinds=KIND_LABELS,
    )


@get("/exemptions/{exemption_id:int}/{decision:str}", include_in_schema=False)
async def link_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    exemption_id: int,
    decision: str,
    t: str = Parameter(query="t", default="", max_length=1000),
) -> Template:
    if decision not in ("approve", "decline"):
        raise InvalidError("This link is not valid.", "decision")
    notifications.check_exemption_link(
        request.app.state.settings, actor, exemption_id, decision, t, clock.now()
    )
    return await _confirm(request, db, actor, exemption_id, decision, errors={})


@post("/exemptions/{exemption_id:int}/decide", include_in_schema=False, status_code=303)
async def decide(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, exemption_id: int
) -> Response[Any]:
    form = await request.form()
    decision = str(form.get("decision", ""))
    comment = str(form.get("comment", "")).strip() or None
    try:
        view = await records.decide_exemption(
            db, clock, actor, exemption_id, decision=decision, comment=comment
        )
    except (InvalidError, ConflictError) as exc:
        field = getattr(exc, "field", None)
        return await _confirm(
            request,
            db,
            actor,
            exemption_id,
            decision if decision in ("approve", "decline") else "approve",
            errors={"comment" if field == "comment" else "form": exc.detail},
            comment=comment,
            status_code=exc.status,
        )
    verb = "Approved" if view.state == "approved" else "Declined"
    flash(
        request,
        f"{verb}: {KIND_LABELS[view.kind].lower()} for {view.learner['name']}, "
        f"{view.course['title']}. They and whoever asked have been told.",
    )
    return Redirect(path="/exemptions", status_code=303)


async def _confirm(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    exemption_id: int,
    decision: str,
    *,
    errors: dict[str, str],
    comment: str | None = None,
    status_code: int = 200,
) -> Template:
    item = await records.get_exemption(db, actor, exemption_id)
    if not item.may_decide:
        raise ForbiddenError("Only the course's owner or an administrator decides this request.")
    return page(
        request,
        "booking/exemption_confirm.html",
        actor=actor,
        nav="exemptions",
        status_code=status_code,
        item=item,
        decision=decision,
        errors=errors,
        comment=comment,
        kinds=KIND_LABELS,
    )


@get("/team/{person_id:int}/exemptions/new", include_in_schema=False)
async def request_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, person_id: int
) -> Template:
    choices = await records.exemption_choices(db, clock, actor, person_id)
    return _form(request, actor, choices, {"kind": "exemption"}, [], {})


@post("/team/{person_id:int}/exemptions/new", include_in_schema=False, status_code=303)
async def request_submit(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, person_id: int
) -> Response[Any]:
    choices = await records.exemption_choices(db, clock, actor, person_id)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("kind", "reason", "until", "due_date")}
    chosen = [v for v in form.getall("course") if isinstance(v, str)] if "course" in form else []
    errors: dict[str, str] = {}
    until = _date(values["until"], "until", errors)
    due = _date(values["due_date"], "due_date", errors)
    due_at = _end_of(due) if values["kind"] == "extension" and due else None
    until = until if values["kind"] == "exemption" else None
    _check(values, chosen, until, due_at, clock.now(), errors)
    if not errors:
        try:
            made = await records.request_exemptions(
                db,
                clock,
                actor,
                records.ExemptionInput(
                    learner_email=choices.email,
                    course_codes=chosen,
                    kind=values["kind"],
                    reason=values["reason"],
                    until=until,
                    due_at=due_at,
                ),
            )
        except InvalidError as exc:
            errors[_FIELDS.get(exc.field or "", "form")] = exc.detail
        else:
            what = "An extension" if values["kind"] == "extension" else "An exemption"
            courses = ", ".join(m.course["title"] for m in made)
            flash(request, f"{what} has been asked for {choices.name}: {courses}.")
            return Redirect(path="/team", status_code=303)
    return _form(request, actor, choices, values, chosen, errors, status_code=422)


def _check(
    values: dict[str, str],
    chosen: list[str],
    until: date | None,
    due_at: datetime | None,
    now: datetime,
    errors: dict[str, str],
) -> None:
    """Every refusal the form can show at once (the service checks them again)."""
    if not chosen:
        errors["courses"] = "Choose at least one course."
    if "due_date" in errors or "until" in errors:
        return
    try:
        rules.check_request(values["kind"], values["reason"], until, due_at, now)
    except rules.ExemptionError as exc:
        errors[_FIELDS.get(exc.field, "form")] = str(exc)


def _date(value: str, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = "Enter a real date, for example 2027-03-31."
        return None


def _end_of(day: date) -> datetime:
    """A due date chosen on the form: the end of that day in London."""
    return datetime.combine(day, time(23, 59), LONDON)


def _form(
    request: Request[Any, Any, Any],
    actor: Actor,
    choices: records.ExemptionChoices,
    values: dict[str, str],
    chosen: list[str],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "booking/exemption_request.html",
        actor=actor,
        nav="team",
        status_code=status_code,
        choices=choices,
        values=values,
        chosen=chosen,
        errors=errors,
    )


HANDLERS = [queue_page, link_page, decide, request_form, request_submit]
