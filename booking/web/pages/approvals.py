"""Approvers' pages: the queue, and the page a one-click link in the email opens.

The emailed link opens a confirmation page rather than deciding on a GET: mail scanners follow
links, and a decision must be the approver's own click. The link is checked (signature, expiry,
request, decision, and that the signed-in person is the one it was sent to) before the page is
shown; once the request is decided the link has nothing left to do."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from booking import approvals
from booking.clock import Clock
from booking.db import Database
from booking.domain.states import state_name
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError
from booking.web.pages.render import flash, page


@get("/approvals", include_in_schema=False)
async def queue_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    items = await approvals.list_waiting(db, clock, actor)
    return page(request, "booking/approvals.html", actor=actor, nav="approvals", items=items)


@get("/approvals/{request_id:int}/{decision:str}", include_in_schema=False)
async def link_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    request_id: int,
    decision: str,
    t: str = Parameter(query="t", default=""),
) -> Template:
    if decision not in approvals.DECISIONS:
        raise InvalidError("This link is not valid.", "decision")
    approvals.check_link(request.app.state.settings, actor, request_id, decision, t, clock.now())
    return await _confirm_page(request, db, actor, request_id, decision, errors={})


@post("/approvals/{request_id:int}/decide", include_in_schema=False, status_code=303)
async def decide(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, request_id: int
) -> Response[Any]:
    form = await request.form()
    decision = str(form.get("decision", ""))
    comment = str(form.get("comment", "")).strip() or None
    try:
        outcome = await approvals.decide(
            db, clock, actor, request_id, decision=decision, comment=comment
        )
    except (InvalidError, ConflictError) as exc:
        field = getattr(exc, "field", None)
        return await _confirm_page(
            request,
            db,
            actor,
            request_id,
            decision if decision in approvals.DECISIONS else "approve",
            # On its field when it has one (the comment); otherwise in the summary alone.
            errors={"comment" if field == "comment" else "form": exc.detail},
            comment=comment,
            status_code=exc.status,
        )
    verb = "Approved" if decision == "approve" else "Declined"
    flash(
        request,
        f"{verb}: {outcome.approval.learner['name']}, {outcome.approval.course['title']}. "
        + what_happens_next(outcome),
    )
    return Redirect(path="/approvals", status_code=303)


async def _confirm_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    request_id: int,
    decision: str,
    *,
    errors: dict[str, str],
    comment: str | None = None,
    status_code: int = 200,
) -> Template:
    """The page that confirms a decision on the request (the emailed link's, or the form again)."""
    item = await approvals.get_request(db, actor, request_id)
    return page(
        request,
        "booking/approval_confirm.html",
        actor=actor,
        nav="approvals",
        status_code=status_code,
        item=item,
        decision=decision,
        errors=errors,
        comment=comment,
    )


_KINDS = {"manager": "line manager", "budget_holder": "budget holder", "admin": "training team"}


def what_happens_next(outcome: approvals.Decision) -> str:
    """After a decision, what it led to: the next approver, or the place the learner now has."""
    name = outcome.approval.learner["name"]
    b = outcome.booking
    waiting = outcome.next_approval
    if b.state == "pending_approval" and waiting is not None:
        kind = _KINDS.get(waiting["kind"], waiting["kind"])
        if waiting["kind"] == "admin":
            return f"It now waits for the {kind} to approve."
        return f"It now waits for approval by {waiting['approver']} ({kind})."
    if b.state == "booked":
        return f"{name} is booked and has been told."
    if b.state == "waitlisted":
        place = f" at number {b.waitlist_position}" if b.waitlist_position else ""
        return f"The session is full: {name} is on the waiting list{place} and has been told."
    if b.state == "declined" and outcome.approval.status == "approved":
        return "The session is full and has no waiting list, so the booking was declined."
    if b.state == "declined":
        return f"{name} has been told, with your comment."
    return f"The booking is now {state_name(b.state).lower()}."


HANDLERS = [queue_page, link_page, decide]
