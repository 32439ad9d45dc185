"""JSON API for learner records: the change feed for the e-learning side, completions from it,
records of learning, the manager's team, the compliance report, course completion rules and the
CSV import."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get, put
from litestar import post as post_
from litestar.params import Body, Parameter

from booking import records
from booking.clock import Clock
from booking.db import Database
from booking.domain.learning_vocabulary import CompletionMode
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError
from booking.web.api import examples_learning as examples
from booking.web.api import schemas
from booking.web.api.answers_learning import (
    CompletionImportAnswer,
    CompletionResult,
    CompletionRowResult,
    CompletionsAnswer,
    ComplianceReport,
)
from booking.web.api.openapi_learning import CsvUploadOperation
from booking.web.api.schemas import NO_NUL, CourseCode, Int32
from booking.web.inputs import admins_only

MAX_CSV_BYTES = 5_000_000


class CompletionRuleIn(msgspec.Struct):
    mode: CompletionMode
    criteria: list[CourseCode]


class RecordRulesIn(msgspec.Struct):
    completion_rule: CompletionRuleIn | None = None
    mandatory: bool = False
    due_within_days: Int32 | None = None
    # Day 1 is the day the requirement applied.
    reminder_days: list[Int32] = msgspec.field(default_factory=lambda: [1, 7, 14, 21])
    # null: the line manager is never told.
    escalate_after_days: Int32 | None = 28
    accepted_courses: list[CourseCode] = []
    certificate: bool = False


@get(
    "/records",
    summary="Completions and attendance changed since a cursor, oldest first",
    responses=examples.FEED_ANSWER,
)
async def records_feed(
    db: Database,
    actor: Actor,
    since: str | None = Parameter(
        query="since",
        required=False,
        max_length=40,
        pattern=NO_NUL,
        description="`next_cursor` of the previous answer",
    ),
    limit: int = Parameter(query="limit", ge=1, le=records.FEED_LIMIT, default=500),
) -> records.FeedPage:
    return await records.records_feed(db, actor, since=since, limit=limit)


@get("/people/{person_id:int}/record", summary="A person's record of learning")
async def person_record(
    db: Database, clock: Clock, actor: Actor, person_id: int
) -> records.RecordView:
    return await records.learner_record(db, clock, actor, person_id)


@get("/me/record", summary="My record of learning, with required learning")
async def my_record(db: Database, clock: Clock, actor: Actor) -> records.RecordView:
    return await records.my_record(db, clock, actor)


@get(
    "/me/team",
    summary="My reports (direct; with indirect=true, everyone below me): bookings, records, "
    "certifications, compliance",
)
async def my_team(
    db: Database,
    clock: Clock,
    actor: Actor,
    indirect: bool = Parameter(query="indirect", default=False),
) -> records.TeamView:
    return await records.my_team(db, clock, actor, indirect=indirect)


@get("/reports/compliance", summary="Compliance by organisation unit and staff type")
async def compliance_report(
    db: Database,
    clock: Clock,
    actor: Actor,
    unit: str | None = Parameter(
        query="unit", required=False, max_length=100, description="an organisation unit's code"
    ),
    sub_units: str | None = Parameter(
        query="sub_units",
        required=False,
        max_length=10,
        description="with the unit's sub-units (`true`, the default) or its own people only",
    ),
    staff_type: str | None = Parameter(
        query="staff_type", required=False, max_length=20, description="payroll, casual, ..."
    ),
    as_of: str | None = Parameter(
        query="as_of",
        required=False,
        max_length=20,
        description="YYYY-MM-DD, not in the future: as at the end of that day (UTC)",
    ),
) -> ComplianceReport:
    raw = {
        key: [value]
        for key, value in (
            ("unit", unit),
            ("sub_units", sub_units),
            ("staff_type", staff_type),
            ("as_of", as_of),
        )
        if value is not None
    }
    units = await records.compliance_units(db, actor)
    filters, errors = records.read_compliance_filters(
        raw, clock.now().date(), {code for code, _ in units}
    )
    if errors:
        raise InvalidError(" ".join(errors.values()), next(iter(errors)))
    return ComplianceReport(await records.compliance_report(db, clock, actor, filters))


@get(
    "/courses/{course_id:int}/record-rules",
    summary="How a course is completed",
    guards=[admins_only],
)
async def get_record_rules(db: Database, actor: Actor, course_id: int) -> records.CourseRulesView:
    return await records.get_course_rules(db, actor, course_id)


@put(
    "/courses/{course_id:int}/record-rules",
    summary="Set how a course is completed and whether it is mandatory",
    status_code=200,
    guards=[admins_only],
)
async def put_record_rules(
    db: Database, clock: Clock, actor: Actor, course_id: int, data: RecordRulesIn
) -> records.CourseRulesView:
    rule = data.completion_rule
    return await records.set_course_rules(
        db,
        clock,
        actor,
        course_id,
        completion_mode=rule.mode if rule else None,
        criteria=rule.criteria if rule else [],
        mandatory=data.mandatory,
        due_within_days=data.due_within_days,
        reminder_days=data.reminder_days,
        escalate_after_days=data.escalate_after_days,
        accepted_courses=data.accepted_courses,
        certificate=data.certificate,
    )


@post_(
    "/records/completions",
    summary="Completions from the e-learning side",
    status_code=200,
    responses=examples.COMPLETIONS_ANSWER,
)
async def post_completions(
    db: Database,
    clock: Clock,
    actor: Actor,
    data: Annotated[list[schemas.CompletionIn], Body(examples=examples.COMPLETIONS_BODY)],
) -> CompletionsAnswer:
    accepted, results = await records.record_completions(
        db,
        clock,
        actor,
        [
            records.CompletionInput(
                course_code=c.course_code,
                completed_at=c.completed_at,
                learner_email=c.learner_email,
                personnel_number=c.personnel_number,
                source=c.source,
            )
            for c in data
        ],
    )
    return CompletionsAnswer(
        accepted, [CompletionResult(r.index, r.status, r.message) for r in results]
    )


@post_(
    "/records/completions/import",
    summary="Import completions from a CSV file (administrators)",
    status_code=200,
    operation_class=CsvUploadOperation,
)
async def import_completions(
    request: Request[Any, Any, Any], db: Database, clock: Clock, actor: Actor
) -> CompletionImportAnswer:
    body = await request.body()
    if len(body) > MAX_CSV_BYTES:
        raise InvalidError("The file is larger than 5 MB; split it.", "file")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidError("The file must be UTF-8 text.", "file") from None
    accepted, results = await records.import_completions_csv(db, clock, actor, text)
    return CompletionImportAnswer(
        accepted, [CompletionRowResult(r.index, r.status, r.message) for r in results]
    )


def records_api_router() -> Router:
    """Mounted inside the `/api/v1` router (which provides `actor`)."""
    return Router(
        path="/",
        route_handlers=[
            records_feed,
            person_record,
            my_record,
            my_team,
            compliance_report,
            get_record_rules,
            put_record_rules,
            import_completions,
        ],
        tags=["records"],
    )
