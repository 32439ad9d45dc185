"""Learner record pages: my record of learning and required learning, my team (line managers),
a person's record (their manager, administrators), the compliance report and the completions
CSV import (administrators), with CSV and XLSX downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Template

from billing.web import csv_download
from booking import policy, records
from booking.clock import Clock
from booking.db import Database
from booking.kernel.actors import Actor
from booking.kernel.errors import ForbiddenError, InvalidError
from booking.people import STAFF_TYPES
from booking.web.pages import evidence
from booking.web.pages.forms import csv_upload_text
from booking.web.pages.render import NO_STORE, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ext(request: Request[Any, Any, Any]) -> str:
    return request.url.path.rpartition(".")[2]


def _download(body: str | bytes, filename: str) -> Response[Any]:
    if isinstance(body, str):
        return csv_download(body, filename, NO_STORE)
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


def _record_file(record: records.RecordView, ext: str) -> Response[Any]:
    rows = records.record_rows(record)
    name = f"record-of-learning-{record.person.id}.{ext}"
    # programs: a section of the CSV (only with programs), a second sheet of the XLSX
    if ext == "csv":
        body = records.to_csv(records.RECORD_HEADERS, rows)
        return _download(body + records.programs_csv_section(record), name)
    sheet = ("Programs", records.PROGRAM_HEADERS, records.program_rows(record))
    return _download(
        records.to_xlsx("Record of learning", records.RECORD_HEADERS, rows, more=[sheet]), name
    )


# --- the learner ------------------------------------------------------------------------------


@get("/me/record", include_in_schema=False)
async def my_record_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    return await evidence.record_page(request, db, clock, actor)


@get(["/me/record.csv", "/me/record.xlsx"], include_in_schema=False)
async def my_record_download(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    ext = _ext(request)
    return _record_file(await records.my_record(db, clock, actor), ext)


@get("/me/required-learning", include_in_schema=False)
async def required_learning_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    record = await records.my_record(db, clock, actor)
    return page(request, "booking/record_required.html", actor=actor, nav="record", record=record)


# --- managers and administrators --------------------------------------------------------------


@get("/people/{person_id:int}/record", include_in_schema=False)
async def person_record_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, person_id: int
) -> Template:
    record = await records.learner_record(db, clock, actor, person_id)
    return page(
        request,
        "booking/record.html",
        actor=actor,
        nav="team",
        record=record,
        own=record.person.id == actor.person_id,
        download_base=f"/people/{person_id}/record",
    )


@get(
    ["/people/{person_id:int}/record.csv", "/people/{person_id:int}/record.xlsx"],
    include_in_schema=False,
)
async def person_record_download(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor, person_id: int
) -> Response[Any]:
    ext = _ext(request)
    return _record_file(await records.learner_record(db, clock, actor, person_id), ext)


@get("/team", include_in_schema=False)
async def team_page(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    indirect: str = Parameter(query="indirect", default=""),
) -> Template:
    team = await records.my_team(db, clock, actor, indirect=indirect == "1")
    return page(request, "booking/team.html", actor=actor, nav="team", team=team)


@get(["/team.csv", "/team.xlsx"], include_in_schema=False)
async def team_download(
    request: Request[Any, Any, Any],
    db: Database,
    clock: Clock,
    actor: Actor,
    indirect: str = Parameter(query="indirect", default=""),
) -> Response[Any]:
    ext = _ext(request)
    team = await records.my_team(db, clock, actor, indirect=indirect == "1")
    rows = records.team_rows(team)
    if ext == "csv":
        return _download(records.to_csv(records.TEAM_HEADERS, rows), "my-team.csv")
    # programs: each member's programs on a second sheet
    sheet = ("Programs", records.TEAM_PROGRAM_HEADERS, records.team_program_rows(team))
    body = records.to_xlsx("My team", records.TEAM_HEADERS, rows, more=[sheet])
    return _download(body, "my-team.xlsx")


def compliance_params(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """The compliance filters' query parameters, each with every value given."""
    q = request.query_params
    return {k: list(q.getall(k)) for k in records.COMPLIANCE_FILTER_KEYS if k in q}


async def _compliance(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> tuple[records.ComplianceFilters, dict[str, str], list[tuple[str, str]]]:
    """The filters asked for, a message for each that cannot be used, and the unit choices."""
    units = await records.compliance_units(db, actor)
    filters, errors = records.read_compliance_filters(
        compliance_params(request), clock.now().date(), {code for code, _ in units}
    )
    return filters, errors, units


@get("/admin/compliance", include_in_schema=False)
async def compliance_page(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    filters, errors, units = await _compliance(request, db, clock, actor)
    rows = [] if errors else await records.compliance_report(db, clock, actor, filters)
    raw = compliance_params(request)
    return page(
        request,
        "booking/team_compliance.html",
        actor=actor,
        nav="compliance",
        rows=rows,
        as_of=filters.moment(clock.now()),
        filters=filters,
        errors=errors,
        values={k: v[-1] for k, v in raw.items() if v},
        sub_units_checked=filters.sub_units,
        units=[(code, f"{name} ({code})") for code, name in units],
        staff_types=[(t, t.capitalize()) for t in STAFF_TYPES],
        query="" if errors else urlencode(filters.query()),
        status_code=400 if errors else 200,
    )


@get(["/admin/compliance.csv", "/admin/compliance.xlsx"], include_in_schema=False)
async def compliance_download(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Response[Any]:
    ext = _ext(request)
    filters, errors, _ = await _compliance(request, db, clock, actor)
    if errors:
        raise InvalidError(" ".join(errors.values()), next(iter(errors)))
    report = await records.compliance_report(db, clock, actor, filters)
    rows = records.compliance_rows(report)
    if ext == "csv":
        return _download(records.to_csv(records.COMPLIANCE_HEADERS, rows), "compliance.csv")
    return _download(
        records.to_xlsx("Compliance", records.COMPLIANCE_HEADERS, rows), "compliance.xlsx"
    )


@get("/admin/records/import", include_in_schema=False)
async def import_form(request: Request[Any, Any, Any], actor: Actor) -> Template:
    if not policy.can_import_completions(actor):
        raise ForbiddenError("Only administrators can import completions.")
    return page(request, "booking/record_import.html", actor=actor, nav="compliance", results=None)


@post("/admin/records/import", include_in_schema=False, status_code=200)
async def import_upload(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> Template:
    if not policy.can_import_completions(actor):
        raise ForbiddenError("Only administrators can import completions.")
    error = None
    accepted: int = 0
    results: list[records.ItemResult] = []
    status = 200
    try:
        text = await csv_upload_text(request)
        accepted, results = await records.import_completions_csv(db, clock, actor, text)
    except InvalidError as exc:
        error, status = exc.detail, 422
    return page(
        request,
        "booking/record_import.html",
        actor=actor,
        nav="compliance",
        results=results if error is None else None,
        accepted=accepted,
        error=error,
        status_code=status,
    )


HANDLERS = [
    my_record_page,
    my_record_download,
    required_learning_page,
    person_record_page,
    person_record_download,
    team_page,
    team_download,
    compliance_page,
    compliance_download,
    import_form,
    import_upload,
]
