"""Administrators' course pages: the list (search, status, category and owner filters, pages),
the full course form (new, change, copy), and archive / restore.

Plain forms that work without JavaScript. A refusal shows the form again as it was sent, each
message on its field, with nothing saved (422 for input the rules refuse, 409 for a code another
course has); success redirects (303) to the course's page with a flash message. The course and
its record rules (completion, mandatory, due period) are saved in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.response import Redirect

from booking import catalogue, payments, policy, records
from booking.catalogue import CourseFilter
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ConflictError, ForbiddenError, InvalidError
from booking.kernel.views import CourseView
from booking.web.pages import course_form as cf
from booking.web.pages.forms import form_fields, search_query
from booking.web.pages.render import flash, page

NAV = "admin_courses"
STATUS_LABELS = {"active": "Active", "archived": "Archived", "all": "All"}
# Where a service's refusal is shown on the form (the service names its field).
FIELD_OF = {"discount": "discount_price", "criteria": "completion_rule"}
FORM_FIELDS = {
    "code",
    "title",
    "summary",
    "category",
    "owner_email",
    "price",
    "discount_price",
    "discount_audience",
    "approval",
    "cancellation_policy",
    "no_show_fee",
    "audience",
    "prerequisites",
    "questions",
    "terms_text",
    "certification",
    "completion_rule",
    "due_within_days",
    "reminder_days",
    "escalate_after_days",
    "accepted_courses",
}
PREVIEW_ZONE = "Europe/London"
ADD_BUTTONS = {"add_tier": "tiers", "add_prereq": "prerequisites", "add_question": "questions"}


def only_administrators(actor: Actor) -> None:
    if not policy.can_manage_courses(actor):
        raise ForbiddenError("Only administrators can manage courses.")


@get("/admin/courses", include_in_schema=False)
async def courses_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    q: str | None = None,
    status: str | None = None,
    category: str | None = None,
    owner: str | None = None,
    cursor: str | None = None,
) -> Response[Any]:
    only_administrators(actor)
    wanted = CourseFilter(
        query=search_query(q),
        status=status if status in catalogue.COURSE_STATUSES else "active",
        category=search_query(category) or None,
        owner=search_query(owner) or None,
        cursor=search_query(cursor) or None,
    )
    found = await catalogue.admin_course_list(db, clock, actor, wanted)
    chosen = {
        "q": wanted.query,
        "status": wanted.status,
        "category": wanted.category or "",
        "owner": wanted.owner or "",
    }
    more = urlencode({**chosen, "cursor": found.next_cursor}) if found.next_cursor else None
    return page(
        request,
        "booking/admin_courses.html",
        actor=actor,
        nav=NAV,
        wanted=wanted,
        found=found,
        status_labels=STATUS_LABELS,
        next_link=f"/admin/courses?{more}" if more else None,
        first_page=f"/admin/courses?{urlencode(chosen)}",
    )


@get("/admin/courses/new", include_in_schema=False)
async def new_course_form(
    request: Request[Any, Any, Any], clock: Clock, actor: Actor
) -> Response[Any]:
    only_administrators(actor)
    return _form_page(request, clock, actor, cf.CourseForm().padded())


@get("/admin/courses/{course_id:int}/copy", include_in_schema=False)
async def copy_course_form(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    """The new-course form filled in from the course, with a new code and title suggested;
    nothing is written until it is saved."""
    only_administrators(actor)
    course = await catalogue.get_course(db, clock, actor, course_id)
    rules = await records.get_course_rules(db, actor, course_id)
    form = cf.form_of(course, _rules_form(rules))
    form.code = f"{course.code}-COPY"[:64]
    form.title = f"Copy of {course.title}"[:300]
    return _form_page(request, clock, actor, form.padded(), copied_from=course)


@post("/admin/courses/new", include_in_schema=False, status_code=200)
async def create_course(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    only_administrators(actor)
    sent, action = await _read(request)
    if action is not None:
        return _form_page(request, clock, actor, sent.padded(action))
    parsed = cf.parse(sent)
    if parsed.course is None:
        return _form_page(request, clock, actor, sent, errors=parsed.errors, status_code=422)
    try:
        also = _rules_step(actor, parsed.rules, current=None)
        saved = await catalogue.create_course(db, clock, actor, parsed.course, also=also)
    except (InvalidError, ConflictError) as exc:
        return _refused(request, clock, actor, sent, exc)
    flash(request, f"Course added: {saved.code} {saved.title}.")
    return Redirect(path=f"/admin/courses/{saved.id}", status_code=303)


@get("/admin/courses/{course_id:int}", include_in_schema=False)
async def course_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    only_administrators(actor)
    course = await catalogue.get_course(db, clock, actor, course_id)
    rules = await records.get_course_rules(db, actor, course_id)
    form = cf.form_of(course, _rules_form(rules))
    return _form_page(request, clock, actor, form.padded(), course=course)


@post("/admin/courses/{course_id:int}", include_in_schema=False, status_code=200)
async def update_course(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    only_administrators(actor)
    course = await catalogue.get_course(db, clock, actor, course_id)
    sent, action = await _read(request)
    if action is not None:
        return _form_page(request, clock, actor, sent.padded(action), course=course)
    parsed = cf.parse(sent)
    if parsed.course is None:
        return _form_page(
            request, clock, actor, sent, course=course, errors=parsed.errors, status_code=422
        )
    current = await records.get_course_rules(db, actor, course_id)
    try:
        also = _rules_step(actor, parsed.rules, current=current)
        saved = await catalogue.update_course(db, clock, actor, course_id, parsed.course, also=also)
    except (InvalidError, ConflictError) as exc:
        return _refused(request, clock, actor, sent, exc, course=course)
    message = f"Saved the changes to {saved.code}."
    if course.terms and saved.terms and saved.terms["version"] != course.terms["version"]:
        message += (
            f" The terms are now version {saved.terms['version']}: learners who accepted an "
            "earlier version keep it for the bookings they hold."
        )
    flash(request, message)
    return Redirect(path=f"/admin/courses/{course_id}", status_code=303)


@get("/admin/courses/{course_id:int}/archive", include_in_schema=False)
async def archive_confirm(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    only_administrators(actor)
    course = await catalogue.get_course(db, clock, actor, course_id)
    return page(request, "booking/admin_course_archive.html", actor=actor, nav=NAV, course=course)


@post("/admin/courses/{course_id:int}/archive", include_in_schema=False, status_code=303)
async def archive_course(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    await catalogue.archive_course(db, clock, actor, course_id)
    flash(request, "Course archived: learners no longer see it and it takes no new sessions.")
    return Redirect(path=f"/admin/courses/{course_id}", status_code=303)


@post("/admin/courses/{course_id:int}/restore", include_in_schema=False, status_code=303)
async def restore_course(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, course_id: int
) -> Response[Any]:
    await catalogue.restore_course(db, clock, actor, course_id)
    flash(request, "Course restored: it is back in the catalogue.")
    return Redirect(path=f"/admin/courses/{course_id}", status_code=303)


async def _read(request: Request[Any, Any, Any]) -> tuple[cf.CourseForm, str | None]:
    """The form as sent, and which "Add another" list to grow (None: save)."""
    raw = await form_fields(request)
    posted = await request.form()
    lists = {
        name: [v for v in posted.getall(name) if isinstance(v, str)] if name in posted else []
        for name in ("audience_staff", "discount_staff")
    }
    action = next((rows for button, rows in ADD_BUTTONS.items() if button in raw), None)
    if action is None and "preview" in raw:
        action = "preview"
    return cf.read_form(raw, lists), action


def _rules_form(rules: records.CourseRulesView) -> cf.RulesForm:
    return cf.RulesForm(
        completion_mode=rules.completion_mode or "",
        criteria=", ".join(rules.criteria),
        mandatory=rules.mandatory,
        due_within_days="" if rules.due_within_days is None else str(rules.due_within_days),
        reminder_days=", ".join(str(d) for d in rules.reminder_days),
        escalate_after_days=""
        if rules.escalate_after_days is None
        else str(rules.escalate_after_days),
        accepted_courses=", ".join(rules.accepted_courses),
        certificate=rules.certificate,
    )


def _rules_of(view: records.CourseRulesView) -> dict[str, Any]:
    """The rules as the form's parser gives them (for telling whether they changed)."""
    return {
        "completion_mode": view.completion_mode,
        "criteria": list(view.criteria),
        "mandatory": view.mandatory,
        "due_within_days": view.due_within_days,
        "reminder_days": list(view.reminder_days),
        "escalate_after_days": view.escalate_after_days,
        "accepted_courses": list(view.accepted_courses),
        "certificate": view.certificate,
    }


def _rules_step(
    actor: Actor, wanted: dict[str, Any], *, current: records.CourseRulesView | None
) -> catalogue.AlsoInTransaction | None:
    """The records' rules as a step of the course's transaction, when they change."""
    now = (
        _rules_of(current)
        if current is not None
        else _rules_of(records.CourseRulesView(0, "", None, [], False, None))
    )
    if wanted == now:
        return None
    return records.course_rules_step(actor, **wanted)


def _refused(
    request: Request[Any, Any, Any],
    clock: Clock,
    actor: Actor,
    sent: cf.CourseForm,
    exc: InvalidError | ConflictError,
    *,
    course: CourseView | None = None,
) -> Response[Any]:
    if isinstance(exc, ConflictError):
        errors, status = {"code": exc.detail}, 409
    else:
        name = FIELD_OF.get(exc.field or "", exc.field or "")
        errors, status = {name if name in FORM_FIELDS else "form": exc.detail}, 422
    return _form_page(request, clock, actor, sent, course=course, errors=errors, status_code=status)


def preview_sentence(clock: Clock, form: cf.CourseForm) -> tuple[str | None, datetime]:
    """What a learner would read of the typed cancellation policy, for a session four weeks
    from now at 09:30 (None while the typed policy cannot be read)."""
    day = (clock.now() + timedelta(days=28)).astimezone(ZoneInfo(PREVIEW_ZONE)).date()
    start = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo(PREVIEW_ZONE))
    errors: dict[str, str] = {}
    policy_json = cf.cancellation_policy_of(form, errors)
    price = cf.pence(form.price) if form.price else None
    percents = [t["fee_percent"] for t in (policy_json or {}).get("tiers", [])]
    percents.append((policy_json or {}).get("no_show_fee_percent", 0))
    if errors or not all(0 <= p <= 100 for p in percents):
        return None, start
    try:
        sentence = payments.policy_terms(
            policy_json, price, "GBP", start=start, timezone=PREVIEW_ZONE
        )
    except (OverflowError, ValueError):
        sentence = None
    return sentence, start


def _form_page(
    request: Request[Any, Any, Any],
    clock: Clock,
    actor: Actor,
    form: cf.CourseForm,
    *,
    course: CourseView | None = None,
    copied_from: CourseView | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response[Any]:
    sentence, example_start = preview_sentence(clock, form)
    return page(
        request,
        "booking/admin_course_form.html",
        actor=actor,
        nav=NAV,
        status_code=status_code,
        course=course,
        copied_from=copied_from,
        form=form,
        errors=errors or {},
        preview=sentence,
        preview_start=example_start,
        approval_steps=cf.APPROVAL_STEPS,
        staff_types=cf.STAFF_TYPES,
        question_kinds=cf.QUESTION_KINDS,
    )


HANDLERS = [
    courses_page,
    new_course_form,
    create_course,
    copy_course_form,
    course_page,
    update_course,
    archive_confirm,
    archive_course,
    restore_course,
]
