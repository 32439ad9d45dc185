"""Evidence pages: the learner sends evidence of training done elsewhere from their record page
(errors in place, the form kept); course owners and administrators decide it in a queue, with
the file to download; certificates download as PDF."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from markupsafe import Markup

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.domain.evidence import STATES
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, InvalidError, ServiceError
from booking.web.api.evidence import MAX_EVIDENCE_BODY, file_response, read_upload
from booking.web.pages.forms import form_fields
from booking.web.pages.render import flash, page

QUEUE = "/evidence"
STATE_LABELS = {"pending": "Waiting", "approved": "Approved", "declined": "Declined"}
_FIELDS = ("course_code", "completed_at", "note")


# The course list's options as last rendered, with the list they were rendered from (every
# course not archived: 2,000 options at the benchmark's full scale, rendered on every visit to
# the record page). Rendered again whenever the list differs (`records.evidence_courses`).
_rendered: tuple[tuple[tuple[str, str], ...], Markup] = ((), Markup(""))


def course_options(courses: tuple[tuple[str, str], ...], selected: str) -> Markup:
    """The evidence form's course options (`selected` chosen, as sent back with its errors)."""
    global _rendered
    if selected:
        return _options(courses, selected)
    if _rendered[0] is not courses and _rendered[0] != courses:
        _rendered = (courses, _options(courses, ""))
    return _rendered[1]


def _options(courses: tuple[tuple[str, str], ...], selected: str) -> Markup:
    return Markup("").join(
        Markup('\n        <option value="{}"{}>{} ({})</option>').format(
            code, Markup(" selected") if code == selected else "", title, code
        )
        for code, title in courses
    )


async def record_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    sent: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The learner's own record page, with the evidence form (as sent, when refused) and the
    evidence they sent."""
    record = await records.my_record(db, clock, actor)
    return page(
        request,
        "booking/record.html",
        actor=actor,
        nav="record",
        record=record,
        own=True,
        download_base="/me/record",
        evidence=await records.my_evidence(db, actor),
        evidence_options=course_options(
            await records.evidence_courses(db), (sent or {}).get("course_code", "")
        ),
        evidence_form=sent or {},
        errors=errors or {},
        status_code=status_code,
    )


@post("/me/evidence", include_in_schema=False, request_max_body_size=MAX_EVIDENCE_BODY)
async def send_evidence(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    sent: dict[str, str] = {}
    try:
        sent = {k: v for k, v in (await form_fields(request)).items() if k in _FIELDS}
        upload = await read_upload(request)
        await records.send_evidence(db, clock, actor, upload)
    except ServiceError as exc:
        field = getattr(exc, "field", None) or "file"
        return await record_page(
            request,
            db,
            clock,
            actor,
            errors={field: exc.detail},
            sent=sent,
            status_code=exc.status,
        )
    flash(request, "Evidence sent: the course's owner will look at it and you will be emailed.")
    return Redirect(path="/me/record#evidence-heading", status_code=303)


async def _queue_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    state: str,
    *,
    errors: dict[str, str] | None = None,
    comments: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    shown = state if state in STATES else "pending"
    queue = await records.evidence_queue(db, actor, state=shown)
    return page(
        request,
        "booking/evidence_queue.html",
        actor=actor,
        nav="evidence",
        queue=queue,
        state=shown,
        state_labels=STATE_LABELS,
        errors=errors or {},
        comments=comments or {},
        status_code=status_code,
    )


@get(QUEUE, include_in_schema=False)
async def queue_page(
    request: Request[Any, Any, Any],
    db: Database,
    actor: Actor,
    shown: str = Parameter(query="state", default="pending", max_length=20),
) -> Template:
    return await _queue_page(request, db, actor, shown)


@post(f"{QUEUE}/{{evidence_id:int}}/decision", include_in_schema=False, status_code=303)
async def decide(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, evidence_id: int
) -> Response[Any]:
    form = await form_fields(request)
    comment = form.get(f"comment-{evidence_id}", "")[: records.MAX_EVIDENCE_COMMENT + 1]
    decision = form.get("decision", "")
    try:
        view = await records.decide_evidence(db, clock, actor, evidence_id, decision, comment)
    except (InvalidError, ConflictError) as exc:
        key = f"comment-{evidence_id}" if isinstance(exc, InvalidError) else "form"
        return await _queue_page(
            request,
            db,
            actor,
            "pending",
            errors={key: exc.detail},
            comments={str(evidence_id): comment},
            status_code=exc.status,
        )
    verb = "Approved" if view.state == "approved" else "Declined"
    flash(request, f"{verb}: {view.learner['name']}'s evidence for {view.course['title']}.")
    return Redirect(path=QUEUE, status_code=303)


@get(f"{QUEUE}/{{evidence_id:int}}/file", include_in_schema=False)
async def evidence_file(db: Database, actor: Actor, evidence_id: int) -> Response[bytes]:
    return file_response(await records.evidence_file(db, actor, evidence_id))


HANDLERS = [send_evidence, queue_page, decide, evidence_file]
